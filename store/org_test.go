package store

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testOrg is an organisation made for a test: its rotation key and
// genesis operation.
type testOrg struct {
	id      peer.ID
	rot     crypto.PrivKey
	genesis *protocol.Signed
}

var allDelegable = []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile, protocol.KindMembers}

// newOrg creates an organisation whose rotation key has the given seed
// and whose genesis delegates every kind to delegates.
func newOrg(t testing.TB, seed byte, delegates ...peer.ID) *testOrg {
	t.Helper()
	rot, rotID := key(t, seed)
	op := &protocol.OrgOp{Name: "Org " + strconv.Itoa(int(seed)), Keys: []peer.ID{rotID}}
	for _, d := range delegates {
		op.Delegates = append(op.Delegates, protocol.Delegation{Key: d, May: allDelegable})
	}
	g := seal(t, rot, &protocol.Announcement{Seq: 1, Kind: protocol.KindOrg, Org: op})
	if !protocol.IsOrg(g.Announcement().Publisher) {
		t.Fatalf("genesis publisher %s is no organisation ID", g.Announcement().Publisher)
	}
	return &testOrg{id: g.Announcement().Publisher, rot: rot, genesis: g}
}

// op returns an operation of o after prev, signed by the rotation key,
// renamed to name (so that two ops at one sequence differ).
func (o *testOrg) op(t testing.TB, seq uint64, prev *protocol.Signed, name string) *protocol.Signed {
	t.Helper()
	next := *prev.Announcement().Org
	next.Prev, next.Name, next.Adopts = prev.Hash(), name, ""
	return seal(t, o.rot, &protocol.Announcement{Publisher: o.id, Seq: seq, Kind: protocol.KindOrg, Org: &next})
}

// practice returns a practice of o signed by the delegate k.
func (o *testOrg) practice(t testing.TB, k crypto.PrivKey, seq uint64, id, title string) *protocol.Signed {
	t.Helper()
	return seal(t, k, &protocol.Announcement{Publisher: o.id, Seq: seq, Kind: protocol.KindPractice,
		Auth: o.genesis.Hash(), Practice: sheet(id, title)})
}

// retract returns a retraction of o signed by the delegate k.
func (o *testOrg) retract(t testing.TB, k crypto.PrivKey, seq uint64, id string) *protocol.Signed {
	t.Helper()
	return seal(t, k, &protocol.Announcement{Publisher: o.id, Seq: seq, Kind: protocol.KindRetract,
		Auth: o.genesis.Hash(), Retract: &protocol.Retraction{ID: id}})
}

// members returns a membership list of o signed by the delegate k.
func (o *testOrg) members(t testing.TB, k crypto.PrivKey, seq uint64, list string, ids ...peer.ID) *protocol.Signed {
	t.Helper()
	ml := &protocol.MemberList{List: list, Title: "List " + list}
	for _, id := range ids {
		ml.Members = append(ml.Members, protocol.Member{ID: id})
	}
	return seal(t, k, &protocol.Announcement{Publisher: o.id, Seq: seq, Kind: protocol.KindMembers,
		Auth: o.genesis.Hash(), Members: ml})
}

func equivocations(t testing.TB, s *Store) []Equivocation {
	t.Helper()
	var out []Equivocation
	for e, err := range s.Equivocations() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func evidenceCount(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEvidence}})
		defer it.Close()
		for it.Seek([]byte{prefixEvidence}); it.ValidForPrefix([]byte{prefixEvidence}); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// seenHash reports whether the seen log holds (pub, seq, h).
