package store

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/khantara/khantara/protocol"
)

func lookup(t testing.TB, s *Store, sg *protocol.Signed) *Prior {
	t.Helper()
	p, err := s.Lookup(sg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func applyWith(t testing.TB, s *Store, in ...Incoming) []Result {
	t.Helper()
	res, err := s.Apply(context.Background(), in...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLookupAnswers: Lookup answers what Seen, Head and PublisherSummary
// answer.
func TestLookupAnswers(t *testing.T) {
	s := openStore(t, "")
	k, pub := key(t, 3)
	v1 := practice(t, k, 1, "slot", "One")
	p := lookup(t, s, v1)
	if _, ok := p.Head(); ok || p.Seen() {
		t.Fatal("an empty store has a head or has seen the announcement")
	}
	if _, ok := p.Publisher(); ok {
		t.Fatal("an empty store knows the publisher")
	}
	apply(t, s, v1)
	v2 := practice(t, k, 2, "slot", "Two")
	for _, sg := range []*protocol.Signed{v1, v2} {
		p := lookup(t, s, sg)
		h := sg.Hash()
		seen, _ := s.Seen(pub, sg.Announcement().Seq, h[:])
		head, _ := s.Head(pub, "slot")
		sum, _ := s.PublisherSummary(pub)
		gotHead, ok := p.Head()
		gotSum, known := p.Publisher()
		if p.Seen() != seen || !ok || gotHead != head || !known || gotSum != sum {
			t.Fatalf("Lookup(seq %d) = seen %v head %+v %v sum %+v, store says %v %+v %+v",
				sg.Announcement().Seq, p.Seen(), gotHead, ok, gotSum, seen, head, sum)
		}
	}
}

// TestPriorReusedOnlyWhenFresh: Apply takes what Lookup read when nothing
// was written since under the announcement's sequence or slot, and reads
// the store again when something was, in another transaction or earlier
// in its own.
func TestPriorReusedOnlyWhenFresh(t *testing.T) {
	s := openStore(t, "")
	k, pub := key(t, 4)
	v2 := practice(t, k, 2, "slot", "Two")
	v3 := practice(t, k, 3, "slot", "Three")

	// Fresh: reused, and the outcome is right.
	p := lookup(t, s, v2)
	if res := applyWith(t, s, Incoming{Signed: v2, Prior: p}); res[0].Outcome != Applied || s.reused.Load() != 1 {
		t.Fatalf("fresh prior: %+v, reused %d", res, s.reused.Load())
	}
	// The same prior again is stale (v2 was applied since): a duplicate.
	if res := applyWith(t, s, Incoming{Signed: v2, Prior: p}); res[0].Outcome != Duplicate || s.reused.Load() != 1 {
		t.Fatalf("stale prior: %+v, reused %d", res, s.reused.Load())
	}
	// A prior for another announcement is not used.
	if res := applyWith(t, s, Incoming{Signed: v3, Prior: lookup(t, s, v2)}); res[0].Outcome != Applied || s.reused.Load() != 1 {
		t.Fatalf("prior of another announcement: %+v, reused %d", res, s.reused.Load())
	}

	// Changed earlier in the same transaction: the prior of v5 says the
	// slot holds v3, but v6 comes first in the batch.
	v5 := practice(t, k, 5, "slot", "Five")
	v6 := practice(t, k, 6, "slot", "Six")
	p5 := lookup(t, s, v5)
	res := applyWith(t, s, Incoming{Signed: v6}, Incoming{Signed: v5, Prior: p5})
	if res[0].Outcome != Applied || res[1].Outcome != Stale || s.reused.Load() != 1 {
		t.Fatalf("prior made stale inside the transaction: %+v, reused %d", res, s.reused.Load())
	}
	if r, _ := s.Get(pub, "slot"); r.Signed.Hash() != v6.Hash() {
		t.Fatal("the stale prior let an older version win")
	}
	// Another slot and sequence of the same publisher committed in
	// between: the prior's facts still hold (its summary is read again).
	v8 := practice(t, k, 8, "slot-b", "Eight")
	p8 := lookup(t, s, v8)
	apply(t, s, practice(t, k, 9, "slot-c", "Nine"))
	if res := applyWith(t, s, Incoming{Signed: v8, Prior: p8}); res[0].Outcome != Applied || s.reused.Load() != 2 {
		t.Fatalf("prior after a write to another slot: %+v, reused %d", res, s.reused.Load())
	}
	if sum, _ := s.PublisherSummary(pub); sum.Practices != 3 || sum.MaxSeenSeq != 9 {
		t.Fatalf("summary after reuse: %+v", sum)
	}
	// An operation (Rebuild) makes every prior stale.
	v7 := practice(t, k, 7, "other", "Seven")
	p7 := lookup(t, s, v7)
	if err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := applyWith(t, s, Incoming{Signed: v7, Prior: p7}); res[0].Outcome != Applied || s.reused.Load() != 2 {
		t.Fatalf("prior from before Rebuild: %+v, reused %d", res, s.reused.Load())
	}
	checkDerived(t, s)
}

// TestPriorsGiveTheSameStore applies one random history with equivocations,
// duplicates and retractions twice: once without priors, once with priors
// looked up at random earlier moments (fresh or stale), and requires the
// same store.
func TestPriorsGiveTheSameStore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all []*protocol.Signed
	slots := []string{"alpha", "bravo", "charlie"}
	for p := range 3 {
		k, _ := key(t, byte(20+p))
		for seq := uint64(1); seq <= 20; seq++ {
			slot := slots[rng.IntN(len(slots))]
			if rng.IntN(5) == 0 {
				all = append(all, retract(t, k, seq, slot))
			} else {
				all = append(all, practice(t, k, seq, slot, "Title "+strconv.Itoa(int(seq))))
			}
			if rng.IntN(5) == 0 {
				all = append(all, practice(t, k, seq, slots[rng.IntN(len(slots))], "Twin "+strconv.Itoa(int(seq))))
			}
		}
	}
	for range len(all) / 3 {
		all = append(all, all[rng.IntN(len(all))])
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	plain, primed := openStore(t, ""), openStore(t, "")
	var chunks [][]*protocol.Signed
	for order := all; len(order) > 0; {
		n := min(len(order), 1+rng.IntN(6))
		chunks = append(chunks, order[:n])
		order = order[n:]
	}
	priors := map[*protocol.Signed]*Prior{}
	var plainRes, primedRes []Result
	for i, c := range chunks {
		// Look up this chunk and, at random, some of the next ones: their
		// priors go stale by the time they are applied.
		for j := i; j < min(len(chunks), i+3); j++ {
			for _, sg := range chunks[j] {
				if priors[sg] == nil && (j == i || rng.IntN(3) == 0) {
					priors[sg] = lookup(t, primed, sg)
				}
			}
		}
		in := make([]Incoming, len(c))
		for j, sg := range c {
			in[j] = Incoming{Signed: sg, From: "test", Prior: priors[sg]}
			delete(priors, sg)
		}
		plainRes = append(plainRes, apply(t, plain, c...)...)
		primedRes = append(primedRes, applyWith(t, primed, in...)...)
	}
	for i := range plainRes {
		if plainRes[i] != primedRes[i] {
			t.Fatalf("item %d: %+v without a prior, %+v with one", i, plainRes[i], primedRes[i])
		}
	}
	if a, b := dump(t, plain), dump(t, primed); a != b {
		t.Fatalf("stores differ:\nwithout priors\n%s\nwith priors\n%s", a, b)
	}
	checkDerived(t, primed)
	if r := primed.reused.Load(); r == 0 || r == uint64(len(all)) {
		t.Fatalf("%d of %d priors reused: the test needs fresh and stale ones", r, len(all))
	}
}
