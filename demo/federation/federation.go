package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/khantara/khantara/daemon"
	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// Network keeps demo gossip and sync apart from the real network.
	Network = "khantara-demo"
	// TryFile is the file, in the demo directory, of a sheet no node
	// publishes, for the user to try.
	TryFile = "try-me.yaml"
	// listen is the only address a demo node listens on.
	listen = "/ip4/127.0.0.1/tcp/0"
	// syncInterval is shorter than a real node's, so the demo heals
	// quickly when a user stops and restarts things.
	syncInterval = 10 * time.Second
)

// Federation is the running demo: real nodes, each with its own host,
// store and API server, linked in a line. Its methods other than Done,
// Err and Shutdown are for the one goroutine that owns it.
type Federation struct {
	dir         string
	nodes       []*Node
	orgs        []*Org
	total       int // practices in the demo catalogue
	experiences int // experience records published (Publish sets it)

	stop context.CancelFunc // ends the nodes' Group
	done chan struct{}      // closed when the Group has returned
	err  error              // the Group's error, set before done closes
}

// Node is one demo node.
type Node struct {
	// Name is the node's name, such as node1-italy.
	Name string
	// Home is the node's data directory, under the demo directory.
	Home string
	// Publisher is what the node publishes.
	Publisher demo.Publisher
	// Org is the organisation the node publishes for; For is the one
	// whose ID its share goes under (Org, except on the network's node,
	// which publishes its share for a member).
	Org, For *Org
	d        *daemon.Daemon
}

// Node is the running node.
func (n *Node) Node() *node.Node { return n.d.Node() }

// APIAddr is the HOST:PORT of the node's API.
func (n *Node) APIAddr() string { return n.d.APIAddr() }

// Practices is how many practices the node holds (0 when it cannot tell).
func (n *Node) Practices() uint64 {
	c, _, _ := n.d.Node().Store().Counts()
	return c.Practices
}

// Start starts one node per publisher, each in a new home under dir, each
// bootstrapping from the one before, writes TryFile to dir, and returns
// once every node is connected to its predecessor (or ctx ends) and the
// demo's organisations (demo.Organisations) exist: each created with a
// rotation key of its own (written to KeysFile in dir), its genesis
// delegating its nodes, which publish for it from then on. On error
// nothing is left running.
func Start(ctx context.Context, dir string, pubs []demo.Publisher, log *slog.Logger) (_ *Federation, err error) {
	f := &Federation{dir: dir, done: make(chan struct{})}
	var built []*daemon.Daemon
	defer func() {
		if err != nil && f.stop == nil {
			for _, d := range built {
				d.Close()
			}
		}
	}()
	var boot []string
	for i, p := range pubs {
		f.total += len(p.Sheets)
		n, err := f.build(fmt.Sprintf("node%d-%s", i+1, p.Slug), p, boot, log)
		if err != nil {
			return nil, err
		}
		built = append(built, n.d)
		if boot, err = p2pAddrs(n.Node()); err != nil {
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, TryFile), []byte(demo.TrySheet), 0o644); err != nil {
		return nil, fmt.Errorf("write the sheet to try: %w", err)
	}
	f.serve()
	for i := 1; i < len(f.nodes); i++ {
		if err := waitConnected(ctx, f.nodes[i].Node(), f.nodes[i-1].Node().ID()); err != nil {
			return nil, errors.Join(fmt.Errorf("%s did not connect to %s: %w", f.nodes[i].Name, f.nodes[i-1].Name, err), f.Shutdown(context.Background()))
		}
	}
	if err := f.organise(ctx, pubs); err != nil {
		return nil, errors.Join(fmt.Errorf("create the demo's organisations: %w", err), f.Shutdown(context.Background()))
	}
	return f, nil
}

// build makes a new home under f.dir and starts a node in it.
func (f *Federation) build(name string, p demo.Publisher, boot []string, log *slog.Logger) (*Node, error) {
	home := filepath.Join(f.dir, name)
	// A home made here, now, cannot hold anyone's identity: the node
	// creates a fresh one in it.
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, fmt.Errorf("create the home of %s: %w", name, err)
	}
	cfg := daemon.DefaultConfig(home)
	cfg.Node.Network = Network
	cfg.Node.Listen = []string{listen}
	cfg.Node.Bootstrap = slices.Clone(boot)
	cfg.Node.MDNS, cfg.Node.NAT = false, false
	// No DHT: its rendezvous would link every node to every other, and the
	// demo keeps its line topology so that records visibly travel through
	// the middle nodes. All of them are on loopback anyway.
	cfg.Node.Reach.DHT = node.ModeOff
	cfg.Node.SyncInterval = syncInterval
	cfg.API = "127.0.0.1:0"
	d, err := daemon.New(cfg, daemon.WithLogger(log.With("node", name)),
		// The demo catalogue is small; so are the stores' buffers.
		daemon.WithNodeOptions(node.WithStoreOptions(store.WithMemTableSize(4<<20), store.WithCacheSize(4<<20))))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	n := &Node{Name: name, Home: home, Publisher: p, d: d}
	f.nodes = append(f.nodes, n)
	return n, nil
}

// serve runs every node under one Group, in a goroutine that Shutdown
// waits for.
func (f *Federation) serve() {
	var g daemon.Group
	for _, n := range f.nodes {
		g.Add(n.Name, daemon.ServiceFunc(func(ctx context.Context) error {
			if err := n.d.Serve(ctx); err != nil {
				return fmt.Errorf("%s: %w", n.Name, err)
			}
			return nil
		}))
	}
	ctx, stop := context.WithCancel(context.Background())
	f.stop = stop
	go func() {
		f.err = g.Serve(ctx)
		close(f.done)
	}()
}

// p2pAddrs are n's addresses ending in /p2p/<peer ID>, for others to dial.
func p2pAddrs(n *node.Node) ([]string, error) {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out, nil
}

// waitConnected returns once n is connected to p, or when ctx ends.
func waitConnected(ctx context.Context, n *node.Node, p peer.ID) error {
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

// Dir is the demo directory, which holds the nodes' homes.
func (f *Federation) Dir() string { return f.dir }

// Nodes are the nodes, in the order of the line.
func (f *Federation) Nodes() []*Node { return f.nodes }

// Total is how many practices the demo catalogue holds.
func (f *Federation) Total() int { return f.total }

// Chain is "node1-italy - node2-nordics - ...".
func (f *Federation) Chain() string {
	names := make([]string, len(f.nodes))
	for i, n := range f.nodes {
		names[i] = n.Name
	}
	return strings.Join(names, " - ")
}

// Done is closed once every node has stopped: after Shutdown, or when one
// node failed and the others were stopped.
func (f *Federation) Done() <-chan struct{} { return f.done }

// Err is, after Done, the first error of a node; nil when they stopped
// cleanly.
func (f *Federation) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

// Stop asks every node to stop and returns at once; Done is closed once
// they have. It is safe to call more than once and from any goroutine.
func (f *Federation) Stop() { f.stop() }

// Shutdown stops every node (each finishes its API requests, then closes)
// and waits for them until ctx ends. It returns the first error of a node
// asked to stop, nil when the federation had stopped already (see Err).
// It is safe to call more than once and from any goroutine.
func (f *Federation) Shutdown(ctx context.Context) error {
	select {
	case <-f.done:
		return nil
	default:
	}
	f.stop()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("the demo nodes did not stop: %w", ctx.Err())
	}
}
