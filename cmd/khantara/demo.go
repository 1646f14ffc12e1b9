package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

const (
	// demoNetwork keeps demo gossip and sync apart from the real network.
	demoNetwork = "khantara-demo"
	// demoListen is the only address a demo node listens on.
	demoListen = "/ip4/127.0.0.1/tcp/0"
	// demoSyncInterval is shorter than a real node's, so the demo heals
	// quickly when a user stops and restarts things.
	demoSyncInterval = 10 * time.Second
	// demoTryFile, in the demo directory, is a sheet no node publishes.
	demoTryFile = "try-me.yaml"
	// demoIdentityFile is a node's key in its home; a directory holding
	// one is a real node's home and never hosts the demo.
	demoIdentityFile = "identity.key"
	// demoShutdownTimeout bounds the graceful shutdown of all nodes.
	demoShutdownTimeout = 10 * time.Second
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run a small local federation of throwaway nodes carrying the demo catalogue",
		Description: "The demo starts several real nodes on loopback, each with a new identity in a\n" +
			"home of its own under DIR, on the separate network \"" + demoNetwork + "\", and links them\n" +
			"in a line. Each publishes part of the demo catalogue; the demo waits until every\n" +
			"node holds all of it, prints what to try next and runs until SIGINT or SIGTERM.\n" +
			"It never reads or writes your own node's home (--home).",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: 4, Usage: fmt.Sprintf("how many nodes, %d to %d", demo.MinNodes, demo.MaxNodes)},
			&cli.StringFlag{Name: "dir", Usage: "new or empty `DIR` for the nodes' homes, kept at the end (default: a temporary directory, removed at the end)"},
			&cli.BoolFlag{Name: "keep", Usage: "keep the temporary directory at the end"},
			&cli.BoolFlag{Name: "once", Usage: "exit as soon as every node holds the whole catalogue (for tests and CI)"},
			&cli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "how long the nodes may take to connect and converge (`DURATION`)"},
			&cli.BoolFlag{Name: "verbose", Usage: "log the nodes' info messages, not only warnings"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	pubs, err := demo.Publishers(c.Int("nodes"))
	if err != nil {
		return cli.Exit("nodes: "+err.Error(), 2)
	}
	if c.Duration("timeout") <= 0 {
		return cli.Exit("timeout: must be positive, e.g. 60s", 2)
	}
	dir, temp, err := demoDir(c.String("dir"), homeDir(c))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	keep := !temp || c.Bool("keep")
	out := c.App.Writer

	// Signals are counted here; main's context ends on the first one.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))

	fmt.Fprintf(out, "Starting %d demo nodes on loopback, network %q, homes in %s\n", len(pubs), demoNetwork, dir)
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	defer cancel()
	f, err := startDemo(ctx, dir, pubs, log)
	if err == nil {
		err = f.publish(ctx)
	}
	if err == nil {
		err = f.converge(ctx, out)
	}
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the demo nodes were not ready in time (--timeout %v); rerun with --verbose to see why", c.Duration("timeout"))
	}
	once := c.Bool("once")
	if err == nil {
		f.printGuide(out, os.Args[0], keep, once)
	}

	var failed error
	signals := 0
	switch {
	case c.Context.Err() != nil:
		// Interrupted: the user's choice, but with --once a failure.
		if once && err != nil {
			failed = errors.New("interrupted before the nodes converged")
		}
	case err != nil:
		failed = err
	case !once:
		select {
		case <-c.Context.Done():
		case <-sigs:
			signals++
		case failed = <-f.failed:
		}
	}
	if f != nil {
		if once {
			fmt.Fprintln(out, "Stopping the demo nodes.")
		} else {
			fmt.Fprintln(out, "Stopping the demo nodes; a second signal stops them at once.")
		}
		if err := f.stop(sigs, signals); err != nil {
			var ec exitCoder
			if errors.As(err, &ec) {
				return err
			}
			failed = errors.Join(failed, err)
		}
	}
	if keep {
		fmt.Fprintf(out, "The demo files stay in %s.\n", dir)
	} else if err := os.RemoveAll(dir); err != nil {
		failed = errors.Join(failed, fmt.Errorf("remove the demo directory: %w", err))
	} else {
		fmt.Fprintf(out, "Removed %s.\n", dir)
	}
	if failed != nil {
		return cli.Exit(failed.Error(), 1)
	}
	return nil
}