func seenHash(t testing.TB, s *Store, pub peer.ID, seq uint64, h protocol.Hash) bool {
	t.Helper()
	seen, err := s.Seen(pub, seq, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// TestOrgSignersShareSequence: delegates of one organisation share its
// sequence. The same number in different slots is no equivocation; in
// one slot the lower hash wins and the other is superseded, not kept as
// evidence; one key signing two records with one number equivocates.
func TestOrgSignersShareSequence(t *testing.T) {
	ka, a := key(t, 40)
	kb, b := key(t, 41)
	o := newOrg(t, 42, a, b)
	s := openStore(t, "")
	res := apply(t, s, o.genesis,
		o.practice(t, ka, 2, "alpha", "A's"), o.practice(t, kb, 2, "bravo", "B's"))
	for _, r := range res {
		if r.Outcome != Applied || r.Equivocation {
			t.Fatalf("same sequence, different slots: %+v", res)
		}
	}
	x, y := o.practice(t, ka, 3, "charlie", "A's"), o.practice(t, kb, 3, "charlie", "B's")
	win, lose := x, y
	if hx, hy := x.Hash(), y.Hash(); string(hy[:]) < string(hx[:]) {
		win, lose = y, x
	}
	for _, order := range [][]*protocol.Signed{{x, y}, {y, x}} {
		s := openStore(t, "")
		res := apply(t, s, order...)
		if res[0].Equivocation || res[1].Equivocation {
			t.Fatalf("two signers, one sequence, one slot: %+v", res)
		}
		if r, err := s.Get(o.id, "charlie"); err != nil || r.Signed.Hash() != win.Hash() {
			t.Fatalf("the lower hash does not hold the slot: %v", err)
		}
		if n := evidenceCount(t, s); n != 0 {
			t.Fatalf("%d pieces of evidence for two signers' records", n)
		}
		if h := lose.Hash(); !seenHash(t, s, o.id, 3, h) {
			t.Fatal("the superseded record is not in the seen log")
		}
	}
	if len(equivocations(t, s)) != 0 {
		t.Fatal("an equivocation is recorded for two signers")
	}

	// A equivocates at 4 (two slots); B also uses 4: only A's pair is one.
	a4, a4b, b4 := o.practice(t, ka, 4, "delta", "A's"), o.practice(t, ka, 4, "echo", "A's twin"), o.practice(t, kb, 4, "foxtrot", "B's")
	res = apply(t, s, a4, b4, a4b)
	if res[0].Equivocation || res[1].Equivocation || !res[2].Equivocation {
		t.Fatalf("equivocation flags %+v", res)
	}
	want := []protocol.Hash{a4.Hash(), a4b.Hash()}
	slices.SortFunc(want, func(p, q protocol.Hash) int { return strings.Compare(string(p[:]), string(q[:])) })
	eqs := equivocations(t, s)
	if len(eqs) != 1 || eqs[0].Signer != a || eqs[0].Seq != 4 || !slices.Equal(eqs[0].Hashes, want) {
		t.Fatalf("equivocations %+v, want A's pair at 4", eqs)
	}

	// One signer's twins in one slot: the loser is kept as evidence.
	if n := evidenceCount(t, s); n != 0 {
		t.Fatalf("%d pieces of evidence before any twins in one slot", n)
	}
	apply(t, s, o.practice(t, kb, 6, "golf", "B's"), o.practice(t, kb, 6, "golf", "B's twin"))
	if n := evidenceCount(t, s); n != 1 {
		t.Fatalf("%d pieces of evidence for one signer's twins, want 1", n)
	}

	// Operations have a slot each: two by one key at one sequence are an
	// equivocation, but neither supersedes the other.
	op1, op2 := o.op(t, 5, o.genesis, "Renamed"), o.op(t, 5, o.genesis, "Renamed again")
	apply(t, s, op1, op2, op1)
	ops, err := s.OrgOps(o.id)
	if err != nil || len(ops) != 3 {
		t.Fatalf("OrgOps = %d ops, %v; want 3", len(ops), err)
	}
	for _, op := range ops {
		if !strings.HasPrefix(op.Slot(), protocol.OrgSlotPrefix) || op.Announcement().Kind != protocol.KindOrg {
			t.Fatalf("OrgOps returned %s in %s", op.Announcement().Kind, op.Slot())
		}
	}
	if p, _ := s.PublisherSummary(o.id); p.OrgOps != 3 || p.Practices != 6 || p.Equivocations != 3 {
		t.Fatalf("summary %+v", p)
	}
	if ops, err := s.OrgOps(a); err != nil || len(ops) != 0 {
		t.Fatalf("OrgOps of a key publisher = %d, %v", len(ops), err)
	}
	checkDerived(t, s)
	before := dump(t, s)
	if err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, s); after != before {
		t.Fatalf("Rebuild changed the store:\n%s\nbefore:\n%s", after, before)
	}
}

// TestSummaryVersion4 round-trips a summary and refuses the layouts of
// earlier schemas (Open rebuilds every summary when it upgrades a store,
// so a summary of another version is corruption).
func TestSummaryVersion4(t *testing.T) {
	want := summary{practices: 3, retracted: 1, profiles: 1, maxSeq: 9, maxSeen: 10, equivocations: 1, bytes: 4096,
		orgOps: 2, lists: 1, experiences: 5, retractedExp: 2, v1Count: 4, v1MaxSeq: 8, updated: t0}
	want.sum.Add(protocol.Hash{1})
	want.v1Sum.Add(protocol.Hash{2})
	b := want.encode()
	if back, err := decodeSummary(b); err != nil || back != want || b[0] != 4 {
		t.Fatalf("version 4 round trip: %+v, %v", back, err)
	}
	if _, err := decodeSummary(b[:len(b)-1]); err == nil {
		t.Fatal("a short summary decodes")
	}
	v3 := []byte{3}
	for _, n := range want.fields()[:9] {
		v3 = binary.BigEndian.AppendUint64(v3, *n)
	}
	v3 = append(v3, want.sum[:]...)
	v3 = binary.BigEndian.AppendUint64(v3, uint64(t0.UnixNano()))
	if _, err := decodeSummary(v3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a version-3 summary decodes: %v", err)
	}
}

// orgHistory is the announcements of TestPropertyOrgOrderIndependence: a
// plain publisher, and an organisation with three delegates that share
// its sequence (often the same number, now and then in the same slot),
// equivocate now and then, publish practices, retractions, profiles and
// membership lists, and its rotation key's operations (forks included).
func orgHistory(t testing.TB, rng *rand.Rand) []*protocol.Signed {
	var ks []crypto.PrivKey
	var ids []peer.ID
	for i := range 3 {
		k, id := key(t, byte(50+i))
		ks, ids = append(ks, k), append(ids, id)
	}
	o := newOrg(t, 60, ids...)
	plain, _ := key(t, 61)
	all := []*protocol.Signed{o.genesis}
	ops := []*protocol.Signed{o.genesis}
	slots := []string{"alpha", "bravo", "charlie"}
	for seq := uint64(2); seq <= 30; seq++ {
		signers := 1 + rng.IntN(3) // how many delegates use this number
		for _, d := range rng.Perm(3)[:signers] {
			k := ks[d]
			slot := slots[rng.IntN(len(slots))]
			title := "Title " + strconv.Itoa(int(seq)) + "/" + strconv.Itoa(d)
			switch r := rng.IntN(10); {
			case r < 2:
				all = append(all, o.retract(t, k, seq, slot))
			case r < 3:
				all = append(all, o.members(t, k, seq, "network", ids[rng.IntN(3)], o.id))
			case r < 4:
				all = append(all, seal(t, k, &protocol.Announcement{Publisher: o.id, Seq: seq, Kind: protocol.KindProfile,
					Auth: o.genesis.Hash(), Profile: &protocol.Profile{Name: title, Country: "IT", Level: "network"}}))
			default:
				all = append(all, o.practice(t, k, seq, slot, title))
			}
			if rng.IntN(8) == 0 { // equivocate
				all = append(all, o.practice(t, k, seq, slots[rng.IntN(len(slots))], "Equivocation "+title))
			}
		}
		if rng.IntN(5) == 0 { // an operation on a random earlier one: forks too
			op := o.op(t, seq, ops[rng.IntN(len(ops))], "Name "+strconv.Itoa(int(seq)))
			ops = append(ops, op)
			all = append(all, op)
		}
		all = append(all, practice(t, plain, seq, slots[rng.IntN(len(slots))], "Plain "+strconv.Itoa(int(seq))))
	}
	return all
}

// TestPropertyOrgOrderIndependence applies the records of orgHistory to
// several stores in random orders, with duplicates and in random
// batches: every store must hold the state a model computes (the best
// record of each slot), the equivocations a model computes (one signer,
// one sequence, two hashes), and the same digests; Rebuild changes none
// of it.
func TestPropertyOrgOrderIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	all := orgHistory(t, rng)
	model := map[string]*protocol.Signed{}
	bySigner := map[string]map[protocol.Hash]bool{}
	for _, sg := range all {
		a := sg.Announcement()
		k := a.Publisher.String() + "/" + sg.Slot()
		if cur := model[k]; cur == nil || rankAbove(a.Seq, sg.Hash(), cur.Announcement().Seq, cur.Hash()) {
			model[k] = sg
		}
		e := a.Publisher.String() + " " + sg.Signer().String() + " " + strconv.FormatUint(a.Seq, 10)
		if bySigner[e] == nil {
			bySigner[e] = map[protocol.Hash]bool{}
		}
		bySigner[e][sg.Hash()] = true
	}
	var want, wantEq []string
	for _, w := range model {
		want = append(want, w.Announcement().Publisher.String()+" "+w.Slot()+" "+w.Hash().String())
	}
	for e, hs := range bySigner {
		if len(hs) > 1 {
			wantEq = append(wantEq, e+" "+strconv.Itoa(len(hs)))
		}
	}
	slices.Sort(want)
	slices.Sort(wantEq)
	if len(wantEq) == 0 || !sharedSlot(all) {
		t.Fatal("the history has no equivocation, or no two signers in one slot at one sequence; the test lost its teeth")
	}

	var first string
	for round := range 6 {
		order := slices.Clone(all)
		for range len(all) / 3 {
			order = append(order, all[rng.IntN(len(all))])
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		s := openStore(t, "")
		for len(order) > 0 {
			n := min(len(order), 1+rng.IntN(8))
			apply(t, s, order[:n]...)
			order = order[n:]
		}
		var got, gotEq []string
		for r, err := range s.List(ListOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Announcement().Publisher.String()+" "+r.Signed.Slot()+" "+r.Signed.Hash().String())
		}
		for _, e := range equivocations(t, s) {
			gotEq = append(gotEq, e.Publisher.String()+" "+e.Signer.String()+" "+strconv.FormatUint(e.Seq, 10)+" "+strconv.Itoa(len(e.Hashes)))
		}
		slices.Sort(got)
		slices.Sort(gotEq)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: state differs from the model:\n got %v\nwant %v", round, got, want)
		}
		if !slices.Equal(gotEq, wantEq) {
			t.Fatalf("round %d: equivocations differ from the model:\n got %v\nwant %v", round, gotEq, wantEq)
		}
		d := dump(t, s)
		if round == 0 {
			first = d
		} else if d != first {
			t.Fatalf("round %d: replica differs:\n%s\nfirst:\n%s", round, d, first)
		}
		checkDerived(t, s)
		checkFeed(t, s)
		checkEvidence(t, s, bySigner)
		if round%3 == 0 {
			if err := s.Rebuild(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d2 := dump(t, s); d2 != d {
				t.Fatalf("Rebuild changed the store:\n%s\nbefore:\n%s", d2, d)
			}
		}
	}
}

