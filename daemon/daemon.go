package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/node"
)

// Option changes how New builds a daemon.
type Option func(*options)

type options struct {
	log      *slog.Logger
	nodeOpts []node.Option
}

// WithLogger makes the daemon and its services log to l. Default: a
// logger on stderr as Config.Log says (NewLogger).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithNodeOptions passes opts to node.New, after the logger.
func WithNodeOptions(opts ...node.Option) Option {
	return func(o *options) { o.nodeOpts = append(o.nodeOpts, opts...) }
}

// Daemon is a running node and the services around it: the node itself
// and its local HTTP API server. Build it with New, then call Serve once
// (or Close, to give it up unserved). Node and APIAddr are safe to call
// from any goroutine.
type Daemon struct {
	node    *node.Node
	api     *api.Server
	started atomic.Bool // Serve or Close was called
}

// New validates cfg, starts the node (its host is listening and dialling
// when New returns) and the API server (listening, its address in
// HOME/api; requests wait until Serve). On error nothing is left running.
func New(cfg Config, opts ...Option) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = NewLogger(os.Stderr, cfg.Log)
	}
	n, err := node.New(cfg.Node, append([]node.Option{node.WithLogger(o.log)}, o.nodeOpts...)...)
	if err != nil {
		return nil, err
	}
	srv, err := api.NewServer(n, home.Layout{Root: cfg.Node.Home}, cfg.API, o.log, cfg.Limits)
	if err != nil {
		n.Close()
		return nil, err
	}
	return &Daemon{node: n, api: srv}, nil
}

// Node is the daemon's node.
func (d *Daemon) Node() *node.Node { return d.node }

// APIAddr is the HOST:PORT the API listens on.
func (d *Daemon) APIAddr() string { return d.api.Addr() }

// Serve runs the daemon's services (the node and the API server) under
// one Group until ctx ends or one fails (the API server's listener, or a
// loop of the node: see node.Node.Err), stops them all and returns the
// first error. The node closes only once the API server has stopped, so
// requests in flight finish against an open node. The API server's
// graceful stop is bounded by Config.Limits.Shutdown; the caller bounds
// the whole. Serve runs once: later calls return ErrServed.
func (d *Daemon) Serve(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return ErrServed
	}
	apiDone := make(chan struct{})
	var g Group
	g.Add("the API server", ServiceFunc(func(ctx context.Context) error {
		defer close(apiDone)
		return d.api.Serve(ctx)
	}))
	g.Add("the node", ServiceFunc(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
		case <-d.node.Done():
			// A loop of the node failed and the node stopped itself: its
			// error stops the API server too, and Serve closes the node
			// once the server is gone.
			return d.node.Err()
		}
		<-apiDone
		if err := d.node.Close(); err != nil {
			return fmt.Errorf("close the node: %w", err)
		}
		return nil
	}))
	err := g.Serve(ctx)
	if cerr := d.node.Close(); err == nil && cerr != nil { // a no-op unless a loop failed
		err = fmt.Errorf("close the node: %w", cerr)
	}
	return err
}

// Close releases a daemon that was never served: it stops the API server
// and closes the node. Once Serve was called it does nothing (end Serve's
// context instead); it is safe to call more than once.
func (d *Daemon) Close() error {
	if !d.started.CompareAndSwap(false, true) {
		return nil
	}
	return errors.Join(d.api.Close(), d.node.Close())
}
