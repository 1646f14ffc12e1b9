package node

import (
	"context"
	"testing"
	"time"
)

// A sync asked for while one with the same peer runs is not lost: it runs
// once the first ends, and the scheduler goes on serving requests for that
// peer afterwards.
func TestSchedulerRunsAgainAfterSession(t *testing.T) {
	defer func(d time.Duration) { followUpDelay = d }(followUpDelay)
	followUpDelay = time.Hour // no follow-up in this test
	tn := newTestNet(t, 21)
	a, b := tn.add(), tn.add()
	rounds := func(k uint64) func() bool { return func() bool { return a.Stats().SyncRounds == k } }
	tn.connect(a, b) // a dialled: its scheduler syncs once
	eventually(t, 10*time.Second, "the sync on connect", rounds(1))

	// Hold the peer's session lock, so the next session waits in SyncWith
	// while a second request for b arrives.
	release, err := a.sched.locks.lock(context.Background(), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	a.sched.request(b.ID(), reasonCascade)
	a.sched.request(b.ID(), reasonCascade)
	// Let the loop take both requests while the first session waits.
	eventually(t, 10*time.Second, "both requests taken", func() bool { return len(a.sched.reqs) == 0 })
	if got := a.Stats().SyncRounds; got != 1 {
		t.Fatalf("%d sync rounds while the peer's lock is held, want 1", got)
	}
	release()
	eventually(t, 10*time.Second, "the waiting session and the one asked again", rounds(3))
	a.sched.request(b.ID(), reasonCascade)
	eventually(t, 10*time.Second, "a later request", rounds(4))
}
