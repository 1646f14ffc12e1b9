package daemon

import (
	"context"
	"errors"
	"fmt"
)

// Service is a long-lived part of a running node. Serve runs until ctx
// ends or the service fails; it releases what the service holds before it
// returns. After ctx ends it returns nil (or ctx's error) unless stopping
// itself failed.
type Service interface {
	Serve(ctx context.Context) error
}

// ServiceFunc is a function as a Service.
type ServiceFunc func(ctx context.Context) error

// Serve calls f.
func (f ServiceFunc) Serve(ctx context.Context) error { return f(ctx) }

// Group runs services under one supervisor. Add the services, then call
// Serve once; a Group is not safe for concurrent use before Serve.
type Group struct {
	services []namedService
}

type namedService struct {
	name string
	Service
}

// Add adds s, called name in errors, to the services Serve runs.
func (g *Group) Add(name string, s Service) {
	g.services = append(g.services, namedService{name, s})
}

// Serve runs every service, each in a goroutine of its own, until ctx ends
// or one service returns. Then it asks all the others to stop at once and
// waits for every one, and returns the first error: that of the service
// that stopped first (ErrServiceStopped, named, when it returned nil),
// else the first error of a service asked to stop. A service that must
// stop after another waits for it itself (Daemon.Serve does). Every
// goroutine Serve starts has returned when Serve returns.
func (g *Group) Serve(ctx context.Context) error {
	type exit struct {
		i   int
		err error
	}
	n := len(g.services)
	exits := make(chan exit, n)
	gctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	for i, s := range g.services {
		go func() { exits <- exit{i, s.Serve(gctx)} }()
	}
	asked := false
	var first error
	note := func(e exit) {
		err := e.err
		switch {
		case asked && errors.Is(err, context.Canceled):
			err = nil
		case !asked && err == nil:
			err = fmt.Errorf("%s: %w", g.services[e.i].name, ErrServiceStopped)
		}
		if first == nil {
			first = err
		}
	}
	left := n
	select {
	case <-ctx.Done():
	case e := <-exits:
		note(e)
		left--
	}
	asked = true
	stop()
	for ; left > 0; left-- {
		note(<-exits)
	}
	return first
}
