package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// removeWhere runs RemoveWhere and fails the test on error.
func removeWhere(t testing.TB, s *Store, rec *protocol.Signed, drop func(*protocol.Signed) bool) int {
	t.Helper()
	n, err := s.RemoveWhere(context.Background(), rec.Announcement().Publisher, drop)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sameStore requires got to hold what want holds (dump leaves out the
// times that differ between stores fed at other moments) and its derived
// records to agree with its primary ones.
func sameStore(t testing.TB, got, want *Store, what string) {
	t.Helper()
	if g, w := dump(t, got), dump(t, want); g != w {
		t.Fatalf("%s:\n%s\nwant (a store that never held the removed records):\n%s", what, g, w)
	}
	checkDerived(t, got)
	checkFeedEntries(t, got, true)
}

// TestRemoveWhere removes state records and evidence of one publisher and
// requires the store to equal one that never received them: state,
// equivocation records, summaries, digests; then the removed records
// apply again.
func TestRemoveWhere(t *testing.T) {
	k, pub := key(t, 1)
	k2, _ := key(t, 2)
	keep := []*protocol.Signed{
		practice(t, k, 1, "one", "One"),
		profile(t, k, 4, "Comune di Prova"),
		practice(t, k, 5, "five", "Five"),
		practice(t, k, 5, "five", "Five, the twin"), // an equivocation that stays
		practice(t, k2, 1, "other", "Another publisher's"),
		practice(t, k2, 2, "other-two", "Another publisher's"),
	}
	gone := []*protocol.Signed{
		practice(t, k, 2, "two", "Two"),
		practice(t, k, 3, "three", "Three"),
		practice(t, k, 3, "three", "Three, the twin"), // state or evidence
		practice(t, k, 6, "six", "Six"),               // the highest sequence
	}
	isGone := func(sg *protocol.Signed) bool {
		for _, g := range gone {
			if g.Hash() == sg.Hash() {
				return true
			}
		}
		return false
	}
	s := openStore(t, "")
	apply(t, s, append(append([]*protocol.Signed{}, keep...), gone...)...)
	ref := openStore(t, "")
	apply(t, ref, keep...)
	if n := removeWhere(t, s, gone[0], isGone); n != len(gone) {
		t.Fatalf("RemoveWhere removed %d records, want %d", n, len(gone))
	}
	sameStore(t, s, ref, "after RemoveWhere")
	if seen, _ := s.Seen(pub, 3, nil); seen {
		t.Fatal("a removed record is still in the seen log")
	}
	if pending, _ := s.PurgePending(); !pending {
		t.Fatal("RemoveWhere did not mark the store for purging")
	}
	if err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameStore(t, s, ref, "after Rebuild")
	if n := removeWhere(t, s, gone[0], isGone); n != 0 {
		t.Fatalf("a second RemoveWhere removed %d records", n)
	}

	// The removed records come back when they arrive again.
	for _, r := range apply(t, s, gone...) {
		if r.Outcome == Duplicate {
			t.Fatalf("a removed record is a duplicate when applied again: %+v", r)
		}
	}
	apply(t, ref, gone...)
	sameStore(t, s, ref, "after the removed records came back")

	// Removing the winner of an equivocating pair ends the equivocation
	// record, and the loser, kept as evidence, takes the slot; removing
	// everything ends the publisher's summary.
	twin := keep[3]
	if h2, h3 := keep[2].Hash(), keep[3].Hash(); string(h2[:]) < string(h3[:]) {
		twin = keep[2]
	}
	ref2 := openStore(t, "")
	var rest []*protocol.Signed
	for _, sg := range append(keep, gone...) {
		if sg != twin && sg.Announcement().Publisher == pub {
			rest = append(rest, sg)
		}
	}
	apply(t, ref2, rest...)
	apply(t, ref2, keep[4:]...)
	if r, err := s.Get(pub, "five"); err != nil || r.Signed.Hash() != twin.Hash() {
		t.Fatalf("the winner of the pair is not the state: %v", err)
	}
	removeWhere(t, s, twin, func(sg *protocol.Signed) bool { return sg.Hash() == twin.Hash() })
	sameStore(t, s, ref2, "after removing one of a pair")
	all := removeWhere(t, s, twin, func(*protocol.Signed) bool { return true })
	if all != len(rest) {
		t.Fatalf("removing every record removed %d, want %d", all, len(rest))
	}
	if _, err := s.PublisherSummary(pub); !errors.Is(err, ErrNotFound) {
		t.Fatalf("summary after removing everything: %v, want ErrNotFound", err)
	}
	ref3 := openStore(t, "")
	apply(t, ref3, keep[4:]...)
	sameStore(t, s, ref3, "after removing everything")
}

// TestRemoveWhereManyChunks removes more records than one transaction
// takes.
func TestRemoveWhereManyChunks(t *testing.T) {
	k, pub := key(t, 3)
	s, ref := openStore(t, ""), openStore(t, "")
	var all []*protocol.Signed
	for i := range 3*removeWhereChunk + 7 {
		all = append(all, practice(t, k, uint64(i+1), "p-"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+"-"+strconv.Itoa(i), "Practice"))
	}
	apply(t, s, all...)
	odd := func(sg *protocol.Signed) bool { return sg.Announcement().Seq%2 == 1 }
	for _, sg := range all {
		if !odd(sg) {
			apply(t, ref, sg)
		}
	}
	n, err := s.RemoveWhere(context.Background(), pub, odd)
	if err != nil || n != (len(all)+1)/2 {
		t.Fatalf("RemoveWhere = %d, %v; want %d", n, err, (len(all)+1)/2)
	}
	sameStore(t, s, ref, "after a removal in chunks")
}

// TestRemoveWhereOrg removes what one delegate signed from a time on (as
// a revocation would) from a store holding an organisation's records,
// and requires the store to equal one that never received them; the
// records come back when applied again.
func TestRemoveWhereOrg(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	all := orgHistory(t, rng)
	revoked, rid := key(t, 51)
	// A store that never held the removed records is the reference, so
	// they must not have superseded any other (superseded records are not
	// kept, so no removal brings them back): they get slots of their own.
	kept := all
	var gone []*protocol.Signed
	o := &testOrg{id: all[0].Announcement().Publisher, genesis: all[0]}
	for seq := uint64(31); seq <= 40; seq++ {
		slot := "late-" + strconv.Itoa(int(seq))
		gone = append(gone, o.practice(t, revoked, seq, slot, "Late"))
		if seq%3 == 0 { // an equivocation: the loser is kept as evidence
			gone = append(gone, o.practice(t, revoked, seq, slot, "Late twin"))
		}
	}
	s, ref := openStore(t, ""), openStore(t, "")
	apply(t, s, kept...)
	apply(t, s, gone...)
	apply(t, ref, kept...)
	from := t0.Add(31 * time.Second) // seal's time is t0 + seq seconds
	drop := func(sg *protocol.Signed) bool {
		return sg.Signer() == rid && !sg.Announcement().Time.Before(from)
	}
	if n := removeWhere(t, s, all[0], drop); n == 0 {
		t.Fatal("nothing removed")
	}
	sameStore(t, s, ref, "after removing a delegate's late records")
	if ops, err := s.OrgOps(o.id); err != nil || len(ops) == 0 {
		t.Fatalf("the organisation's operations went too: %d, %v", len(ops), err)
	}
	for _, r := range apply(t, s, gone...) {
		if r.Outcome == Duplicate {
			t.Fatalf("a removed record is a duplicate: %+v", r)
		}
	}
	apply(t, ref, gone...)
	sameStore(t, s, ref, "after the removed records came back")
}
