package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	"github.com/khantara/khantara/protocol"
)

// The union of a text query's clauses finds the same documents as
// bleve's slice disjunction, in the same order, with the same scores to
// the last bit, whether driven by Next or by Advance (as a boolean query
// with filters drives it): checked on 300 generated text queries over
// 2,000 generated practices in ten languages.
func TestUnionMatchesBleveDisjunction(t *testing.T) {
	keys := genKeys()
	st := cachedStore(t, filepath.Join(t.TempDir(), "store", "db"), 2000, func(i int) (*protocol.Signed, error) {
		a := &protocol.Announcement{V: protocol.Version, Seq: uint64(i/genPublishers + 1),
			Time: testNow.Add(time.Duration(i) * time.Second), Kind: protocol.KindPractice, Practice: genSheet(i)}
		return protocol.Seal(a, keys[i%genPublishers])
	})
	ix := openIndex(t, t.TempDir(), st, WithClock(func() time.Time { return testNow }))
	adv, err := ix.cur.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// bleve takes a heap past DisjunctionHeapTakeover clauses, which adds
	// the clauses' scores in another order; the union keeps the slice
	// disjunction's order, so compare with that one.
	takeover := searcher.DisjunctionHeapTakeover
	searcher.DisjunctionHeapTakeover = 1 << 20
	defer func() { searcher.DisjunctionHeapTakeover = takeover }()

	ctx := context.WithValue(context.Background(), search.IncludeScoreBreakdownKey, false)
	opts := search.SearcherOptions{}
	rng := rand.New(rand.NewPCG(7, 8))
	var matches, advances, wide int
	for qi, q := range genTextQueries(rand.New(rand.NewPCG(1, 2)))[:300] {
		tm := ix.textQuery(q.Text, titleField, textField).(*textMatch)
		ours, err := tm.live(ctx, r, opts)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := tm.live(ctx, r, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(ours) < 2 {
			closeAll(ours)
			closeAll(theirs)
			continue
		}
		wide++
		u := newUnion(ours)
		d, err := searcher.NewDisjunctionSearcher(ctx, r, theirs, 0, opts)
		if err != nil {
			t.Fatal(err)
		}
		su := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(u.DocumentMatchPoolSize(), 0)}
		sd := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(d.DocumentMatchPoolSize(), 0)}
		var last uint64
		for step := 0; ; step++ {
			var a, b *search.DocumentMatch
			var errA, errB error
			if step > 0 && rng.IntN(4) == 0 {
				to := binary.BigEndian.AppendUint64(nil, last+1+uint64(rng.IntN(40)))
				a, errA = u.Advance(su, to)
				b, errB = d.Advance(sd, to)
				advances++
			} else {
				a, errA = u.Next(su)
				b, errB = d.Next(sd)
			}
			if errA != nil || errB != nil {
				t.Fatalf("query %d %q: errors %v and %v", qi, q.Text, errA, errB)
			}
			if a == nil || b == nil {
				if a != b {
					t.Fatalf("query %d %q, step %d: union %v, bleve %v", qi, q.Text, step, a, b)
				}
				break
			}
			if !bytes.Equal(a.IndexInternalID, b.IndexInternalID) || a.Score != b.Score {
				t.Fatalf("query %d %q, step %d: union %x score %v, bleve %x score %v", qi, q.Text, step, a.IndexInternalID, a.Score, b.IndexInternalID, b.Score)
			}
			matches++
			last = binary.BigEndian.Uint64(a.IndexInternalID)
			su.DocumentMatchPool.Put(a)
			sd.DocumentMatchPool.Put(b)
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if wide < 100 || matches < 10_000 || advances < 1000 {
		t.Fatalf("compared %d queries of several clauses, %d matches, %d advances: too few to tell", wide, matches, advances)
	}
	t.Logf("compared %d queries of several clauses: %d matches, %d advances", wide, matches, advances)
}
