package node

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// TestOrgChainLoop is the chain-loop hostile case (issue 12): operations
// whose prev is a practice of the same organisation, another
// organisation's operations, a hash claimed as their own, or a chain of
// operations whose first prev never arrives, gossiped to a node. None is
// stored or forwarded; each is counted pending, then chain_missing when
// the pool fills or its time runs out; the pool stays within its bound,
// and a good operation arriving meanwhile changes none of that.
func TestOrgChainLoop(t *testing.T) {
	tn := newTestNet(t, 141)
	a, b := tn.add(), tn.add()
	staff := testKey(t, 9903)
	org := newTestOrg(t, "Looped", []uint64{9901, 9902}, delegation(keyID(t, staff), protocol.KindPractice))
	other := newTestOrg(t, "Elsewhere", []uint64{9904})
	otherOp := other.by(other.keys[0])(protocol.NextOp(other.gen, 0, other.base.Add(time.Minute)))
	practice := org.record(staff, org.gen, 2, org.base.Add(time.Minute), practiceAnn(variant(demoSheets(t), 30)))
	for _, sg := range []*protocol.Signed{org.gen, other.gen, otherOp, practice} {
		submit(t, a, sg)
	}
	after := func(prev protocol.Hash, seq uint64) *protocol.Signed {
		ann, err := protocol.NextOp(org.gen, seq, org.base.Add(2*time.Minute))
		if err == nil {
			ann.Org.Prev = prev
		}
		return org.by(org.keys[0])(ann, err)
	}
	// Sealed again with the hash just made as its prev, an operation gets
	// another hash: the claim never comes true.
	claimed := after(sha256.Sum256([]byte("itself")), 3)
	claimed = after(claimed.Hash(), 3)
	hostile := []*protocol.Signed{after(practice.Hash(), 3), after(otherOp.Hash(), 3), after(other.gen.Hash(), 3), claimed}
	// A chain whose first prev never arrives, past the pool's bound.
	hostile = append(hostile, after(sha256.Sum256([]byte("nowhere")), 4))
	for len(hostile) < MaxPendingPerOrg+5 {
		last := hostile[len(hostile)-1]
		hostile = append(hostile, org.by(org.keys[1])(protocol.NextOp(last, 0, last.Announcement().Time.Add(time.Minute))))
	}

	before := a.Stats()
	for i, sg := range hostile {
		if r := gossipTo(a, b.ID(), sg, true); r != pubsub.ValidationIgnore {
			t.Fatalf("hostile operation %d: %v", i, r)
		}
		if a.Pending() > MaxPendingPerOrg {
			t.Fatalf("%d records pending after %d operations of one organisation", a.Pending(), i+1)
		}
	}
	st := a.Stats()
	pending := st.Ignored[ReasonPending] - before.Ignored[ReasonPending]
	missing := st.Ignored[ReasonChainMissing] - before.Ignored[ReasonChainMissing]
	if a.Pending() != MaxPendingPerOrg || pending != MaxPendingPerOrg || int(missing) != len(hostile)-MaxPendingPerOrg {
		t.Fatalf("pending %d; counted pending %d, chain_missing %d", a.Pending(), pending, missing)
	}
	if st.Rejected[ReasonUnauthorised] != before.Rejected[ReasonUnauthorised] {
		t.Fatalf("an operation whose prev is not held was rejected: %+v", st.Rejected)
	}

	// A good operation arrives: the pending ones are judged again and
	// still wait; the chain moves to it alone.
	good := org.by(org.keys[0])(protocol.Delegate(org.gen, 0, org.base.Add(3*time.Minute), delegation(keyID(t, testKey(t, 9905)), protocol.KindPractice)))
	submit(t, a, good)
	if a.Pending() != MaxPendingPerOrg {
		t.Fatalf("%d pending after a good operation", a.Pending())
	}
	ops, err := a.Store().OrgOps(org.id)
	if err != nil || len(ops) != 2 {
		t.Fatalf("the store holds %d operations of the organisation (%v), want the genesis and the good one", len(ops), err)
	}
	if c := protocol.NewChain(org.id, ops); c.Head().Hash() != good.Hash() {
		t.Fatalf("head %s, want the good operation", c.Head().Hash())
	}

	// Time runs out: every one is dropped and counted.
	expired := time.Now().Add(PendingTTL + time.Second)
	a.pending.mu.Lock()
	a.pending.now = func() time.Time { return expired }
	a.pending.mu.Unlock()
	a.pending.expire()
	if a.Pending() != 0 || int(a.Stats().Ignored[ReasonChainMissing]-before.Ignored[ReasonChainMissing]) != len(hostile) {
		t.Fatalf("after the deadline: pending %d, ignored %+v", a.Pending(), a.Stats().Ignored)
	}
	if !noneHold([]*Node{a}, hostile...)() {
		t.Fatal("a hostile operation was stored")
	}
	// Sent again, they wait again, within the bound: nothing accumulates.
	for _, sg := range hostile[:3] {
		gossipTo(a, b.ID(), sg, true)
	}
	if a.Pending() != 3 {
		t.Fatalf("%d pending after three operations sent again", a.Pending())
	}
}