// demoDir returns the directory for the demo's homes: dir, created if
// missing, or a new temporary directory when dir is empty (then temp is
// true). It refuses the user's own home, a directory holding an identity
// (a real node's home) and any directory that is not empty.
func demoDir(dir, home string) (_ string, temp bool, _ error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "khantara-demo-")
		if err != nil {
			return "", false, fmt.Errorf("create a temporary directory for the demo: %w", err)
		}
		return d, true, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, fmt.Errorf("dir: %w", err)
	}
	if h, err := filepath.Abs(home); err == nil && home != "" && h == abs {
		return "", false, fmt.Errorf("dir: %s is your node's home (--home); the demo needs a directory of its own", dir)
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", false, fmt.Errorf("dir: %w", err)
		}
		return abs, false, nil
	case err != nil:
		return "", false, fmt.Errorf("dir: %w", err)
	}
	if _, err := os.Lstat(filepath.Join(abs, demoIdentityFile)); err == nil {
		return "", false, fmt.Errorf("dir: %s holds %s, so it is a node's home; the demo never publishes under a real identity: name a new or empty directory", dir, demoIdentityFile)
	}
	if len(entries) > 0 {
		return "", false, fmt.Errorf("dir: %s is not empty; name a new or empty directory, or leave out --dir for a temporary one", dir)
	}
	return abs, false, nil
}

// demoFederation is the running demo: real nodes, each with its own host,
// store and API server, linked in a line. It is owned by one goroutine.
type demoFederation struct {
	dir   string
	nodes []*demoNode
	total int // practices in the demo catalogue
	// failed delivers API servers that stopped on their own.
	failed  chan error
	watches sync.WaitGroup
}

type demoNode struct {
	name string // node1-italy
	home string
	pub  demo.Publisher
	n    *node.Node
	api  *apiServer
}

// startDemo starts one node per publisher, each in a new home under dir,
// each bootstrapping from the one before, and returns once every node is
// connected to its predecessor. On error nothing is left running.
func startDemo(ctx context.Context, dir string, pubs []demo.Publisher, log *slog.Logger) (_ *demoFederation, err error) {
	f := &demoFederation{dir: dir, failed: make(chan error, len(pubs))}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), demoShutdownTimeout)
			defer cancel()
			f.shutdown(sctx)
		}
	}()
	var boot []string
	for i, p := range pubs {
		f.total += len(p.Sheets)
		d, err := f.startNode(fmt.Sprintf("node%d-%s", i+1, p.Slug), p, boot, log)
		if err != nil {
			return nil, err
		}
		addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: d.n.ID(), Addrs: d.n.Host().Addrs()})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		boot = boot[:0]
		for _, a := range addrs {
			boot = append(boot, a.String())
		}
	}
	if err := os.WriteFile(filepath.Join(dir, demoTryFile), []byte(demo.TrySheet), 0o644); err != nil {
		return nil, fmt.Errorf("write the sheet to try: %w", err)
	}
	for i := 1; i < len(f.nodes); i++ {
		if err := demoWaitConnected(ctx, f.nodes[i].n, f.nodes[i-1].n.ID()); err != nil {
			return nil, fmt.Errorf("%s did not connect to %s: %w", f.nodes[i].name, f.nodes[i-1].name, err)
		}
	}
	return f, nil
}

func (f *demoFederation) startNode(name string, p demo.Publisher, boot []string, log *slog.Logger) (*demoNode, error) {
	home := filepath.Join(f.dir, name)
	// A home made here, now, cannot hold anyone's identity: node.New
	// creates a fresh one in it.
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, fmt.Errorf("create the home of %s: %w", name, err)
	}
	cfg := node.DefaultConfig(home)
	cfg.Network = demoNetwork
	cfg.Listen = []string{demoListen}
	cfg.Bootstrap = slices.Clone(boot)
	cfg.MDNS, cfg.NAT = false, false
	cfg.SyncInterval = demoSyncInterval
	log = log.With("node", name)
	n, err := node.New(cfg, node.WithLogger(log),
		// The demo catalogue is small; so are the stores' buffers.
		node.WithStoreOptions(store.WithMemTableSize(4<<20), store.WithCacheSize(4<<20)))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	api, err := startAPI(n, home, "127.0.0.1:0", log)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("start the API of %s: %w", name, err)
	}
	d := &demoNode{name: name, home: home, pub: p, n: n, api: api}
	f.nodes = append(f.nodes, d)
	f.watches.Add(1)
	go func() {
		defer f.watches.Done()
		if err := <-api.Done(); !errors.Is(err, http.ErrServerClosed) {
			f.failed <- fmt.Errorf("the API server of %s stopped: %w", name, err)
		}
	}()
	return d, nil
}

