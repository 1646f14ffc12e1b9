package node

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// An operation and the operations it makes linkable, which waited in the
// pending pool, are stored in one write: no reader of the store (a sync
// peer, a convergence check) ever sees the operation without the ones
// this node already held after it. Two writes left a window in which
// three replicas had equal digests while one of them was about to store
// more of the chain (the TestOrgReplicasModel/5 flake).
func TestPendingOpsStoredWithTheirPrev(t *testing.T) {
	tn := newTestNet(t, 131)
	a, b := tn.add(), tn.add() // not connected: each one's writes are its own
	from := keyID(t, testKey(t, 9901))
	org := newTestOrg(t, "One Write", []uint64{9902})
	at := func(m int) time.Time { return org.base.Add(time.Duration(m) * time.Minute) }
	del := func(seed uint64) protocol.Delegation {
		return delegation(keyID(t, testKey(t, seed)), protocol.KindPractice)
	}
	by := org.by(org.keys[0])
	p := by(protocol.Delegate(org.gen, 0, at(1), del(9903)))
	x := by(protocol.Delegate(p, 0, at(2), del(9904)))
	y := by(protocol.Delegate(x, 0, at(3), del(9905)))
	submit(t, a, org.gen)
	submit(t, b, org.gen)

	// y, then x reach a by gossip before p: both wait.
	for _, sg := range []*protocol.Signed{y, x} {
		if r, _ := validateFrom(a, from, sg, true); r != pubsub.ValidationIgnore {
			t.Fatalf("operation seq %d without its prev: %v", sg.Announcement().Seq, r)
		}
	}
	if a.Pending() != 2 {
		t.Fatalf("%d records pending, want 2", a.Pending())
	}
	// p reaches both; b has nothing waiting: what b writes is what
	// storing p alone costs (p, and judging again the records of the
	// organisation when its head moves).
	writes := func(n *Node) uint64 {
		t.Helper()
		before := n.Store().WriteStats().Syncs
		res, err := n.apply(context.Background(), []store.Incoming{{Signed: p, From: from.String()}}, durable)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Outcome != store.Applied {
			t.Fatalf("p: %+v", res)
		}
		return n.Store().WriteStats().Syncs - before
	}
	alone, with := writes(b), writes(a)
	for _, sg := range []*protocol.Signed{org.gen, p, x, y} {
		if !holds(a, sg) {
			t.Errorf("operation seq %d not stored", sg.Announcement().Seq)
		}
	}
	if a.Pending() != 0 {
		t.Errorf("%d records still pending", a.Pending())
	}
	if with != alone {
		t.Errorf("p and the two operations it made linkable took %d writes; p alone %d", with, alone)
	}
}

// The pool gives out the operations it holds and, by hash, the records
// asked for: those still in time, dropping (and counting) the late ones
// and keeping the others.
func TestPendingPoolTakeHashes(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dropped := 0
	p := newPendingPool(func() time.Time { return now }, func() uint64 { return 0 }, func(k int) { dropped += k })
	staff := testKey(t, 9911)
	org := newTestOrg(t, "Take", []uint64{9912}, delegation(keyID(t, staff), protocol.KindPractice))
	by := org.by(org.keys[0])
	x := by(protocol.Delegate(org.gen, 0, org.base.Add(time.Minute), delegation(keyID(t, testKey(t, 9913)), protocol.KindPractice)))
	y := by(protocol.Delegate(x, 0, org.base.Add(2*time.Minute), delegation(keyID(t, testKey(t, 9914)), protocol.KindPractice)))
	r := org.record(staff, org.gen, 4, org.base.Add(3*time.Minute), practiceAnn(variant(demoSheets(t), 1)))
	for _, sg := range []*protocol.Signed{x, r} {
		if got := p.hold(sg, "", 0); got != holdOK {
			t.Fatalf("hold: %v", got)
		}
	}
	now = now.Add(PendingTTL / 2)
	if got := p.hold(y, "", 0); got != holdOK {
		t.Fatalf("hold: %v", got)
	}
	if ops := p.ops(org.id); len(ops) != 2 || ops[0] != x || ops[1] != y {
		t.Fatalf("ops: %d", len(ops))
	}
	now = now.Add(PendingTTL/2 + time.Second) // x's time is up, not y's
	got := p.takeHashes(org.id, map[protocol.Hash]bool{x.Hash(): true, y.Hash(): true})
	if len(got) != 1 || got[0].sg != y || dropped != 1 {
		t.Fatalf("took %d, dropped %d", len(got), dropped)
	}
	if p.size() != 1 || len(p.ops(org.id)) != 0 || p.hold(x, "", 0) != holdOK || p.size() != 2 {
		t.Fatalf("after taking: size %d", p.size())
	}
}
