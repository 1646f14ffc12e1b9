package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

const (
	// defaultAPIAddr is where the local API listens unless --api says otherwise.
	defaultAPIAddr = "127.0.0.1:7118"
	// apiFile, in the home directory, holds the running daemon's API
	// address (HOST:PORT); it exists only while the daemon runs.
	apiFile = "api"
	// apiTokenFile, in the home directory, holds the API's bearer token.
	apiTokenFile = "api.token"
	// shutdownTimeout bounds the graceful shutdown after the first signal.
	shutdownTimeout = 10 * time.Second
)

func daemonCommand() *cli.Command {
	return &cli.Command{
		Name:  "daemon",
		Usage: "run a node: join the federation and serve the local API",
		Description: "The daemon runs until SIGINT or SIGTERM; the first signal shuts it down\n" +
			"gracefully (at most 10s), a second one stops it at once. While it runs,\n" +
			"HOME/api holds the API's address and HOME/api.token its bearer token.\n\n" +
			"Settings come from flags, then KHANTARA_* environment variables (lists\n" +
			"comma-separated), then the config file (--config, else HOME/config.yaml\n" +
			"when it exists), then the defaults. The config keys are the flag names\n" +
			"with '_' for '-'; trust, allow and deny are mode, allow and deny under\n" +
			"trust:, log-level and log-format are level and format under log:.\n" +
			"configs/khantara.example.yaml documents every key. A bad setting stops\n" +
			"the daemon with one line naming it and exit code 2.",
		Flags:        withGlobals(daemonFlags()...),
		OnUsageError: daemonUsageError,
		Action:       runDaemon,
	}
}

func runDaemon(c *cli.Context) error {
	cfg, ds, err := loadDaemonConfig(c)
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	log := newLogger(c.App.ErrWriter, ds.Log)

	// Signals are counted here; main's context ends on the first one.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	n, err := node.New(cfg, node.WithLogger(log))
	if err != nil {
		return err
	}
	api, err := startAPI(n, cfg.Home, ds.API, log)
	if err != nil {
		n.Close()
		return err
	}
	stop := func(ctx context.Context) error {
		err := api.Shutdown(ctx)
		if cerr := n.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close the node: %w", cerr))
		}
		return err
	}
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()})
	log.Info("Daemon is running.", "peer", n.ID(), "addrs", addrs, "api", "http://"+api.Addr(), "web", "http://"+api.Addr()+"/",
		"network", cfg.Network, "config", cmp.Or(ds.File, "none"))
	if !isLoopback(api.Addr()) {
		log.Warn("The API is reachable from other machines, which can read the catalogue without a token; set api to 127.0.0.1:PORT unless that is intended.", "api", api.Addr())
	}

	var failed error
	signals := 0
	select {
	case <-c.Context.Done():
	case <-sigs:
		signals++
	case err := <-api.Done():
		failed = fmt.Errorf("the API server stopped: %w", err)
	}
	log.Info("Daemon is shutting down; a second signal stops it at once.")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- stop(ctx) }()
	for {
		select {
		case err := <-done:
			if err = errors.Join(failed, err); err != nil {
				return err
			}
			log.Info("Daemon stopped.")
			return nil
		case <-sigs:
			// The signal that ended c.Context arrives here too.
			if signals++; signals >= 2 {
				return cli.Exit("second signal: stopped without finishing the shutdown", 1)
			}
		case <-ctx.Done():
			return cli.Exit(fmt.Sprintf("shutdown did not finish within %v; stopped anyway", shutdownTimeout), 1)
		}
	}
}

// logLevels are the values of log.level.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// newLogger returns the daemon's logger, writing to w (stderr) in the
// format and from the level of l, which validate has checked.
func newLogger(w io.Writer, l logSettings) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[strings.ToLower(l.Level)]}
	if strings.EqualFold(l.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// isLoopback reports whether the API address addr (HOST:PORT) can be
// reached only from this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
