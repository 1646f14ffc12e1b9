package node

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"go.uber.org/goleak"
)

// serve runs n.Serve(ctx) and returns the channel its result arrives on.
func serve(ctx context.Context, n *Node) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- n.Serve(ctx) }()
	return ch
}

// waitErr waits for Serve's result, failing the test after d.
func waitErr(t testing.TB, ch <-chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("Serve did not return within %v", d)
		return nil
	}
}

// A loop whose dependency goes away while the node runs stops the node,
// and the failure, naming the loop, reaches Serve, Done, Err and Close.
func TestLoopFailureStopsNode(t *testing.T) {
	for _, tc := range []struct {
		loop      string
		breakLoop func(n *Node)
	}{
		{"gossip reader", func(n *Node) { n.sub.Cancel() }},
		{"sync scheduler", func(n *Node) { n.sched.events.Close() }},
		{"discovery", func(n *Node) { n.disc.events.Close() }},
	} {
		t.Run(tc.loop, func(t *testing.T) {
			tn := newTestNet(t, 11)
			a, b := tn.add(), tn.add()
			tn.connect(a, b)
			done := serve(context.Background(), a)
			if err := a.Err(); err != nil {
				t.Fatalf("Err before any failure = %v, want nil", err)
			}
			tc.breakLoop(a)
			err := waitErr(t, done, 10*time.Second)
			if !errors.Is(err, ErrLoopStopped) || !strings.Contains(err.Error(), tc.loop) {
				t.Fatalf("Serve = %v, want ErrLoopStopped naming %q", err, tc.loop)
			}
			select {
			case <-a.Done():
			default:
				t.Fatal("Done is not closed after a loop failed")
			}
			if got := a.Err(); !errors.Is(got, ErrLoopStopped) {
				t.Fatalf("Err = %v, want ErrLoopStopped", got)
			}
			if got := a.Close(); !errors.Is(got, ErrLoopStopped) {
				t.Fatalf("Close = %v, want ErrLoopStopped", got)
			}
			// The stopped node publishes nothing more; its peer runs on.
			if _, err := a.Publish(context.Background(), demoSheets(t)[0]); err == nil {
				t.Fatal("Publish on a stopped node succeeded")
			}
			if err := b.Err(); err != nil {
				t.Fatalf("the peer's Err = %v, want nil", err)
			}
		})
	}
}

// Serve returns nil when its context ends, having closed the node.
func TestServeStopsWithContext(t *testing.T) {
	tn := newTestNet(t, 12)
	n := tn.add()
	ctx, cancel := context.WithCancel(context.Background())
	done := serve(ctx, n)
	cancel()
	if err := waitErr(t, done, 10*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if err := n.Err(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Err after Serve = %v, want ErrClosed", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
}

// Close leaves no goroutine behind: not the loops, the sync sessions the
// scheduler started (connect, follow-up, gap, cascade), the sessions peers
// opened, the verifier's workers, nor the dials.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	defer func(d time.Duration) { followUpDelay = d }(followUpDelay)
	followUpDelay = 100 * time.Millisecond
	tn := newTestNet(t, 13)
	a, b, c := tn.add(), tn.add(), tn.add()
	sheets := demoSheets(t)
	for i := range 20 {
		publish(t, a, variant(sheets, i))
	}
	tn.connect(a, b)
	tn.connect(b, c)
	if _, err := c.SyncWith(context.Background(), b.ID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the catalogue to reach c", func() bool { return converged(t, []*Node{a, b, c}) })
	for _, n := range []*Node{a, b, c} {
		if err := n.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}
	tn.mn.Close()
	goleak.VerifyNone(t, before)
}

// resetCounter is a stream that only counts the calls to Reset.
type resetCounter struct {
	network.Stream
	resets atomic.Int32
}

func (s *resetCounter) Reset() error {
	s.resets.Add(1)
	return nil
}

// A pubsub stream whose handler returns leaving it open is reset once the
// node has stopped (pubsub leaves a peer's second inbound stream open when
// it arrives as pubsub stops; on mocknet nothing else would ever reset
// it, and TestCloseLeavesNoGoroutines found its transport goroutine), and
// left alone while the node runs.
func TestPubsubStreamResetAfterStop(t *testing.T) {
	tn := newTestNet(t, 14)
	n := tn.add()
	var handled atomic.Int32
	leaveOpen := pubsubHost{Host: n.Host(), n: n}.watch(func(network.Stream) { handled.Add(1) })
	running := &resetCounter{}
	leaveOpen(running)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	stopped := &resetCounter{}
	leaveOpen(stopped)
	if handled.Load() != 2 {
		t.Fatalf("the handler ran %d times, want 2", handled.Load())
	}
	if got := running.resets.Load(); got != 0 {
		t.Fatalf("a stream left open while the node runs was reset %d times, want 0", got)
	}
	if got := stopped.resets.Load(); got != 1 {
		t.Fatalf("a stream left open after the node stopped was reset %d times, want 1", got)
	}
}
