package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/khantara/khantara/home"
)

// testConfig is a daemon on loopback, port 0 for the host and the API,
// without the search index.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg := DefaultConfig(t.TempDir())
	cfg.Node.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Node.MDNS, cfg.Node.NAT, cfg.Node.NoSearch = false, false, true
	cfg.API = "127.0.0.1:0"
	return cfg
}

var quiet = WithLogger(slog.New(slog.DiscardHandler))

// TestDaemonServe: a daemon built by New serves its API at the address in
// HOME/api; ending the context stops it, removes HOME/api and closes the
// node (its store can be opened again); Serve runs once.
func TestDaemonServe(t *testing.T) {
	cfg := testConfig(t)
	d, err := New(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	layout := home.Layout{Root: cfg.Node.Home}
	if b, err := os.ReadFile(layout.API()); err != nil || string(b) != d.APIAddr() {
		t.Fatalf("HOME/api holds %q (%v), want %s", b, err, d.APIAddr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	resp, err := http.Get("http://" + d.APIAddr() + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %s", resp.Status)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := os.Stat(layout.API()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HOME/api outlived the daemon: %v", err)
	}
	if c, err := net.Dial("tcp", d.APIAddr()); err == nil {
		c.Close()
		t.Error("the API still accepts connections")
	}
	if err := d.Serve(context.Background()); !errors.Is(err, ErrServed) {
		t.Errorf("second Serve: %v, want ErrServed", err)
	}
	again, err := New(cfg, quiet)
	if err != nil {
		t.Fatalf("the stopped daemon's home cannot be used again: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestDaemonNewFails: an invalid configuration is refused with the key
// named; when the API cannot listen, New closes the node it started, so
// the home is free for the next daemon.
func TestDaemonNewFails(t *testing.T) {
	cfg := testConfig(t)
	cfg.API = "7118"
	if _, err := New(cfg, quiet); err == nil || !strings.HasPrefix(err.Error(), `api: "7118" is not HOST:PORT`) {
		t.Fatalf("New with a bad api: %v", err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg.API = taken.Addr().String()
	if _, err := New(cfg, quiet); err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Fatalf("New on a taken port: %v", err)
	}
	cfg.API = "127.0.0.1:0"
	d, err := New(cfg, quiet)
	if err != nil {
		t.Fatalf("the failed New left the home locked: %v", err)
	}
	d.Close()
}

// TestDaemonNodeFailure: when a loop of the node fails (here the event
// subscriptions its sync scheduler and discovery follow are closed under
// it), Serve does not wait for its context: it stops the API server,
// removes HOME/api and returns the node's error.
func TestDaemonNodeFailure(t *testing.T) {
	cfg := testConfig(t)
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	bus := &breakableBus{Bus: h.EventBus()}
	d, err := New(cfg, quiet, WithNodeOptions(node.WithHost(breakableHost{Host: h, bus: bus})))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	bus.breakAll()
	select {
	case err := <-served:
		if !errors.Is(err, node.ErrLoopStopped) {
			t.Fatalf("Serve = %v, want node.ErrLoopStopped", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after the node failed")
	}
	if _, err := os.Stat(home.Layout{Root: cfg.Node.Home}.API()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HOME/api outlived the daemon: %v", err)
	}
	if c, err := net.Dial("tcp", d.APIAddr()); err == nil {
		c.Close()
		t.Error("the API still accepts connections")
	}
}

// breakableHost is a real libp2p host whose event bus subscriptions the
// test can close, as a failing bus would.
type breakableHost struct {
	host.Host
	bus *breakableBus
}

func (h breakableHost) EventBus() event.Bus { return h.bus }

type breakableBus struct {
	event.Bus
	mu   sync.Mutex // guards subs
	subs []event.Subscription
}

func (b *breakableBus) Subscribe(evt any, opts ...event.SubscriptionOpt) (event.Subscription, error) {
	s, err := b.Bus.Subscribe(evt, opts...)
	if err == nil {
		b.mu.Lock()
		b.subs = append(b.subs, s)
		b.mu.Unlock()
	}
	return s, err
}

func (b *breakableBus) breakAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.Close()
	}
}
