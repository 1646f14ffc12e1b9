package protocol

import (
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// orgFixture is an organisation for the chain tests: rotation keys r0,
// r1, r2 (genesis keys r0, r1), delegates d1 (in the genesis) and d2.
type orgFixture struct {
	t          testing.TB
	r0, r1, r2 crypto.PrivKey
	d1, d2, x  crypto.PrivKey
	g          *Signed
	org        peer.ID
}

func newOrgFixture(t testing.TB) *orgFixture {
	f := &orgFixture{t: t, r0: testKey(t, 40), r1: testKey(t, 41), r2: testKey(t, 42), d1: testKey(t, 43), d2: testKey(t, 44), x: testKey(t, 45)}
	f.g = mustSeal(t, genesisAnn("Org", []peer.ID{f.id(f.r0), f.id(f.r1)}, f.id(f.d1)), f.r0)
	f.org = f.g.Announcement().Publisher
	return f
}

func (f *orgFixture) id(k crypto.PrivKey) peer.ID { return idOf(f.t, k) }

// child seals, with key, the operation after p changed by mutate.
func (f *orgFixture) child(p *Signed, key crypto.PrivKey, mutate func(a *Announcement)) *Signed {
	f.t.Helper()
	a, err := NextOp(p, 0, p.Announcement().Time.Add(time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	if mutate != nil {
		mutate(a)
	}
	return mustSeal(f.t, a, key)
}

func (f *orgFixture) addDelegate(k crypto.PrivKey) func(a *Announcement) {
	return func(a *Announcement) {
		a.Org.Delegates = append(a.Org.Delegates, Delegation{Key: f.id(k), May: []Kind{KindPractice, KindRetract}})
	}
}

func (f *orgFixture) keys(ks ...crypto.PrivKey) func(a *Announcement) {
	return func(a *Announcement) {
		a.Org.Keys = nil
		for _, k := range ks {
			a.Org.Keys = append(a.Org.Keys, f.id(k))
		}
	}
}

func states(c *Chain) map[Hash]OpState {
	m := make(map[Hash]OpState)
	for _, o := range c.Ops() {
		m[o.Op.Hash()] = o.State
	}
	return m
}

// TestChainLinking: one case per linking rule, valid and invalid.
func TestChainLinking(t *testing.T) {
	f := newOrgFixture(t)
	good := f.child(f.g, f.r1, f.addDelegate(f.d2))
	revoke, err := Revoke(f.g, 0, t0.Add(time.Hour), f.id(f.d1), t0.Add(30*time.Minute), 3)
	if err != nil {
		t.Fatal(err)
	}
	rev := mustSeal(t, revoke, f.r0)
	orphan := f.child(good, f.r0, nil) // held without good: pending
	tests := []struct {
		name string
		ops  []*Signed
		op   *Signed
		want OpState
		err  error
	}{
		{"linked", []*Signed{f.g}, good, OpCanonical, nil},
		{"prev not held", []*Signed{f.g}, orphan, OpPending, ErrChainPending},
		{"genesis not held", nil, good, OpPending, ErrChainPending},
		{"signed by a delegate", []*Signed{f.g}, f.child(f.g, f.d1, f.addDelegate(f.d2)), OpBroken, ErrUnauthorised},
		{"signed by a stranger", []*Signed{f.g}, f.child(f.g, f.x, nil), OpBroken, ErrUnauthorised},
		{"signed by a key not yet rotated in", []*Signed{f.g}, f.child(f.g, f.r2, f.keys(f.r2)), OpBroken, ErrUnauthorised},
		{"seq not above prev", []*Signed{f.g, good}, f.child(good, f.r0, func(a *Announcement) { a.Seq = 2 }), OpBroken, ErrUnauthorised},
		{"time before prev", []*Signed{f.g}, f.child(f.g, f.r0, func(a *Announcement) { a.Time = t0.Add(-time.Second) }), OpBroken, ErrUnauthorised},
		{"same time as prev", []*Signed{f.g}, f.child(f.g, f.r0, func(a *Announcement) { a.Time = t0 }), OpCanonical, nil},
		{"delegate dropped", []*Signed{f.g}, f.child(f.g, f.r0, func(a *Announcement) { a.Org.Delegates = nil }), OpBroken, ErrUnauthorised},
		{"delegate revoked", []*Signed{f.g}, rev, OpCanonical, nil},
		{"revoked entry changed", []*Signed{f.g, rev}, f.child(rev, f.r0, func(a *Announcement) { a.Org.Revoked[0].Through = 5 }), OpBroken, ErrUnauthorised},
		{"revoked entry dropped", []*Signed{f.g, rev}, f.child(rev, f.r0, func(a *Announcement) {
			a.Org.Revoked = nil
			a.Org.Delegates = []Delegation{{Key: f.id(f.d1), May: []Kind{KindPractice}}}
		}), OpBroken, ErrUnauthorised},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChain(f.org, append(tc.ops, tc.op))
			if got := states(c)[tc.op.Hash()]; got != tc.want {
				t.Fatalf("state %s, want %s", got, tc.want)
			}
			err := NewChain(f.org, tc.ops).Authorise(tc.op.Announcement(), tc.op.Signer())
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("Authorise = %v", err)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("Authorise = %v, want %v", err, tc.err)
			}
		})
	}
	// What follows a broken operation is broken; what follows a pending
	// one is pending, and links when the missing operation arrives.
	bad := f.child(f.g, f.d1, nil)
	after := f.child(bad, f.r0, nil)
	if s := states(NewChain(f.org, []*Signed{f.g, bad, after})); s[after.Hash()] != OpBroken {
		t.Fatalf("child of a broken op is %s", s[after.Hash()])
	}
	c := NewChain(f.org, []*Signed{f.g, orphan, good})
	if c.Head().Hash() != orphan.Hash() {
		t.Fatal("the pending op did not link when its prev arrived")
	}
}
