package search

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// TestAppliedHandsOver: an announcement handed over by Applied is indexed
// without reading the store while it is its slot's state; one that is
// not (superseded, or never applied) is not indexed, and the store's
// state is.
func TestAppliedHandsOver(t *testing.T) {
	st := openStore(t, t.TempDir())
	ix := openIndex(t, t.TempDir(), st)
	c := newCatalogue(t, st, 1)
	seal := func(seq uint64, title string) *protocol.Signed {
		t.Helper()
		s := demoSheets(t)[0]
		s.Title = title
		a := &protocol.Announcement{V: protocol.Version, Seq: seq, Kind: protocol.KindPractice,
			Time: testNow.Add(time.Duration(seq) * time.Second), Practice: s}
		sg, err := protocol.Seal(a, c.keys[0])
		if err != nil {
			t.Fatal(err)
		}
		return sg
	}
	store1 := func(sg *protocol.Signed) {
		t.Helper()
		if _, err := st.Apply(context.Background(), store.Incoming{Signed: sg}); err != nil {
			t.Fatal(err)
		}
	}
	titles := func(q string) int { return len(mustSearch(t, ix, Query{Text: q}).Hits) }

	v1 := seal(1, "Zanzibar gardens")
	store1(v1)
	ix.Applied(v1)
	flush(t, ix)
	if titles("Zanzibar") != 1 || ix.handed.used.Load() != 1 {
		t.Fatalf("handed v1: %d hits, %d used", titles("Zanzibar"), ix.handed.used.Load())
	}

	// Superseded before the follower got there: the store's v2 is indexed.
	v2 := seal(2, "Quokka workshops")
	store1(v2)
	ix.Applied(v1)
	flush(t, ix)
	if titles("Quokka") != 1 || titles("Zanzibar") != 0 || ix.handed.used.Load() != 1 {
		t.Fatalf("stale hand-over: quokka %d zanzibar %d, %d used", titles("Quokka"), titles("Zanzibar"), ix.handed.used.Load())
	}

	// Handed but never applied: not indexed (the store has no change).
	ix.Applied(seal(3, "Phantom platypus"))
	store1(seal(4, "Quokka workshops renewed"))
	flush(t, ix)
	if titles("platypus") != 0 || titles("renewed") != 1 {
		t.Fatalf("phantom hand-over: platypus %d renewed %d", titles("platypus"), titles("renewed"))
	}
}