// demoWaitConnected returns once n is connected to p, or when ctx ends.
func demoWaitConnected(ctx context.Context, n *node.Node, p peer.ID) error {
	sub, err := n.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	defer sub.Close()
	if n.Host().Network().Connectedness(p) == network.Connected {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-sub.Out():
			if e := ev.(event.EvtPeerConnectednessChanged); e.Peer == p && e.Connectedness == network.Connected {
				return nil
			}
		}
	}
}

// publish makes every node announce its profile, then its sheets.
func (f *demoFederation) publish(ctx context.Context) error {
	for _, d := range f.nodes {
		prof := d.pub.Profile
		if _, err := d.n.SetProfile(ctx, &prof); err != nil {
			return fmt.Errorf("%s: publish the profile: %w", d.name, err)
		}
		for _, s := range d.pub.Sheets {
			if _, err := d.n.Publish(ctx, s); err != nil {
				return fmt.Errorf("%s: publish %s: %w", d.name, s.ID, err)
			}
		}
	}
	return nil
}

// converge waits until every node holds every practice and profile and all
// digests agree, printing progress as it changes.
func (f *demoFederation) converge(ctx context.Context, w io.Writer) error {
	start := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		line, done, err := f.progress()
		if err != nil {
			return err
		}
		if line != last {
			fmt.Fprintf(w, "  practices held: %s\n", line)
			last = line
		}
		if done {
			fmt.Fprintf(w, "Every node holds all %d practices and %d profiles, after %v.\n",
				f.total, len(f.nodes), time.Since(start).Round(10*time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the demo nodes did not converge in time (%s); rerun with --verbose to see why", line)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// progress reads every node's store: a line of counts, and whether all
// nodes hold the whole catalogue with the same digest.
func (f *demoFederation) progress() (line string, done bool, err error) {
	parts := make([]string, len(f.nodes))
	digests := map[[16]byte]bool{}
	done = true
	for i, d := range f.nodes {
		c, dg, err := d.n.Store().Counts()
		if err != nil {
			return "", false, fmt.Errorf("%s: count the catalogue: %w", d.name, err)
		}
		parts[i] = fmt.Sprintf("%s %d/%d", d.name, c.Practices, f.total)
		digests[dg.Fingerprint()] = true
		done = done && c.Practices == uint64(f.total) && c.Profiles == uint64(len(f.nodes))
	}
	return strings.Join(parts, ", "), done && len(digests) == 1, nil
}

// stop shuts the federation down within demoShutdownTimeout, counting
// signals on sigs (signals were counted already): the second one gives up
// at once, with an exit error.
func (f *demoFederation) stop(sigs <-chan os.Signal, signals int) error {
	ctx, cancel := context.WithTimeout(context.Background(), demoShutdownTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.shutdown(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		case <-sigs:
			// The signal that ended the command's context arrives here too.
			if signals++; signals >= 2 {
				return cli.Exit("second signal: stopped without finishing the shutdown; the demo files stay in "+f.dir, 1)
			}
		case <-ctx.Done():
			return cli.Exit(fmt.Sprintf("the demo nodes did not stop within %v; the demo files stay in %s", demoShutdownTimeout, f.dir), 1)
		}
	}
}

// shutdown stops every API server and node, all at once, and waits for
// them. It is safe to call more than once.
func (f *demoFederation) shutdown(ctx context.Context) error {
	errs := make([]error, len(f.nodes))
	var wg sync.WaitGroup
	for i, d := range f.nodes {
		wg.Go(func() {
			err := d.api.Shutdown(ctx)
			if cerr := d.n.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
			if err != nil {
				errs[i] = fmt.Errorf("stop %s: %w", d.name, err)
			}
		})
	}
	wg.Wait()
	f.watches.Wait()
	return errors.Join(errs...)
}

// printGuide tells the user what runs where and what to try next; prog is
// how the user called this binary.
func (f *demoFederation) printGuide(w io.Writer, prog string, keep, once bool) {
	first, last := f.nodes[0], f.nodes[len(f.nodes)-1]
	fmt.Fprintf(w, "\nThe demo federation is running: %d nodes linked in a line, %s.\n", len(f.nodes), f.chain())
	fmt.Fprintf(w, "Each node has a new, throwaway identity and says so in its profile; your own node is not involved.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE\tPUBLISHES\tHOLDS\tPEER ID\tAPI")
	for _, d := range f.nodes {
		c, _, _ := d.n.Store().Counts()
		fmt.Fprintf(tw, "  %s\t%d (%s)\t%d\t%s\thttp://%s\n", d.name, len(d.pub.Sheets), strings.Join(d.pub.Countries, " "), c.Practices, d.n.ID(), d.api.Addr())
	}
	tw.Flush()

	example := first.pub.Sheets[0].ID
	if slices.ContainsFunc(first.pub.Sheets, func(s *protocol.FactSheet) bool { return s.ID == "al-khantara-sicilia" }) {
		example = "al-khantara-sicilia"
	}
	via := "straight from " + first.name
	if len(f.nodes) > 2 {
		via = fmt.Sprintf("published by %s, %d hops away, delivered by %s", first.name, len(f.nodes)-1, f.nodes[len(f.nodes)-2].name)
	}
	home := func(d *demoNode) string { return prog + " --home " + d.home }
	fmt.Fprintf(w, "\nOpen the web page of %s in a browser: http://%s/\n", last.name, last.api.Addr())
	fmt.Fprintf(w, "(every node serves one at its API address: search, facets, charts, each practice with its provenance, the network)\n")
	fmt.Fprintf(w, "\nEach node's home (under %s) tells the CLI where its API is. Try, in another terminal:\n\n", f.dir)
	fmt.Fprintf(w, "  %s list\n", home(last))
	fmt.Fprintf(w, "  %s show %s/%s\n", home(last), first.n.ID(), example)
	fmt.Fprintf(w, "      # %s\n", via)
	fmt.Fprintf(w, "  %s search integrazione lavoro      # Italian, stemmed\n", home(last))
	fmt.Fprintf(w, "  %s stats --by dimension\n", home(last))
	fmt.Fprintf(w, "  %s status\n", home(last))
	fmt.Fprintf(w, "  %s peers\n", home(f.nodes[1]))
	fmt.Fprintf(w, "  curl -s http://%s/api/v1/status\n", last.api.Addr())
	fmt.Fprintf(w, "\nPublish at one end of the line, read at the other:\n\n")
	fmt.Fprintf(w, "  %s publish %s\n", home(first), filepath.Join(f.dir, demoTryFile))
	fmt.Fprintf(w, "  %s show %s/%s\n", home(last), first.n.ID(), demo.TrySheetID)
	fmt.Fprintf(w, "  %s retract %s --reason \"just trying\"\n", home(first), demo.TrySheetID)
	fmt.Fprintf(w, "  %s list --retracted      # retracted on %s too\n", home(last), last.name)
	fmt.Fprintf(w, "\nAfter that, README.md's five-minute tour sets up a node of your own, with your own identity.\n")
	switch {
	case once:
		fmt.Fprintf(w, "--once: the demo stops now.\n")
	case keep:
		fmt.Fprintf(w, "Stop the demo with Ctrl-C; its files stay in %s.\n", f.dir)
	default:
		fmt.Fprintf(w, "Stop the demo with Ctrl-C; it then removes %s (--keep keeps it).\n", f.dir)
	}
}

// chain is "node1-italy - node2-nordics - ...".
func (f *demoFederation) chain() string {
	names := make([]string, len(f.nodes))
	for i, d := range f.nodes {
		names[i] = d.name
	}
	return strings.Join(names, " - ")
}
