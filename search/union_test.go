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
	index "github.com/blevesearch/bleve_index_api"
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

// fixed is a searcher over a fixed list of matches, in ID order.
type fixed struct {
	ids    [][]byte
	scores []float64
	next   int
}

func (f *fixed) match(ctx *search.SearchContext) *search.DocumentMatch {
	if f.next >= len(f.ids) {
		return nil
	}
	m := ctx.DocumentMatchPool.Get()
	m.IndexInternalID = append(m.IndexInternalID[:0], f.ids[f.next]...)
	m.Score = f.scores[f.next]
	f.next++
	return m
}

func (f *fixed) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	return f.match(ctx), nil
}

func (f *fixed) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	for f.next < len(f.ids) && bytes.Compare(f.ids[f.next], id) < 0 {
		f.next++
	}
	return f.match(ctx), nil
}

func (f *fixed) Close() error               { return nil }
func (f *fixed) Weight() float64            { return 1 }
func (f *fixed) SetQueryNorm(float64)       {}
func (f *fixed) Count() uint64              { return uint64(len(f.ids)) }
func (f *fixed) Min() int                   { return 0 }
func (f *fixed) Size() int                  { return 0 }
func (f *fixed) DocumentMatchPoolSize() int { return 1 }

// An index whose internal IDs are not all 8 bytes long (scorch's always
// are) takes union's byte-comparing path, and it too finds what bleve's
// disjunction finds, with the same scores.
func TestUnionOtherIDLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for round := range 50 {
		clauses := 2 + rng.IntN(5)
		// 3-byte IDs; in odd rounds 8-byte ones but the first, of 9 bytes
		// (sorting in the same place), which the first clause holds.
		idOf := func(id int) []byte {
			if round%2 == 0 {
				return []byte{byte(id >> 8), byte(id), 0}
			}
			b := binary.BigEndian.AppendUint64(nil, uint64(id))
			if id == 0 {
				b = append(b, 0)
			}
			return b
		}
		clauseSet := func() []search.Searcher {
			r := rand.New(rand.NewPCG(uint64(round), 11))
			out := make([]search.Searcher, clauses)
			for c := range out {
				f := &fixed{}
				for id := 0; id < 300; id++ {
					if r.IntN(3) == 0 || c == 0 && id == 0 {
						f.ids = append(f.ids, idOf(id))
						f.scores = append(f.scores, r.Float64())
					}
				}
				out[c] = f
			}
			return out
		}
		u := newUnion(clauseSet())
		d, err := searcher.NewDisjunctionSearcher(context.Background(), nil, clauseSet(), 0, search.SearcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		su := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(u.DocumentMatchPoolSize(), 0)}
		sd := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(d.DocumentMatchPoolSize(), 0)}
		n, last := 0, 0
		for step := 0; ; step++ {
			var a, b *search.DocumentMatch
			if step%5 == 4 {
				to := idOf(last + 1 + rng.IntN(6))
				a, _ = u.Advance(su, to)
				b, _ = d.Advance(sd, to)
			} else {
				a, _ = u.Next(su)
				b, _ = d.Next(sd)
			}
			if a == nil || b == nil {
				if a != b {
					t.Fatalf("round %d, step %d: union %v, bleve %v", round, step, a, b)
				}
				break
			}
			if !bytes.Equal(a.IndexInternalID, b.IndexInternalID) || a.Score != b.Score {
				t.Fatalf("round %d, step %d: union %x score %v, bleve %x score %v", round, step, a.IndexInternalID, a.Score, b.IndexInternalID, b.Score)
			}
			n++
			if id := a.IndexInternalID; len(id) == 3 {
				last = int(id[0])<<8 | int(id[1])
			} else {
				last = int(binary.BigEndian.Uint64(id[:8]))
			}
			su.DocumentMatchPool.Put(a)
			sd.DocumentMatchPool.Put(b)
		}
		if n < 50 {
			t.Fatalf("round %d: only %d matches compared", round, n)
		}
		if !u.raw {
			t.Fatalf("round %d: the byte-comparing path was not taken", round)
		}
	}
}
