package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// chainKit is the fixed key set of the chain fuzzers, laid out as in
// TestChainModel: keys 0-3 rotate, 4-7 are delegates; other is the
// genesis of a second organisation, and otherOp an operation of it.
type chainKit struct {
	keys           []crypto.PrivKey
	ids            []peer.ID
	other, otherOp *Signed
}

func newChainKit(t testing.TB) *chainKit {
	k := &chainKit{}
	for i := range 8 {
		k.keys = append(k.keys, testKey(t, byte(100+i)))
		k.ids = append(k.ids, idOf(t, k.keys[i]))
	}
	k.other = mustSeal(t, genesisAnn("Other", []peer.ID{k.ids[1]}, k.ids[5]), k.keys[1])
	next, err := NextOp(k.other, 0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k.otherOp = mustSeal(t, next, k.keys[1])
	return k
}

// fuzzBytes reads fuzz input one byte at a time, zeros once it runs out.
type fuzzBytes []byte

func (r *fuzzBytes) next() int {
	if len(*r) == 0 {
		return 0
	}
	v := (*r)[0]
	*r = (*r)[1:]
	return int(v)
}

// chainOps builds the operations data describes: a genesis from the
// first byte, then, for every 4 bytes, an operation after an earlier one
// (a copy, a rotation, a delegation, a revocation, a continuity break, a
// prev that is never held, or a repeat of an earlier one) with its seq
// and time deltas and its signer (sometimes a delegate). ops are all the
// operations made, held those in the input (an operation left out makes
// its descendants pending).
func (k *chainKit) chainOps(t *testing.T, data []byte) (ops, held []*Signed) {
	r := fuzzBytes(data)
	h := r.next()
	g := genesisAnn("Org", slices.Clone(k.ids[:1+h%3]))
	if h&8 != 0 {
		g.Org.Delegates = []Delegation{{Key: k.ids[4], May: allKinds()}}
	}
	ops = []*Signed{mustSeal(t, g, k.keys[0])}
	if h&0x80 == 0 {
		held = append(held, ops[0])
	}
	for len(r) > 0 && len(ops) < 16 {
		p, kind, s, m := ops[r.next()%len(ops)], r.next(), r.next(), r.next()
		if kind%8 == 7 { // a repeat: duplicates in the input
			held = append(held, p)
			continue
		}
		a, err := NextOp(p, 0, p.Announcement().Time)
		if err != nil {
			t.Fatal(err)
		}
		a.Seq = p.Announcement().Seq + uint64(m>>4&3) - 1 // 0 is not above prev
		a.Seq = max(a.Seq, 2)
		a.Time = p.Announcement().Time.Add(time.Duration(m>>6-1) * time.Hour)
		mutateOp(a.Org, kind%8, m, k.ids)
		sg, err := Seal(a, k.keys[s%8])
		if err != nil {
			continue // statically invalid: Open would refuse it
		}
		ops = append(ops, sg)
		if s&0x80 == 0 {
			held = append(held, sg)
		}
	}
	return ops, held
}

// mutateOp changes the key state of an operation as kind says, with m
// choosing keys, kinds and times.
func mutateOp(o *OrgOp, kind, m int, ids []peer.ID) {
	switch kind {
	case 1: // rotate
		o.Keys = nil
		for i := range 4 {
			if m&(1<<i) != 0 {
				o.Keys = append(o.Keys, ids[(i+m>>4)%4])
			}
		}
		if len(o.Keys) == 0 {
			o.Keys = []peer.ID{ids[m%4]}
		}
	case 2: // delegate
		d := Delegation{Key: ids[4+m%4], May: []Kind{KindPractice}}
		if m&4 != 0 {
			d.May = append(d.May, KindRetract)
		}
		if m&8 != 0 {
			d.Until = t0.Add(time.Duration(m>>4) * time.Hour)
		}
		if !o.listsKey(d.Key) {
			o.Delegates = append(o.Delegates, d)
		}
	case 3: // revoke
		if len(o.Delegates) > 0 {
			d := o.Delegates[m%len(o.Delegates)]
			o.Delegates = slices.DeleteFunc(o.Delegates, func(x Delegation) bool { return x.Key == d.Key })
			o.Revoked = append(o.Revoked, Revocation{Key: d.Key, May: d.May, From: t0.Add(time.Duration(m>>4) * time.Hour), Through: uint64(m % 6)})
		}
	case 4: // break continuity
		if len(o.Delegates) > 0 && m&1 == 0 {
			o.Delegates = o.Delegates[1:]
		} else if len(o.Revoked) > 0 {
			o.Revoked[0].Through++
		}
	case 5: // a prev that no one holds
		o.Prev = sha256.Sum256([]byte{byte(m)})
	case 6:
		o.Name = "Renamed"
	}
}

// FuzzChain builds operations from fuzz bytes and checks NewChain: the
// brute-force model of chain_prop_test.go agrees; the result is the same
// for any order and repetition of the input; the structure holds (the
// head is reached from the genesis by canonical operations, states follow
// prev links, pending means a missing operation), and Authorise of every
// operation agrees with its state.
func FuzzChain(f *testing.F) {
	k := newChainKit(f)
	for _, seed := range chainSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, held := k.chainOps(t, data)
		org := ops[0].Announcement().Publisher
		c := NewChain(org, append(slices.Clone(held), k.other, k.otherOp))
		sum := sha256.Sum256(data)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:]), binary.LittleEndian.Uint64(sum[8:])))
		compareChain(t, 0, c, newRefChain(org, held), k.ids, ops, rng)
		checkChainShape(t, c, ops, held)
		in := append(slices.Clone(held), k.otherOp, k.other)
		for range rng.IntN(4) {
			in = append(in, in[rng.IntN(len(in))])
		}
		rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		sameChain(t, c, NewChain(org, in), ops, k.ids)
	})
}

