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

// The side that accepted a connection runs its own follow-up sync when the
// dialler's has not run by then, and none when it has (PROTOCOL.md 9.12).
func TestAcceptorFollowUp(t *testing.T) {
	defer func(d time.Duration) { followUpDelay = d }(followUpDelay)
	followUpDelay = 300 * time.Millisecond
	tn := newTestNet(t, 22)
	a, b, c := tn.add(), tn.add(), tn.add()
	rounds := func(n *Node, k uint64) func() bool { return func() bool { return n.Stats().SyncRounds == k } }

	// b dials a and runs its follow-up: a runs none of its own.
	tn.connect(b, a)
	eventually(t, 10*time.Second, "the sync on connect and b's follow-up", rounds(a, 2))
	time.Sleep(3 * followUpDelay) // a's follow-up would have been due after 2*followUpDelay
	if got := a.Stats().SyncRounds; got != 2 {
		t.Fatalf("a took part in %d sessions, want 2: it ran a follow-up after b's", got)
	}

	// c dials a, but its follow-up is held back: a runs one itself.
	release, err := c.sched.locks.lock(context.Background(), a.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { release() }()
	before := a.Stats().SyncRounds
	tn.connect(c, a) // c's sync on connect waits for the lock too
	eventually(t, 10*time.Second, "a's own follow-up with c", rounds(a, before+1))
	eventually(t, 10*time.Second, "c serving a's follow-up, its own sessions held back", rounds(c, 1))
	release()
	release = func() {}
}
