package protocol

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestChainRecoveryWindow: a rotation by a lower-priority key is
// overturned by a higher one with everything built on it, until a key of
// that priority ratifies it; a rotation by keys[0] is final at once.
func TestChainRecoveryWindow(t *testing.T) {
	f := newOrgFixture(t)
	// r1 (priority 1) rotates r0 out and delegates d2; r2 builds on it.
	b := f.child(f.g, f.r1, func(a *Announcement) { f.keys(f.r1, f.r2)(a); f.addDelegate(f.d2)(a) })
	b2 := f.child(b, f.r2, nil)
	// r0 overturns with a sibling.
	a := f.child(f.g, f.r0, nil)
	// A practice d2 signed under b's delegation.
	p := mustSeal(t, delegatedPractice(f.org, b.Hash(), 5, t0.Add(3*time.Hour), "cric-roubaix"), f.d2)

	c := NewChain(f.org, []*Signed{f.g, b, b2})
	if c.Head().Hash() != b2.Hash() || !slices.Equal(c.Keys(), []peer.ID{f.id(f.r1), f.id(f.r2)}) {
		t.Fatal("the rotation is not the head before it is overturned")
	}
	if err := c.Authorise(p.Announcement(), p.Signer()); err != nil {
		t.Fatalf("d2 before the overturn: %v", err)
	}
	c = NewChain(f.org, []*Signed{b2, a, f.g, b, a}) // any order, duplicates
	if c.Head().Hash() != a.Hash() {
		t.Fatal("r0's sibling does not overturn r1's rotation")
	}
	st := states(c)
	if st[b.Hash()] != OpAbandoned || st[b2.Hash()] != OpAbandoned || st[a.Hash()] != OpCanonical {
		t.Fatalf("states after the overturn: %v", st)
	}
	if err := c.Authorise(p.Announcement(), p.Signer()); !errors.Is(err, ErrRevoked) {
		t.Fatalf("d2 after the overturn = %v, want ErrRevoked", err)
	}
	if ops := c.Ops(); ops[0].Op.Hash() != f.g.Hash() || ops[1].Op.Hash() != a.Hash() || ops[1].Rank != 0 {
		t.Fatalf("Ops does not start with the canonical chain: %+v", ops[:2])
	}

	// Ratified: r1 rotates keeping r0; r0 signs on top; a late sibling by
	// r1 (a thief of r1, say) cannot overturn it.
	k := f.child(f.g, f.r1, f.addDelegate(f.d2))
	ratify := f.child(k, f.r0, nil)
	thief := f.child(f.g, f.r1, func(a *Announcement) { f.keys(f.r1)(a); a.Time = a.Time.Add(time.Minute) })
	c = NewChain(f.org, []*Signed{f.g, k, ratify, thief})
	if c.Head().Hash() != ratify.Hash() {
		t.Fatal("a sibling of the same priority overturns a ratified branch")
	}
	if o, _ := c.Op(k.Hash()); o.Rank != 0 {
		t.Fatalf("ratified op has rank %d, want 0", o.Rank)
	}
	// Without the ratification, the two r1 siblings tie: the lower hash
	// wins, and the pair is an identity equivocation.
	c = NewChain(f.org, []*Signed{f.g, k, thief})
	want := k
	if compareHash(thief.Hash(), k.Hash()) < 0 {
		want = thief
	}
	if c.Head().Hash() != want.Hash() {
		t.Fatal("a tie is not broken by the lower hash")
	}
	eq := c.Equivocations()
	if len(eq) != 1 || eq[0].Signer != f.id(f.r1) || eq[0].Prev != f.g.Hash() || len(eq[0].Ops) != 2 {
		t.Fatalf("Equivocations = %+v", eq)
	}

	// Final at once: r0's rotation is not overturned by r1.
	fin := f.child(f.g, f.r0, f.keys(f.r0))
	late := f.child(f.g, f.r1, nil)
	if c := NewChain(f.org, []*Signed{late, fin, f.g}); c.Head().Hash() != fin.Hash() || len(c.Equivocations()) != 0 {
		t.Fatal("keys[0]'s rotation is overturned")
	}
}