// chainSeeds are inputs of FuzzChain that reach every state and
// equivocations: mostly rotation keys signing, now and then a delegate,
// an operation left out, the genesis missing or the other organisation.
func chainSeeds() [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	seeds := [][]byte{{0}, {0x8a, 0, 0, 0, 0x50}}
	for range 24 {
		b := []byte{byte(rng.IntN(3) | rng.IntN(2)<<3)}
		if rng.IntN(10) == 0 {
			b[0] |= 0x80 // the genesis is missing
		}
		for range 4 + rng.IntN(12) {
			s := rng.IntN(3)
			if rng.IntN(8) == 0 {
				s = 4 + rng.IntN(4)
			}
			if rng.IntN(8) == 0 {
				s |= 0x80
			}
			m := rng.IntN(256)
			if rng.IntN(4) > 0 {
				m = m&^0xf0 | 0x50 // seq + 1, time + 0 or + 1 hour
			}
			b = append(b, byte(rng.IntN(256)), byte(rng.IntN(8)), byte(s), byte(m))
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// checkChainShape checks c's structure against the operations held.
func checkChainShape(t *testing.T, c *Chain, ops, held []*Signed) {
	t.Helper()
	isHeld := make(map[Hash]bool)
	for _, s := range held {
		isHeld[s.Hash()] = true
	}
	if c.Known() != isHeld[ops[0].Hash()] || len(c.Ops()) != len(isHeld) {
		t.Fatalf("known %v with %d operations, %d held", c.Known(), len(c.Ops()), len(isHeld))
	}
	// The canonical chain: Ops starts with it, genesis to head, each the
	// next one's prev, and the head has no linked child.
	var canon []Hash
	for _, o := range c.Ops() {
		if o.State == OpCanonical {
			canon = append(canon, o.Op.Hash())
		}
	}
	if c.Known() != (len(canon) > 0) || (c.Head() != nil) != (len(canon) > 0) {
		t.Fatalf("%d canonical operations, known %v", len(canon), c.Known())
	}
	for i, h := range canon {
		o := c.Ops()[i]
		prev := o.Op.Announcement().Org.Prev
		if o.Op.Hash() != h || (i == 0) != prev.IsZero() || (i > 0 && prev != canon[i-1]) {
			t.Fatalf("canonical operation %d (%s) does not follow %d", i, h, i-1)
		}
	}
	for _, o := range c.Ops() {
		a := o.Op.Announcement()
		if c.Head() != nil && a.Org.Prev == c.Head().Hash() && o.State.Linked() {
			t.Fatalf("the head has a linked child %s", o.Op.Hash())
		}
		// Pending iff the walk back meets an operation not held.
		missing := false
		for cur := a.Org; !cur.Prev.IsZero(); {
			p, ok := c.Op(cur.Prev)
			if !ok {
				missing = true
				break
			}
			cur = p.Op.Announcement().Org
		}
		if missing != (o.State == OpPending) {
			t.Fatalf("%s is %s (%s), a missing operation behind it: %v", o.Op.Hash(), o.State, o.Reason, missing)
		}
		p, ok := c.Op(a.Org.Prev)
		switch {
		case a.Org.Prev.IsZero():
			if o.State == OpBroken || o.State == OpPending {
				t.Fatalf("the genesis is %s", o.State)
			}
		case ok && p.State == OpBroken && o.State != OpBroken:
			t.Fatalf("%s follows a broken operation and is %s", o.Op.Hash(), o.State)
		case o.State.Linked() && (!ok || !p.State.Linked() || !refLinks(p.Op, o.Op)):
			t.Fatalf("%s is linked but its prev is not, or it breaks a linking rule", o.Op.Hash())
		}
		checkAuthoriseOp(t, c, o)
	}
}

// checkAuthoriseOp checks that Authorise of an operation held agrees
// with its state (PROTOCOL.md 12.6, last paragraph).
func checkAuthoriseOp(t *testing.T, c *Chain, o ChainOp) {
	t.Helper()
	a := o.Op.Announcement()
	err := c.Authorise(a, o.Op.Signer())
	var want error
	switch {
	case a.Org.Prev.IsZero() || o.State.Linked():
	case o.State == OpPending:
		want = ErrChainPending
	default:
		want = ErrUnauthorised
	}
	if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
		t.Fatalf("Authorise of %s operation %s = %v, want %v", o.State, o.Op.Hash(), err, want)
	}
}

// sameChain checks that two chains of the same set judge alike: the same
// operations in the same order and states, head, equivocations, key
// statuses and authorisations.
func sameChain(t *testing.T, c, d *Chain, ops []*Signed, ids []peer.ID) {
	t.Helper()
	co, do := c.Ops(), d.Ops()
	if len(co) != len(do) {
		t.Fatalf("%d operations, %d after reordering", len(co), len(do))
	}
	for i := range co {
		x, y := co[i], do[i]
		if x.Op.Hash() != y.Op.Hash() || x.State != y.State || x.Reason != y.Reason || x.Rank != y.Rank {
			t.Fatalf("operation %d: %s %s %q rank %d, after reordering %s %s %q rank %d", i, x.Op.Hash(), x.State, x.Reason, x.Rank, y.Op.Hash(), y.State, y.Reason, y.Rank)
		}
	}
	if c.Head() != d.Head() && (c.Head() == nil || d.Head() == nil || c.Head().Hash() != d.Head().Hash()) {
		t.Fatal("the head depends on the order")
	}
	ce, de := c.Equivocations(), d.Equivocations()
	if !slices.EqualFunc(ce, de, func(a, b OrgEquivocation) bool {
		return a.Prev == b.Prev && a.Signer == b.Signer && slices.Equal(a.Ops, b.Ops)
	}) {
		t.Fatalf("equivocations %v, after reordering %v", ce, de)
	}
	for _, id := range ids {
		cs, ds := c.Status(id), d.Status(id)
		if cs.Role != ds.Role || cs.Priority != ds.Priority || !slices.Equal(cs.May, ds.May) {
			t.Fatalf("status of %s depends on the order", id)
		}
	}
	for i, s := range ops {
		for _, signer := range ids {
			a := delegatedPractice(c.Org(), s.Hash(), uint64(2+i), t0.Add(time.Duration(i)*time.Hour), "cric-roubaix")
			ce, de := c.Authorise(a, signer), d.Authorise(a, signer)
			if (ce == nil) != (de == nil) || (ce != nil && ce.Error() != de.Error()) {
				t.Fatalf("Authorise under %s: %v, after reordering %v", s.Hash(), ce, de)
			}
		}
		ce, de := c.Authorise(s.Announcement(), s.Signer()), d.Authorise(s.Announcement(), s.Signer())
		if (ce == nil) != (de == nil) || (ce != nil && ce.Error() != de.Error()) {
			t.Fatalf("Authorise of operation %s: %v, after reordering %v", s.Hash(), ce, de)
		}
	}
}

// FuzzChainOps signs raw fuzz bytes as a payload with one of the kit's
// keys, opens the envelope and judges what opens with a fixed chain (a
// genesis and a delegation): no panic; an operation links only if it
// follows the linking rules; Authorise agrees with the brute-force model
// and does not depend on the order or repetition of the input.
func FuzzChainOps(f *testing.F) {
	k := newChainKit(f)
	g := mustSeal(f, genesisAnn("Org", []peer.ID{k.ids[0], k.ids[1]}, k.ids[4]), k.keys[0])
	org := g.Announcement().Publisher
	del, err := Delegate(g, 0, t0.Add(time.Hour), Delegation{Key: k.ids[5], May: []Kind{KindPractice, KindMembers}})
	if err != nil {
		f.Fatal(err)
	}
	op1 := mustSeal(f, del, k.keys[1])
	for _, c := range chainOpsSeeds(f, k, g, op1) {
		f.Add(c.key, c.payload)
	}
	base := []*Signed{g, op1}
	ref := newRefChain(org, base)
	f.Fuzz(func(t *testing.T, key byte, payload []byte) {
		s, err := Open(sealRaw(t, k.keys[int(key)%len(k.keys)], EnvelopeDomain, PayloadType, payload))
		if err != nil {
			return
		}
		checkOpened(t, s)
		a := s.Announcement()
		c := NewChain(org, append(slices.Clone(base), s))
		sameChain(t, c, NewChain(org, []*Signed{s, op1, s, g, op1}), base, k.ids)
		authErr := c.Authorise(a, s.Signer())
		switch {
		case a.Publisher != org:
			if len(c.Ops()) != 2 || authErr == nil {
				t.Fatalf("a record of %s changed the chain of %s, or was authorised by it: %v", a.Publisher, org, authErr)
			}
		case a.Kind == KindOrg:
			o, _ := c.Op(s.Hash())
			p, held := ref.byH[a.Org.Prev]
			links := held && refLinks(p, s)
			if o.State.Linked() != links || (authErr == nil) != links {
				t.Fatalf("operation after %s: %s (%s), Authorise %v; the rules say it links: %v", a.Org.Prev, o.State, o.Reason, authErr, links)
			}
		default:
			want := ref.authorise(a, s.Signer())
			if (want == nil) != (authErr == nil) || (want != nil && !errors.Is(authErr, want)) {
				t.Fatalf("Authorise = %v, model %v", authErr, want)
			}
		}
	})
}

// chainOpsSeed is one input of FuzzChainOps: a key index and a payload.
type chainOpsSeed struct {
	key     byte
	payload []byte
}

// chainOpsSeeds are payloads of FuzzChainOps around the fixed chain: an
// operation after each held one, by a rotation key and by another, one
// after an operation not held, records of delegates and of strangers, and
// another organisation's genesis.
func chainOpsSeeds(t testing.TB, k *chainKit, g, op1 *Signed) []chainOpsSeed {
	org := g.Announcement().Publisher
	var out []chainOpsSeed
	add := func(key int) func(*Announcement, error) {
		return func(a *Announcement, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if !a.isGenesis() {
				a.Signer = k.ids[key]
			}
			b, err := EncodePayload(a)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, chainOpsSeed{byte(key), b})
		}
	}
	add(0)(Rotate(op1, 0, t0.Add(2*time.Hour), []crypto.PubKey{k.keys[2].GetPublic()}))
	add(1)(Revoke(op1, 0, t0.Add(2*time.Hour), k.ids[5], t0.Add(3*time.Hour), 4))
	add(2)(NextOp(op1, 0, t0.Add(2*time.Hour)))
	add(1)(NextOp(g, 0, t0))
	add(6)(Delegate(g, 3, t0.Add(time.Hour), Delegation{Key: k.ids[6], May: []Kind{KindProfile}}))
	add(0)(NextOp(mustSeal(t, mustNext(t, op1), k.keys[0]), 0, t0.Add(3*time.Hour)))
	add(0)(&Announcement{V: Version, Publisher: org, Seq: 3, Time: t0.Add(time.Hour), Kind: KindOrg,
		Org: &OrgOp{Prev: op1.Hash(), Name: "Org", Keys: []peer.ID{k.ids[0]}, Delegates: []Delegation{{Key: k.ids[4], May: allKinds()}}}}, nil)
	add(4)(delegatedPractice(org, g.Hash(), 4, t0.Add(time.Hour), "cric-roubaix"), nil)
	add(5)(delegatedPractice(org, op1.Hash(), 4, t0.Add(time.Hour), "cric-roubaix"), nil)
	add(5)(delegatedPractice(org, g.Hash(), 4, t0.Add(time.Hour), "cric-roubaix"), nil)
	add(7)(delegatedPractice(org, op1.Hash(), 4, t0.Add(time.Hour), "cric-roubaix"), nil)
	add(5)(&Announcement{V: Version, Publisher: org, Seq: 9, Time: t0, Kind: KindMembers, Auth: op1.Hash(),
		Members: &MemberList{List: "network", Title: "Members", Members: []Member{{ID: org}, {ID: k.ids[7], Name: "Seven"}}}}, nil)
	add(1)(genesisAnn("Other", []peer.ID{k.ids[1]}, k.ids[5]), nil)
	for i := range out {
		if out[i].payload[0] == '{' && i%3 == 0 {
			out[i].payload = append(out[i].payload, ' ') // not canonical, still valid JSON
		}
	}
	return out
}

// mustNext is NextOp after s with the next seq, an hour later.
func mustNext(t testing.TB, s *Signed) *Announcement {
	a, err := NextOp(s, 0, s.Announcement().Time.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
