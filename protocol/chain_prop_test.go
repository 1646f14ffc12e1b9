package protocol

import (
	"bytes"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestChainModel: random operations (rotations, delegations,
// revocations, some breaking a rule, some signed by the wrong key), held
// in part, in random orders with duplicates, give NewChain the same
// states, head, statuses, equivocations and authorisations as a
// brute-force reference model.
func TestChainModel(t *testing.T) {
	var keys []crypto.PrivKey
	for i := range 8 {
		keys = append(keys, testKey(t, byte(100+i)))
	}
	ids := make([]peer.ID, len(keys))
	for i, k := range keys {
		ids[i] = idOf(t, k)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[OpState]int{}
	equivocations := 0
	for round := range 150 {
		ops := randomOps(t, rng, keys, ids)
		org := ops[0].Announcement().Publisher
		held := []*Signed{}
		for i, s := range ops {
			if i == 0 && round%10 == 9 {
				continue // now and then the genesis is missing
			}
			if rng.IntN(8) > 0 {
				held = append(held, s)
			}
		}
		ref := newRefChain(org, held)
		for _, st := range ref.state {
			seen[st]++
		}
		equivocations += len(NewChain(org, held).Equivocations())
		for range 3 {
			in := slices.Clone(held)
			for range rng.IntN(4) {
				if len(held) > 0 {
					in = append(in, held[rng.IntN(len(held))])
				}
			}
			rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
			compareChain(t, round, NewChain(org, in), ref, ids, ops, rng)
		}
	}
	// The generator reaches every state and equivocations.
	if len(seen) != 4 || equivocations == 0 {
		t.Fatalf("states reached %v, %d equivocations", seen, equivocations)
	}
	t.Logf("states %v, %d equivocations", seen, equivocations)
}

// randomOps returns a genesis and up to 14 operations after random
// earlier ones, every one valid on its own (Seal checks it).
func randomOps(t *testing.T, rng *rand.Rand, keys []crypto.PrivKey, ids []peer.ID) []*Signed {
	t.Helper()
	// Keys 0-3 rotate, 4-7 are delegates.
	g := genesisAnn("Org", []peer.ID{ids[0], ids[1]}, ids[4])
	g.Org.Keys = slices.Clone(ids[:1+rng.IntN(3)])
	ops := []*Signed{mustSeal(t, g, keys[0])}
	for len(ops) < 15 {
		p := ops[rng.IntN(len(ops))]
		if rng.IntN(6) == 0 && p.Announcement().Seq > 1 {
			// The same payload signed by another key: the same hash.
			if s, err := Seal(p.Announcement(), keys[rng.IntN(6)]); err == nil {
				ops = append(ops, s)
			}
			continue
		}
		a, err := NextOp(p, p.Announcement().Seq+uint64(rng.IntN(3)), p.Announcement().Time.Add(time.Duration(rng.IntN(3)-1)*time.Hour))
		if err != nil {
			continue
		}
		o := a.Org
		switch rng.IntN(5) {
		case 0: // rotate
			o.Keys = nil
			for _, i := range rng.Perm(4)[:1+rng.IntN(3)] {
				o.Keys = append(o.Keys, ids[i])
			}
		case 1: // delegate
			d := ids[4+rng.IntN(4)]
			if !o.listsKey(d) {
				o.Delegates = append(o.Delegates, Delegation{Key: d, May: []Kind{KindPractice}, Until: t0.Add(time.Duration(rng.IntN(5)) * time.Hour)})
			}
		case 2: // revoke
			if len(o.Delegates) > 0 {
				d := o.Delegates[0]
				o.Delegates = o.Delegates[1:]
				o.Revoked = append(o.Revoked, Revocation{Key: d.Key, May: d.May, From: t0.Add(time.Duration(rng.IntN(5)) * time.Hour), Through: uint64(rng.IntN(6))})
			}
		case 3: // break continuity
			if len(o.Delegates) > 0 && rng.IntN(2) == 0 {
				o.Delegates = o.Delegates[1:]
			} else if len(o.Revoked) > 0 {
				o.Revoked[0].Through++
			}
		}
		signer := keys[rng.IntN(6)] // mostly rotation keys, sometimes a delegate
		if s, err := Seal(a, signer); err == nil {
			ops = append(ops, s)
		}
	}
	return ops
}

// refChain is the reference model: the rules of PROTOCOL.md 12.4 written
// as directly as possible, canonical chain by enumerating every branch.
type refChain struct {
	org    peer.ID
	byH    map[Hash]*Signed
	copies map[Hash][]*Signed
	state  map[Hash]OpState
	rank   map[Hash]int
	head   *Signed
	linked []*Signed
}

func newRefChain(org peer.ID, ops []*Signed) *refChain {
	r := &refChain{org: org, byH: map[Hash]*Signed{}, copies: map[Hash][]*Signed{}, state: map[Hash]OpState{}, rank: map[Hash]int{}}
	for _, s := range ops {
		r.byH[s.Hash()] = s
		if !slices.ContainsFunc(r.copies[s.Hash()], func(c *Signed) bool { return c.Signer() == s.Signer() }) {
			r.copies[s.Hash()] = append(r.copies[s.Hash()], s)
		}
	}
	for h := range r.byH {
		r.state[h] = r.stateOf(r.byH[h])
		if r.state[h] == OpAbandoned {
			r.linked = append(r.linked, r.byH[h])
		}
	}
	for _, x := range r.linked {
		if p, ok := r.byH[x.Announcement().Org.Prev]; ok {
			r.rank[x.Hash()] = r.rankOf(p, x)
		}
	}
	var best []*Signed
	for _, path := range r.paths(r.genesis()) {
		if best == nil || r.less(path, best) {
			best = path
		}
	}
	for _, s := range best {
		r.state[s.Hash()] = OpCanonical
		r.head = s
	}
	return r
}

func (r *refChain) genesis() *Signed {
	for _, s := range r.byH {
		if s.Announcement().Org.Prev.IsZero() {
			return s
		}
	}
	return nil
}

func (r *refChain) stateOf(x *Signed) OpState {
	o := x.Announcement().Org
	if o.Prev.IsZero() {
		return OpAbandoned
	}
	p, ok := r.byH[o.Prev]
	if !ok {
		return OpPending
	}
	switch ps := r.stateOf(p); {
	case ps != OpAbandoned:
		return ps
	case len(r.linkingSigners(p, x)) > 0:
		return OpAbandoned
	}
	return OpBroken
}

// linkingSigners returns the signers of the copies of x that link to p
// (of every copy, for the genesis).
func (r *refChain) linkingSigners(p, x *Signed) []peer.ID {
	var out []peer.ID
	for _, cp := range r.copies[x.Hash()] {
		if p == nil || refLinks(p, cp) {
			out = append(out, cp.Signer())
		}
	}
	return out
}

func refLinks(p, x *Signed) bool {
	pa, xa := p.Announcement(), x.Announcement()
	if !slices.Contains(pa.Org.Keys, x.Signer()) || xa.Seq <= pa.Seq || xa.Time.Before(pa.Time) {
		return false
	}
	for _, d := range pa.Org.Delegates {
		if !xa.Org.listsKey(d.Key) {
			return false
		}
	}
	for _, rv := range pa.Org.Revoked {
		found := false
		for _, q := range xa.Org.Revoked {
			found = found || (q.Key == rv.Key && slices.Equal(q.May, rv.May) && q.From.Equal(rv.From) && q.Through == rv.Through)
		}
		if !found {
			return false
		}
	}
	return true
}

// descends reports whether d is x or a linked descendant of x.
func (r *refChain) descends(d, x *Signed) bool {
	for cur := d; cur != nil; cur = r.byH[cur.Announcement().Org.Prev] {
		if cur.Hash() == x.Hash() {
			return true
		}
		if cur.Announcement().Org.Prev.IsZero() {
			return false
		}
	}
	return false
}

func (r *refChain) rankOf(p, x *Signed) int {
	best := -1
	for _, d := range r.linked {
		if !r.descends(d, x) {
			continue
		}
		for _, s := range r.linkingSigners(r.byH[d.Announcement().Org.Prev], d) {
			if i := slices.Index(p.Announcement().Org.Keys, s); i >= 0 && (best < 0 || i < best) {
				best = i
			}
		}
	}
	return best
}

// paths returns every branch from x to a leaf of the linked tree.
func (r *refChain) paths(x *Signed) [][]*Signed {
	if x == nil {
		return nil
	}
	var out [][]*Signed
	for _, c := range r.linked {
		if c.Announcement().Org.Prev == x.Hash() {
			for _, p := range r.paths(c) {
				out = append(out, append([]*Signed{x}, p...))
			}
		}
	}
	if len(out) == 0 {
		out = [][]*Signed{{x}}
	}
	return out
}

// less orders branches by (rank, hash) step by step.
func (r *refChain) less(a, b []*Signed) bool {
	for i := 1; i < len(a) && i < len(b); i++ {
		ra, rb := r.rank[a[i].Hash()], r.rank[b[i].Hash()]
		if ra != rb {
			return ra < rb
		}
		ha, hb := a[i].Hash(), b[i].Hash()
		if c := bytes.Compare(ha[:], hb[:]); c != 0 {
			return c < 0
		}
	}
	return false
}

// authorise is 12.6 for the model.
func (r *refChain) authorise(a *Announcement, signer peer.ID) error {
	if r.head == nil || r.state[a.Auth] == OpPending || r.byH[a.Auth] == nil {
		return ErrChainPending
	}
	if r.state[a.Auth] == OpBroken || !slices.ContainsFunc(r.byH[a.Auth].Announcement().Org.Delegates, func(d Delegation) bool { return d.Key == signer && slices.Contains(d.May, a.Kind) }) {
		return ErrUnauthorised
	}
	h := r.head.Announcement().Org
	for _, d := range h.Delegates {
		if d.Key == signer && slices.Contains(d.May, a.Kind) && (d.Until.IsZero() || a.Time.Before(d.Until)) {
			return nil
		}
	}
	for _, rv := range h.Revoked {
		if rv.Key == signer && slices.Contains(rv.May, a.Kind) && a.Time.Before(rv.From) && a.Seq <= rv.Through {
			return nil
		}
	}
	return ErrRevoked
}

func compareChain(t *testing.T, round int, c *Chain, ref *refChain, ids []peer.ID, ops []*Signed, rng *rand.Rand) {
	t.Helper()
	if got := states(c); !maps.Equal(got, ref.state) {
		for _, o := range c.Ops() {
			if ref.state[o.Op.Hash()] != o.State {
				t.Logf("%s: %s (%s), model %s; seq %d signer %s prev %s", o.Op.Hash(), o.State, o.Reason, ref.state[o.Op.Hash()], o.Op.Announcement().Seq, o.Op.Signer(), o.Op.Announcement().Org.Prev)
			}
		}
		t.Fatalf("round %d: states differ from the model", round)
	}
	if (c.Head() == nil) != (ref.head == nil) || (ref.head != nil && c.Head().Hash() != ref.head.Hash()) {
		t.Fatalf("round %d: head differs from the model", round)
	}
	for _, x := range ref.linked {
		if o, _ := c.Op(x.Hash()); !x.Announcement().Org.Prev.IsZero() && o.Rank != ref.rank[x.Hash()] {
			t.Fatalf("round %d: rank %d, model %d", round, o.Rank, ref.rank[x.Hash()])
		}
	}
	n := 0
	for _, x := range ref.linked {
		for _, y := range ref.linked {
			xa, ya := x.Announcement().Org, y.Announcement().Org
			if x.Hash() == y.Hash() || xa.Prev.IsZero() || xa.Prev != ya.Prev {
				continue
			}
			p := ref.byH[xa.Prev]
			for _, s := range ref.linkingSigners(p, x) {
				if slices.Contains(ref.linkingSigners(p, y), s) {
					n++
				}
			}
		}
	}
	pairs := 0
	for _, e := range c.Equivocations() {
		pairs += len(e.Ops) * (len(e.Ops) - 1)
	}
	if pairs != n {
		t.Fatalf("round %d: %d equivocating pairs, model %d", round, pairs, n)
	}
	for i := range 20 {
		signer := ids[4+rng.IntN(4)]
		auth := ops[rng.IntN(len(ops))].Hash()
		a := delegatedPractice(c.Org(), auth, uint64(1+rng.IntN(6)), t0.Add(time.Duration(rng.IntN(6))*time.Hour), "cric-roubaix")
		want, got := ref.authorise(a, signer), c.Authorise(a, signer)
		if (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
			t.Fatalf("round %d, record %d: Authorise = %v, model %v", round, i, got, want)
		}
		if c.Status(signer).Role != refRole(ref, signer) {
			t.Fatalf("round %d: status of %s differs", round, signer)
		}
	}
}

func refRole(r *refChain, k peer.ID) KeyRole {
	if r.head == nil {
		return KeyUnknown
	}
	o := r.head.Announcement().Org
	switch {
	case slices.Contains(o.Keys, k):
		return KeyRotation
	case slices.ContainsFunc(o.Delegates, func(d Delegation) bool { return d.Key == k }):
		return KeyDelegated
	case slices.ContainsFunc(o.Revoked, func(d Revocation) bool { return d.Key == k }):
		return KeyRevoked
	}
	return KeyUnknown
}
