package main

import (
	"cmp"
	"context"
	"net"

	// Aliased: the tests of this package have a type daemon.
	kdaemon "github.com/khantara/khantara/daemon"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
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

// runDaemon loads the configuration, builds the daemon and serves it until
// the first signal, then shuts it down (signals.shutdown).
func runDaemon(c *cli.Context) error {
	cfg, err := loadDaemonConfig(c)
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	log := kdaemon.NewLogger(c.App.ErrWriter, cfg.Log)
	if limit := kdaemon.ApplyMemoryLimit(cfg); limit.From != "" {
		log.Debug("The Go runtime has a soft memory limit.", "bytes", limit.Bytes, "from", limit.From)
	}
	sigs := notifySignals()
	defer sigs.stop()

	d, err := kdaemon.New(cfg, kdaemon.WithLogger(log))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{})
	var serveErr error // set before served closes
	go func() {
		defer close(served)
		serveErr = d.Serve(ctx)
	}()

	n, api := d.Node(), d.APIAddr()
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()})
	log.Info("Daemon is running.", "peer", n.ID(), "addrs", addrs, "api", "http://"+api, "web", "http://"+api+"/",
		"network", cfg.Node.Network, "config", cmp.Or(cfg.File, "none"))
	if !isLoopback(api) {
		log.Warn("The API is reachable from other machines, which can read the catalogue without a token; set api to 127.0.0.1:PORT unless that is intended.", "api", api)
	}

	if sigs.wait(c.Context, served) {
		return serveErr // a service failed; the others are stopped already
	}
	log.Info("Daemon is shutting down; a second signal stops it at once.")
	cancel()
	if err := sigs.shutdown(served, "second signal: stopped without finishing the shutdown",
		"shutdown did not finish within "+shutdownTimeout.String()+"; stopped anyway"); err != nil {
		return err
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("Daemon stopped.")
	return nil
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
