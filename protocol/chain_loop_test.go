package protocol

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The chain-loop hostile case (issue 12). An operation's hash covers its
// prev, so no operation can follow itself or a descendant: a real cycle
// needs a hash collision. What a hostile peer can send instead is an
// operation whose prev names something that is no operation of the
// organisation, or a prev that does not exist. Each must stay pending (or
// broken), never linked, and NewChain must terminate.

// wantUnlinked checks that every operation of hs is held with state want,
// and that Authorise judges it accordingly.
func wantUnlinked(t *testing.T, c *Chain, want OpState, hs ...*Signed) {
	t.Helper()
	for _, s := range hs {
		o, ok := c.Op(s.Hash())
		if !ok || o.State != want {
			t.Fatalf("operation %s (seq %d): held %v, %s (%s); want %s", s.Hash(), s.Announcement().Seq, ok, o.State, o.Reason, want)
		}
		sentinel := ErrChainPending
		if want == OpBroken {
			sentinel = ErrUnauthorised
		}
		if err := c.Authorise(s.Announcement(), s.Signer()); !errors.Is(err, sentinel) {
			t.Fatalf("Authorise of a %s operation = %v, want %v", want, err, sentinel)
		}
	}
}

// opAfter seals, with f.r0 (signer 0) or f.r1 (1), an operation of f's organisation
// whose prev is the hash prev, at seq.
func (f *orgFixture) opAfter(prev Hash, seq uint64, signer int) *Signed {
	f.t.Helper()
	a, err := NextOp(f.g, seq, t0.Add(time.Duration(seq)*time.Minute))
	if err != nil {
		f.t.Fatal(err)
	}
	a.Org.Prev = prev
	return mustSeal(f.t, a, []crypto.PrivKey{f.r0, f.r1}[signer])
}

func TestChainLoopPrevNotAnOperation(t *testing.T) {
	f := newOrgFixture(t)
	practice := mustSeal(t, delegatedPractice(f.org, f.g.Hash(), 2, t0.Add(time.Minute), "cric-roubaix"), f.d1)
	other := newOrgFixture(t)
	other.g = mustSeal(t, genesisAnn("Other", []peer.ID{f.id(f.r1)}), f.r1)
	otherOp := other.child(other.g, f.r1, nil)

	afterPractice := f.opAfter(practice.Hash(), 3, 0)
	afterOther := f.opAfter(otherOp.Hash(), 3, 0)
	afterOtherGenesis := f.opAfter(other.g.Hash(), 3, 1)
	// A hash claimed as its own: sealing again with the hash just made
	// as prev gives another hash, so the claim never comes true.
	claimed := f.opAfter(sha256.Sum256([]byte("me")), 3, 0)
	for range 3 {
		next := f.opAfter(claimed.Hash(), 3, 0)
		if next.Hash() == claimed.Hash() {
			t.Fatal("an operation follows itself")
		}
		claimed = next
	}
	onTop := f.child(afterPractice, f.r0, nil) // a descendant of a loop attempt

	in := []*Signed{f.g, practice, other.g, otherOp, afterPractice, afterOther, afterOtherGenesis, claimed, onTop}
	c := NewChain(f.org, in)
	wantUnlinked(t, c, OpPending, afterPractice, afterOther, afterOtherGenesis, claimed, onTop)
	if len(c.Ops()) != 6 || c.Head().Hash() != f.g.Hash() {
		t.Fatalf("%d operations held, head %s: records and other organisations' operations count", len(c.Ops()), c.Head().Hash())
	}
	// The other organisation's chain ignores them all, whatever the order.
	rev := slices.Clone(in)
	slices.Reverse(rev)
	oc := NewChain(other.g.Announcement().Publisher, rev)
	if len(oc.Ops()) != 2 || oc.Head().Hash() != otherOp.Hash() {
		t.Fatalf("the other organisation holds %d operations", len(oc.Ops()))
	}
	// A record authorised by a loop attempt waits; it never counts.
	rec := delegatedPractice(f.org, afterPractice.Hash(), 5, t0.Add(time.Hour), "loop")
	if err := c.Authorise(rec, f.id(f.d1)); !errors.Is(err, ErrChainPending) {
		t.Fatalf("a record under a pending operation: %v", err)
	}
}

// TestChainLoopNeverResolves: a long chain of operations, each after the
// one before, whose first prev does not exist: every one pends, in any
// order, and the judgement stays linear.
func TestChainLoopNeverResolves(t *testing.T) {
	f := newOrgFixture(t)
	ops := []*Signed{f.opAfter(sha256.Sum256([]byte("nowhere")), 2, 0)}
	for len(ops) < 2*MaxOrgOps {
		ops = append(ops, f.child(ops[len(ops)-1], f.r0, nil))
	}
	in := append([]*Signed{f.g}, ops...)
	c := NewChain(f.org, in)
	wantUnlinked(t, c, OpPending, ops...)
	slices.Reverse(in)
	d := NewChain(f.org, append(in, in...))
	sameChain(t, c, d, ops, []peer.ID{f.id(f.r0), f.id(f.r1), f.id(f.r2), f.id(f.x), f.id(f.d1), f.id(f.d2)})
	if c.Head().Hash() != f.g.Hash() {
		t.Fatal("an unresolved chain moved the head")
	}
	// Without the genesis the chain is unknown, and they still pend.
	u := NewChain(f.org, ops)
	if u.Known() {
		t.Fatal("a chain without its genesis is known")
	}
	wantUnlinked(t, u, OpPending, ops...)
}

// forged is an operation held under a hash of the test's choosing, which
// no payload has: the only way to build a true cycle, to show that
// NewChain terminates on one (decide's guard) and links none of it.
func forged(t *testing.T, f *orgFixture, h, prev Hash, seq uint64) *Signed {
	t.Helper()
	s := f.opAfter(prev, seq, 0)
	return &Signed{ann: s.ann, envelope: s.envelope, hash: h, signer: s.signer}
}

// TestChainLoopForgedCycle: operations whose hashes are forged into a
// cycle (a self-loop, two and a hundred operations) with a tail hanging
// off it, beside a genesis and a good operation: the cycles and the tail
// are broken, the rest unaffected, whatever the order.
func TestChainLoopForgedCycle(t *testing.T) {
	f := newOrgFixture(t)
	good := f.child(f.g, f.r0, nil)
	hash := func(i int) Hash { return sha256.Sum256([]byte{byte(i), byte(i >> 8), 'c'}) }
	cycle := func(first, n int) []*Signed {
		var out []*Signed
		for i := range n {
			prev := hash(first + (i+n-1)%n) // the last one's prev is the first
			out = append(out, forged(t, f, hash(first+i), prev, uint64(2+i)))
		}
		return out
	}
	self, two, hundred := cycle(0, 1), cycle(10, 2), cycle(100, 100)
	tail := forged(t, f, hash(1000), hash(150), 200)
	var loops []*Signed
	loops = append(append(append(append(loops, self...), two...), hundred...), tail)
	in := append([]*Signed{f.g, good}, loops...)
	c := NewChain(f.org, in)
	for _, s := range loops {
		if o, _ := c.Op(s.Hash()); o.State != OpBroken {
			t.Fatalf("forged operation %s is %s (%s)", s.Hash(), o.State, o.Reason)
		}
	}
	if c.Head().Hash() != good.Hash() || len(c.Ops()) != len(in) {
		t.Fatalf("head %s, %d operations", c.Head().Hash(), len(c.Ops()))
	}
	slices.Reverse(in)
	sameChain(t, c, NewChain(f.org, append(in, loops...)), loops, []peer.ID{f.id(f.r0), f.id(f.d1)})
}