// TestChainAuthorise: section 12.6 step by step.
func TestChainAuthorise(t *testing.T) {
	f := newOrgFixture(t)
	until := t0.Add(48 * time.Hour)
	del, err := Delegate(f.g, 0, t0.Add(time.Hour), Delegation{Key: f.id(f.d2), May: []Kind{KindPractice}, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	d := mustSeal(t, del, f.r0)
	rv, err := Revoke(d, 0, t0.Add(24*time.Hour), f.id(f.d1), t0.Add(12*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	r := mustSeal(t, rv, f.r0)
	c := NewChain(f.org, []*Signed{f.g, d, r})
	if c.Status(f.id(f.d1)).Role != KeyRevoked || c.Status(f.id(f.d2)).Role != KeyDelegated || c.Status(f.id(f.r1)).Priority != 1 {
		t.Fatalf("statuses: %+v %+v", c.Status(f.id(f.d1)), c.Status(f.id(f.d2)))
	}
	rec := func(auth Hash, seq uint64, tm time.Time, kind Kind) *Announcement {
		a := delegatedPractice(f.org, auth, seq, tm, "cric-roubaix")
		if kind == KindProfile {
			a.Kind, a.Practice, a.Profile = KindProfile, nil, &Profile{Name: "Org", Country: "FR", Level: "network"}
		}
		return a
	}
	tests := []struct {
		name   string
		ann    *Announcement
		signer peer.ID
		want   error
	}{
		{"delegate", rec(d.Hash(), 20, t0.Add(30*time.Hour), KindPractice), f.id(f.d2), nil},
		{"delegate via the genesis", rec(f.g.Hash(), 20, t0.Add(30*time.Hour), KindPractice), f.id(f.d2), ErrUnauthorised},
		{"kind not delegated", rec(d.Hash(), 20, t0.Add(30*time.Hour), KindProfile), f.id(f.d2), ErrUnauthorised},
		{"expired", rec(d.Hash(), 20, until, KindPractice), f.id(f.d2), ErrRevoked},
		{"revoked, before from and through", rec(f.g.Hash(), 10, t0.Add(11*time.Hour), KindProfile), f.id(f.d1), nil},
		{"revoked, at from", rec(f.g.Hash(), 10, t0.Add(12*time.Hour), KindProfile), f.id(f.d1), ErrRevoked},
		{"revoked, above through", rec(f.g.Hash(), 11, t0.Add(11*time.Hour), KindProfile), f.id(f.d1), ErrRevoked},
		{"rotation key", rec(f.g.Hash(), 10, t0, KindPractice), f.id(f.r0), ErrUnauthorised},
		{"stranger", rec(f.g.Hash(), 10, t0, KindPractice), f.id(f.x), ErrUnauthorised},
		{"auth not held", rec(Hash{9}, 10, t0, KindPractice), f.id(f.d1), ErrChainPending},
		{"another org", &Announcement{Publisher: OrgID([]byte("x")), Kind: KindPractice}, f.id(f.d1), ErrUnauthorised},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Authorise(tc.ann, tc.signer)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Authorise = %v, want %v", err, tc.want)
			}
		})
	}
	if err := NewChain(f.org, nil).Authorise(rec(f.g.Hash(), 2, t0, KindPractice), f.id(f.d1)); !errors.Is(err, ErrChainPending) {
		t.Fatalf("unknown chain: %v", err)
	}
	if c.Name() != "Org" || c.Genesis().Hash() != f.g.Hash() || len(c.Revocations()) != 1 || len(c.Delegates()) != 1 {
		t.Fatal("accessors disagree with the head")
	}
}

// TestAdopts: adopts shows only when the adopted key is a delegate.
func TestAdopts(t *testing.T) {
	f := newOrgFixture(t)
	node := f.id(f.d1)
	for _, delegated := range []bool{true, false} {
		g := genesisAnn("Org", []peer.ID{f.id(f.r0)})
		if delegated {
			g = genesisAnn("Org", []peer.ID{f.id(f.r0)}, node)
		}
		g.Org.Adopts = node
		s := mustSeal(t, g, f.r0)
		c := NewChain(s.Announcement().Publisher, []*Signed{s})
		if got := c.Adopts(); (got == node) != delegated {
			t.Fatalf("delegated %v: Adopts = %q", delegated, got)
		}
	}
}

// TestChainCopies: an organisation's records name their signer, so the
// hash covers it: nobody can sign a copy of an operation (or of a
// delegated record) under the same hash. Sealing one with another key is
// refused, an envelope that does it anyway fails Open as
// publisher_mismatch, and a re-seal by the same key is the same record.
func TestChainCopies(t *testing.T) {
	f := newOrgFixture(t)
	op := f.child(f.g, f.r1, f.keys(f.r1))
	if _, err := Seal(op.Announcement(), f.x); !errors.Is(err, ErrPublisherMismatch) {
		t.Fatalf("Seal of a copy by a stranger: %v, want ErrPublisherMismatch", err)
	}
	payload, err := EncodePayload(op.Announcement())
	if err != nil {
		t.Fatal(err)
	}
	data := sealRaw(t, f.x, EnvelopeDomain, PayloadType, payload)
	if _, err := Open(data); !errors.Is(err, ErrPublisherMismatch) {
		t.Fatalf("Open of a copy signed by a stranger: %v, want ErrPublisherMismatch", err)
	}
	again := mustSeal(t, op.Announcement(), f.r1)
	if again.Hash() != op.Hash() {
		t.Fatal("a re-seal by the same key changes the hash")
	}
	c := NewChain(f.org, []*Signed{f.g, op, again})
	if c.Head().Hash() != op.Hash() || c.Head().Signer() != f.id(f.r1) {
		t.Fatal("a duplicate breaks the operation")
	}
}