// sharedSlot reports whether two signers published in one slot of one
// publisher with one sequence number.
func sharedSlot(all []*protocol.Signed) bool {
	signers := map[string]peer.ID{}
	for _, sg := range all {
		a := sg.Announcement()
		k := a.Publisher.String() + " " + sg.Slot() + " " + strconv.FormatUint(a.Seq, 10)
		if other, ok := signers[k]; ok && other != sg.Signer() {
			return true
		}
		signers[k] = sg.Signer()
	}
	return false
}

// checkEvidence requires every piece of evidence in s to be one of two
// records that its signer signed with one sequence number (bySigner:
// publisher, signer and sequence -> hashes).
func checkEvidence(t testing.TB, s *Store, bySigner map[string]map[protocol.Hash]bool) {
	t.Helper()
	for k, err := range s.Keys() {
		if err != nil {
			t.Fatal(err)
		}
		env, err := s.Envelope(k.Publisher, k.Seq, k.Hash[:])
		if err != nil {
			t.Fatal(err)
		}
		sg, err := protocol.DecodeStored(env)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := s.Get(k.Publisher, sg.Slot()); err == nil && r.Signed.Hash() == k.Hash {
			continue // state
		}
		e := k.Publisher.String() + " " + sg.Signer().String() + " " + strconv.FormatUint(k.Seq, 10)
		if len(bySigner[e]) < 2 {
			t.Fatalf("evidence %s/%d %s by %s, which signed no other record with that number", k.Publisher, k.Seq, k.Hash, sg.Signer())
		}
	}
}
