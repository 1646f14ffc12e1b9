package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
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
	def := node.DefaultConfig("")
	return &cli.Command{
		Name:  "daemon",
		Usage: "run a node: join the federation and serve the local API",
		Description: "The daemon runs until SIGINT or SIGTERM; the first signal shuts it down\n" +
			"gracefully (at most 10s), a second one stops it at once. While it runs,\n" +
			"HOME/api holds the API's address and HOME/api.token its bearer token.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "network", Value: def.Network, Usage: "federation `NAME`; nodes talk only within one network"},
			&cli.StringSliceFlag{Name: "listen", Value: cli.NewStringSlice(def.Listen...), Usage: "`MULTIADDR` to listen on"},
			&cli.StringSliceFlag{Name: "bootstrap", Usage: "peer `MULTIADDR` ending in /p2p/<peer ID> to dial"},
			&cli.BoolFlag{Name: "mdns", Value: def.MDNS, Usage: "find peers on the local network"},
			&cli.BoolFlag{Name: "nat", Value: def.NAT, Usage: "map ports with UPnP/NAT-PMP and punch holes through NATs"},
			&cli.StringFlag{Name: "api", Value: defaultAPIAddr, Usage: "`HOST:PORT` of the local HTTP API; port 0 picks a free port"},
			&cli.StringFlag{Name: "trust", Value: def.Trust.Mode, Usage: "publisher policy: open (keep every signer) or allowlist (keep only --allow)"},
			&cli.StringSliceFlag{Name: "allow", Usage: "publisher `PEER_ID` kept in allowlist mode"},
			&cli.StringSliceFlag{Name: "deny", Usage: "publisher `PEER_ID` never kept"},
			&cli.DurationFlag{Name: "sync-interval", Value: def.SyncInterval, Usage: "how often to reconcile with a random peer (`DURATION`, e.g. 30s)"},
		),
		Action: runDaemon,
	}
}

func runDaemon(c *cli.Context) error {
	cfg := node.DefaultConfig(homeDir(c))
	cfg.Network = c.String("network")
	cfg.Listen = c.StringSlice("listen")
	cfg.Bootstrap = c.StringSlice("bootstrap")
	cfg.MDNS, cfg.NAT = c.Bool("mdns"), c.Bool("nat")
	cfg.SyncInterval = c.Duration("sync-interval")
	cfg.Trust = node.Trust{Mode: c.String("trust"), Allow: c.StringSlice("allow"), Deny: c.StringSlice("deny")}
	if err := cfg.Validate(); err != nil {
		return cli.Exit(err.Error(), 2)
	}
	apiAddr := c.String("api")
	if _, _, err := net.SplitHostPort(apiAddr); err != nil {
		return cli.Exit(fmt.Sprintf("api: %q is not HOST:PORT; write e.g. %s", apiAddr, defaultAPIAddr), 2)
	}

	// Signals are counted here; main's context ends on the first one.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	n, err := node.New(cfg, node.WithLogger(log))
	if err != nil {
		return err
	}
	api, err := startAPI(n, cfg.Home, apiAddr, log)
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
	log.Info("Daemon is running.", "peer", n.ID(), "addrs", addrs, "api", "http://"+api.Addr())

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

