package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"sort"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// union is the scored disjunction of a text query's live clauses
// (textMatch.Searcher): a document matches when any clause does, and its
// score is what bleve's disjunction scorer makes of the clauses that
// match it (their sum times the share of clauses matched), summed in the
// order bleve's slice disjunction would (the clauses sorted by count), so
// the scores are the same to the last bit as with it (bleve takes a heap
// instead past 10 clauses, which may add them in another order).
//
// It differs from bleve's disjunctions in how it finds the next match,
// which for the queries with the most matches was a quarter of their time
// (BenchmarkSearchText): each clause's current document is kept as a
// number, decoded once when the clause moves (the index's internal IDs
// are 8-byte big-endian document numbers), so one pass over integers
// finds the smallest and a second the clauses at it, where bleve compares
// byte slices through a function call. It also adds up the score itself
// (score), without the scorer's explanations and term locations, which
// unionOf leaves to bleve.
//
// Not safe for concurrent use, like every bleve searcher.
type union struct {
	subs []search.Searcher
	cur  []*search.DocumentMatch // each clause's current match; nil when done
	num  []uint64                // cur[i]'s document number
	raw  bool                    // some ID is not 8 bytes: compare the bytes

	matching []*search.DocumentMatch // the clauses at the smallest document
	at       []int                   // their indexes in subs
	started  bool
}

// newUnion makes the union of subs, which it owns from then on (Close
// closes them). Like bleve's disjunctions it normalises its clauses'
// scores by the query norm of their weights; a searcher above it (the
// boolean query of a text query with filters) sets its own.
func newUnion(subs []search.Searcher) *union {
	sorted := make(searcher.OrderedSearcherList, len(subs))
	copy(sorted, subs)
	sort.Sort(sorted)
	var squares float64
	for _, s := range sorted {
		squares += s.Weight()
	}
	norm := 1 / math.Sqrt(squares)
	for _, s := range sorted {
		s.SetQueryNorm(norm)
	}
	return &union{
		subs:     sorted,
		cur:      make([]*search.DocumentMatch, len(sorted)),
		num:      make([]uint64, len(sorted)),
		matching: make([]*search.DocumentMatch, 0, len(sorted)),
		at:       make([]int, 0, len(sorted)),
	}
}

// done is the number of a clause that has no more matches.
const done = math.MaxUint64

// set makes m clause i's current match.
func (u *union) set(i int, m *search.DocumentMatch) {
	u.cur[i] = m
	switch {
	case m == nil:
		u.num[i] = done
	case len(m.IndexInternalID) == 8:
		u.num[i] = binary.BigEndian.Uint64(m.IndexInternalID)
	default:
		u.raw = true
	}
}

// gather notes the clauses at the smallest current document, in the
// order of subs: one pass finds the smallest number, the next the
// clauses at it.
func (u *union) gather() {
	u.matching, u.at = u.matching[:0], u.at[:0]
	if u.raw {
		u.gatherRaw()
		return
	}
	low := uint64(done)
	for _, n := range u.num {
		low = min(low, n)
	}
	if low == done {
		return
	}
	for i, n := range u.num {
		if n == low && u.cur[i] != nil {
			u.matching, u.at = append(u.matching, u.cur[i]), append(u.at, i)
		}
	}
}

// gatherRaw is gather comparing the IDs' bytes, for an index whose IDs
// are not all 8 bytes long.
func (u *union) gatherRaw() {
	var low index.IndexInternalID
	for i, m := range u.cur {
		if m == nil {
			continue
		}
		c := -1
		if low != nil {
			c = bytes.Compare(m.IndexInternalID, low)
		}
		switch {
		case c < 0:
			low = m.IndexInternalID
			u.matching, u.at = append(u.matching[:0], m), append(u.at[:0], i)
		case c == 0:
			u.matching, u.at = append(u.matching, m), append(u.at, i)
		}
	}
}

// start puts every clause on its first match.

func (u *union) start(ctx *search.SearchContext) error {
	for i, s := range u.subs {
		m, err := s.Next(ctx)
		if err != nil {
			return err
		}
		u.set(i, m)
	}
	u.started = true
	u.gather()
	return nil
}

// Next returns the next matching document, scored, or nil after the last.
func (u *union) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if !u.started {
		if err := u.start(ctx); err != nil {
			return nil, err
		}
	}
	if len(u.matching) == 0 {
		return nil, nil
	}
	rv := u.score()
	for _, i := range u.at {
		if u.cur[i] != rv {
			ctx.DocumentMatchPool.Put(u.cur[i])
		}
		m, err := u.subs[i].Next(ctx)
		if err != nil {
			return nil, err
		}
		u.set(i, m)
	}
	u.gather()
	return rv, nil
}

// score scores the document the matching clauses are at, as bleve's
// disjunction scorer does without explanations and term vectors (which
// unionOf leaves to bleve): the clauses' scores summed in order, times
// the share of clauses that match. It reuses the first clause's match.
func (u *union) score() *search.DocumentMatch {
	var sum float64
	for _, m := range u.matching {
		sum += m.Score
	}
	rv := u.matching[0]
	rv.Score = sum * (float64(len(u.matching)) / float64(len(u.subs)))
	rv.Expl = nil
	return rv
}

// Advance returns the first matching document at or after id, scored.
func (u *union) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	if !u.started {
		if err := u.start(ctx); err != nil {
			return nil, err
		}
	}
	for i, s := range u.subs {
		if m := u.cur[i]; m != nil {
			if m.IndexInternalID.Compare(id) >= 0 {
				continue
			}
			ctx.DocumentMatchPool.Put(m)
		}
		m, err := s.Advance(ctx, id)
		if err != nil {
			return nil, err
		}
		u.set(i, m)
	}
	u.gather()
	return u.Next(ctx)
}

// Weight is the sum of the clauses' weights.
func (u *union) Weight() float64 {
	var w float64
	for _, s := range u.subs {
		w += s.Weight()
	}
	return w
}

// SetQueryNorm passes the query norm on to every clause.
func (u *union) SetQueryNorm(norm float64) {
	for _, s := range u.subs {
		s.SetQueryNorm(norm)
	}
}

// Count is the clauses' counts added up: at least as many as match.
func (u *union) Count() uint64 {
	var n uint64
	for _, s := range u.subs {
		n += s.Count()
	}
	return n
}

// Min is 0: one clause is enough.
func (u *union) Min() int { return 0 }

// Close closes every clause.
func (u *union) Close() error {
	var first error
	for _, s := range u.subs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Size estimates the memory u holds, in bytes.
func (u *union) Size() int {
	n := 64 + len(u.subs)*(8+8+8+8+8)
	for _, s := range u.subs {
		n += s.Size()
	}
	return n
}

// DocumentMatchPoolSize is how many DocumentMatches u and its clauses
// hold at once.
func (u *union) DocumentMatchPoolSize() int {
	n := len(u.subs)
	for _, s := range u.subs {
		n += s.DocumentMatchPoolSize()
	}
	return n
}

var _ search.Searcher = (*union)(nil)

// unionOf returns the disjunction of subs: union when the query is
// scored; without scores, bleve's own, which can merge the clauses'
// postings without visiting each match.
func unionOf(ctx context.Context, i index.IndexReader, subs []search.Searcher, options search.SearcherOptions) (search.Searcher, error) {
	if options.Score == "none" || options.IncludeTermVectors || options.Explain || len(subs) == 1 {
		ctx = context.WithValue(ctx, search.IncludeScoreBreakdownKey, false)
		return searcher.NewDisjunctionSearcher(ctx, i, subs, 0, options)
	}
	return newUnion(subs), nil
}
