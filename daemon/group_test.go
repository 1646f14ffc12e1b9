package daemon

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder notes which services stopped.
type recorder struct {
	mu      sync.Mutex
	stopped []string
}

func (r *recorder) note(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = append(r.stopped, name)
}

// waiter is a service that runs until ctx ends, then returns err.
func (r *recorder) waiter(name string, err error) Service {
	return ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		r.note(name)
		return err
	})
}

// failer is a service that fails with err once start is closed.
func (r *recorder) failer(name string, start <-chan struct{}, err error) Service {
	return ServiceFunc(func(ctx context.Context) error {
		select {
		case <-start:
		case <-ctx.Done():
			return nil
		}
		r.note(name)
		return err
	})
}

func serveWithin(ctx context.Context, t *testing.T, g *Group) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Group.Serve did not return")
		return nil
	}
}

func TestGroup(t *testing.T) {
	boom := errors.New("boom")
	late := errors.New("late")
	tests := []struct {
		name    string
		build   func(r *recorder, start chan struct{}) *Group
		cancel  bool // end the context instead of starting the failer
		want    error
		stopped []string // sorted
	}{
		{"context ends: all stop", func(r *recorder, _ chan struct{}) *Group {
			var g Group
			g.Add("a", r.waiter("a", nil))
			g.Add("b", r.waiter("b", context.Canceled))
			g.Add("c", r.waiter("c", nil))
			return &g
		}, true, nil, []string{"a", "b", "c"}},
		{"first failure stops the others and is returned", func(r *recorder, start chan struct{}) *Group {
			var g Group
			g.Add("a", r.waiter("a", late))
			g.Add("b", r.failer("b", start, boom))
			g.Add("c", r.waiter("c", nil))
			return &g
		}, false, boom, []string{"a", "b", "c"}},
		{"an error while stopping is returned", func(r *recorder, _ chan struct{}) *Group {
			var g Group
			g.Add("a", r.waiter("a", late))
			g.Add("b", r.waiter("b", nil))
			return &g
		}, true, late, []string{"a", "b"}},
		{"a service that returns nil on its own fails the group", func(r *recorder, start chan struct{}) *Group {
			var g Group
			g.Add("a", r.waiter("a", nil))
			g.Add("quitter", r.failer("quitter", start, nil))
			return &g
		}, false, ErrServiceStopped, []string{"a", "quitter"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			start := make(chan struct{})
			g := tc.build(r, start)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			} else {
				close(start)
			}
			err := serveWithin(ctx, t, g)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Serve returned %v, want %v", err, tc.want)
			}
			slices.Sort(r.stopped)
			if !slices.Equal(r.stopped, tc.stopped) {
				t.Errorf("stopped in order %v, want %v", r.stopped, tc.stopped)
			}
		})
	}
}

func TestGroupNamesQuitter(t *testing.T) {
	var g Group
	g.Add("the indexer", ServiceFunc(func(context.Context) error { return nil }))
	err := serveWithin(context.Background(), t, &g)
	if err == nil || err.Error() != "the indexer: stopped before it was asked to" {
		t.Errorf("Serve returned %v", err)
	}
}

func TestGroupEmpty(t *testing.T) {
	var g Group
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := serveWithin(ctx, t, &g); err != nil || ctx.Err() == nil {
		t.Errorf("an empty group returned %v before its context ended (%v)", err, ctx.Err())
	}
}
