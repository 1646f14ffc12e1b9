package search

import (
	"bytes"
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// sortKey is what hits are ordered by first.
type sortKey int

const (
	byScore sortKey = iota
	byYear
	byFunding
	byBeneficiaries
	byAdapted
	byEndorsements
	byTime // experience records
)

// sortKeys maps the keys of Query.Sort, without '-', to theirs.
var sortKeys = map[string]sortKey{
	"year": byYear, "funding": byFunding, "beneficiaries": byBeneficiaries,
	"adapted": byAdapted, "endorsements": byEndorsements, "time": byTime,
}

// order is the order of hits: by key, then publisher, then ID, ascending.
type order struct {
	key  sortKey
	desc bool // for keys other than the score, which always descends
}

// orderOf returns q's order (q valid): relevance is the score with text,
// and without it the start year, descending (the time, descending, for
// experience records).
func orderOf(q *Query) order {
	key := q.Sort
	if key == "" || key == "relevance" {
		if strings.TrimSpace(q.Text) != "" {
			return order{key: byScore}
		}
		key = "-year"
		if q.Kind == KindExperience {
			key = "-time"
		}
	}
	return order{key: sortKeys[strings.TrimPrefix(key, "-")], desc: strings.HasPrefix(key, "-")}
}

// cand is a hit the collector keeps.
type cand struct {
	score   float64
	key     int64
	hasKey  bool // practices without the key come last either way
	pub, id []byte
}

// compare returns < 0 when a comes before b.
func (o order) compare(a, b *cand) int {
	return cmp.Or(o.primary(a, b), bytes.Compare(a.pub, b.pub), bytes.Compare(a.id, b.id))
}

// primary compares a and b by the score or the key only.
func (o order) primary(a, b *cand) int {
	if o.key == byScore {
		return cmp.Compare(b.score, a.score)
	}
	if a.hasKey != b.hasKey {
		if a.hasKey {
			return -1
		}
		return 1
	}
	c := cmp.Compare(a.key, b.key)
	if o.desc {
		c = -c
	}
	return c
}

// collector gathers the results of one search from the matches bleve
// finds: it reads each match's row once, counts its facets and keeps the
// best offset+limit hits in a heap (worst on top), then loads the stored
// Hits of the page. It replaces bleve's own top-N handling and facet
// builders (see row.go for why) and runs on the search's goroutine only.
type collector struct {
	order  order
	offset int
	keep   int  // offset + limit
	load   bool // load the page's stored Hits (else only IDs)

	kept  []*cand // heap: kept[0] is the worst
	probe cand

	cache    *rowCache
	rowField string // fRow, or fxRow for experience records
	matches  int    // documents offered

	counting bool // count facets
	// counts are the matches' facet terms by number (columns.dict),
	// made by handler.
	counts []int32
	dict   dictView

	page []pageHit // the result, after the last match
}

// pageHit is one hit of the page: its IDs, score and stored Hit.
type pageHit struct {
	pub, id string
	score   float64
	hit     []byte // JSON; nil unless load
	terms   []byte // the stored expTerms, when load and the document has them
}

func newCollector(o order, offset, limit int, facets, load bool, cache *rowCache, rowField string) *collector {
	return &collector{order: o, offset: offset, keep: offset + limit, load: load, counting: facets, cache: cache, rowField: rowField}
}

// handler makes the bleve document match handler (see
// search.MakeDocumentMatchHandlerKey) that feeds c, from the decoded rows
// of the snapshot's segments (rowcache.go).
func (c *collector) handler(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
	cols, err := c.cache.columns(sctx.IndexReader, c.rowField)
	if err != nil {
		return nil, false, err
	}
	c.dict = cols.dict
	if c.counting {
		c.counts = make([]int32, len(c.dict.expand))
	}
	return func(d *search.DocumentMatch) error {
		if d == nil { // after the last match
			return c.finish(sctx.IndexReader)
		}
		rows, local := cols.at(d.IndexInternalID.Value())
		if rows != nil && c.counting {
			c.count(rows, local)
		}
		c.matches++
		c.offer(d.Score, rows, local)
		sctx.DocumentMatchPool.Put(d)
		return nil
	}, false, nil
}

// count counts the facet terms of document local of rows. It only
// adds: facets finds the terms counted by reading all the counts, which
// costs less than noting each term's first count here, per match.
func (c *collector) count(rows *segRows, local uint64) {
	for _, o := range rows.facetTerms(local) {
		c.counts[o]++
	}
}

// offer keeps document local of rows (nil: a document without a row),
// matched with score, if it ranks among the best so far. Its publisher
// and ID are read only when the score or key does not settle it.
func (c *collector) offer(score float64, rows *segRows, local uint64) {
	if c.keep == 0 {
		return
	}
	p := &c.probe
	p.score = score
	p.key, p.hasKey = rows.key(local, c.order.key)
	if len(c.kept) < c.keep {
		k := *p
		pub, id := rows.pubID(local)
		k.pub, k.id = bytes.Clone(pub), bytes.Clone(id)
		heap.Push(c, &k)
		return
	}
	w := c.kept[0]
	if c.order.primary(p, w) > 0 {
		return
	}
	p.pub, p.id = rows.pubID(local)
	if c.order.compare(p, w) >= 0 {
		return
	}
	w.score, w.key, w.hasKey = p.score, p.key, p.hasKey
	w.pub, w.id = append(w.pub[:0], p.pub...), append(w.id[:0], p.id...)
	heap.Fix(c, 0)
}

// finish orders the kept hits and loads the page's stored Hits.
func (c *collector) finish(r index.IndexReader) error {
	slices.SortFunc(c.kept, c.order.compare)
	for _, k := range c.kept[min(c.offset, len(c.kept)):] {
		h := pageHit{pub: string(k.pub), id: string(k.id), score: k.score}
		if c.load {
			id := h.pub + "/" + h.id
			doc, err := r.Document(id)
			if err != nil {
				return fmt.Errorf("load %s: %w", id, err)
			}
			if doc != nil {
				doc.VisitFields(func(f index.Field) {
					switch f.Name() {
					case fHit:
						h.hit = bytes.Clone(f.Value())
					case fExpTerms:
						h.terms = bytes.Clone(f.Value())
					}
				})
			}
			if h.hit == nil {
				return fmt.Errorf("load %s: no stored hit", id)
			}
		}
		c.page = append(c.page, h)
	}
	return nil
}

// facets returns every facet of names, values by count, then value.
// With the practices' facets, the matches that have no 'X' term (row.go)
// count as adapted 0 and has_lessons false.
func (c *collector) facets(names []string) map[string][]FacetValue {
	counts := make(map[string]map[string]int, len(names))
	for _, f := range names {
		counts[f] = map[string]int{}
	}
	// The counts of the values, by number, then by facet.
	byValue := make([]int, len(c.dict.values))
	var values []uint32
	for t, n := range c.counts {
		if n == 0 {
			continue
		}
		for _, v := range c.dict.expand[t] {
			if byValue[v] == 0 {
				values = append(values, v)
			}
			byValue[v] += int(n)
		}
	}
	for _, v := range values {
		fv := c.dict.values[v]
		if m := counts[fv.facet]; m != nil {
			m[fv.value] += byValue[v]
		}
	}
	if a, l := counts["adapted"], counts["has_lessons"]; a != nil && l != nil {
		rest := func(m map[string]int, value string) {
			n := c.matches
			for v, k := range m {
				if v != value {
					n -= k
				}
			}
			delete(m, value)
			if n > 0 {
				m[value] = n
			}
		}
		rest(a, adaptedBuckets[0].name)
		rest(l, "false")
	}
	out := make(map[string][]FacetValue, len(names))
	for facet, m := range counts {
		vs := make([]FacetValue, 0, len(m))
		for v, n := range m {
			vs = append(vs, FacetValue{Value: v, Count: n})
		}
		slices.SortFunc(vs, func(a, b FacetValue) int {
			if a.Count != b.Count {
				return cmp.Compare(b.Count, a.Count)
			}
			return strings.Compare(a.Value, b.Value)
		})
		out[facet] = vs
	}
	return out
}

// heap.Interface over kept, worst first.

func (c *collector) Len() int           { return len(c.kept) }
func (c *collector) Less(i, j int) bool { return c.order.compare(c.kept[i], c.kept[j]) > 0 }
func (c *collector) Swap(i, j int)      { c.kept[i], c.kept[j] = c.kept[j], c.kept[i] }
func (c *collector) Push(x any)         { c.kept = append(c.kept, x.(*cand)) }
func (c *collector) Pop() any {
	x := c.kept[len(c.kept)-1]
	c.kept = c.kept[:len(c.kept)-1]
	return x
}
