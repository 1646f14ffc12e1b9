package search

import (
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The rows of a segment, decoded once. A search reads the row of every
// match (row.go); reading it from the doc values means finding the
// terms of the row (a byte search for each separator) and a map lookup
// of each facet term to count it, which were three quarters of the time
// of a search over many matches (BenchmarkSearch's text and facets
// rows). A segment of the index never changes once written (scorch
// writes new segments and merges them into new ones), so its rows are
// decoded once, the first time a search meets it: the sort keys of each
// document in a fixed-size record, and its facet terms as numbers of the
// index-wide facetDict (facetdict.go). A search then counts facets in an
// array, and turns the counts into facet values once at the end.

// segRows are the decoded rows of one column (fRow or fxRow) of one
// segment, by local document number. They are read-only once made.
type segRows struct {
	start []uint32 // the facet terms of document d are ords[start[d]:start[d+1]]
	ords  []uint32 // numbers of the rowCache's facetDict
	docs  []rowDoc
	keys  []byte // the publishers and IDs of the rows (rowDoc.keyAt)
}

// rowDoc is the part of a row that is not a facet term: the sort keys,
// and where its publisher and ID are in segRows.keys.
type rowDoc struct {
	year, funding, beneficiaries int64
	adapted, endorsements, time  int64
	keyAt                        uint32 // publisher, then ID, in keys
	pubLen, idLen                uint16
	hasFunding, hasBenef         bool
}

// key returns the sort key of document d for k, and whether it has one
// (r nil: a document without a row, whose year, adaptations,
// endorsements and time are 0).
func (r *segRows) key(d uint64, k sortKey) (int64, bool) {
	if k == byScore {
		return 0, false
	}
	if r == nil {
		return 0, k != byFunding && k != byBeneficiaries
	}
	doc := &r.docs[d]
	switch k {
	case byYear:
		return doc.year, true
	case byFunding:
		return doc.funding, doc.hasFunding
	case byBeneficiaries:
		return doc.beneficiaries, doc.hasBenef
	case byAdapted:
		return doc.adapted, true
	case byEndorsements:
		return doc.endorsements, true
	case byTime:
		return doc.time, true
	}
	return 0, false
}

// pubID returns the publisher and ID of document d (nil for r nil).
func (r *segRows) pubID(d uint64) (pub, id []byte) {
	if r == nil {
		return nil, nil
	}
	doc := &r.docs[d]
	at, mid := doc.keyAt, doc.keyAt+uint32(doc.pubLen)
	return r.keys[at:mid:mid], r.keys[mid : mid+uint32(doc.idLen)]
}

// facetTerms returns the numbers of the facet terms of document d.
func (r *segRows) facetTerms(d uint64) []uint32 { return r.ords[r.start[d]:r.start[d+1]] }

// decodeRows reads the column field of every document of seg, numbering
// its facet terms in dict.
func decodeRows(seg segment.Segment, field string, dict *facetDict) (*segRows, error) {
	dv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return nil, fmt.Errorf("segment %T has no doc values", seg)
	}
	n := seg.Count()
	r := &segRows{start: make([]uint32, n+1), docs: make([]rowDoc, n)}
	number := map[string]uint32{}
	var v rowValues
	visit := func(_ string, term []byte) {
		if len(term) == 0 {
			return
		}
		v.read(term)
		if !isFacetTerm[term[0]] {
			return
		}
		o, ok := number[string(term)]
		if !ok {
			o = dict.id(string(term))
			number[string(term)] = o
		}
		r.ords = append(r.ords, o)
	}
	fields := []string{field}
	var dvs segment.DocVisitState
	for d := range n {
		v.reset()
		var err error
		if dvs, err = dv.VisitDocValues(d, fields, visit, dvs); err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		if len(r.keys)+len(v.pub)+len(v.id) > 1<<32-1 || len(v.pub) > 1<<16-1 || len(v.id) > 1<<16-1 {
			return nil, fmt.Errorf("read rows: row %d too large", d)
		}
		r.docs[d] = rowDoc{
			year: v.year, funding: v.funding, beneficiaries: v.beneficiaries,
			adapted: v.adapted, endorsements: v.endorsements, time: v.time,
			keyAt: uint32(len(r.keys)), pubLen: uint16(len(v.pub)), idLen: uint16(len(v.id)),
			hasFunding: v.hasFunding, hasBenef: v.hasBenef,
		}
		r.keys = append(append(r.keys, v.pub...), v.id...)
		r.start[d+1] = uint32(len(r.ords))
	}
	return r, nil
}

// rowCache holds the decoded rows of the segments of the live index, by
// segment and column. It is safe for concurrent use. Entries of
// segments that a newer snapshot no longer has are dropped when a search
// meets a segment not yet decoded.
type rowCache struct {
	mu   sync.Mutex // guards segs and dict
	segs map[rowKey]*rowEntry
	// dict numbers the facet terms of the rows in segs; both are
	// replaced together when dict grows past maxDictTerms.
	dict *facetDict
}

type rowKey struct {
	seg   segment.Segment
	field string
}

// rowEntry decodes its segment's rows once.
type rowEntry struct {
	once sync.Once
	rows *segRows
	err  error
}

// columns are the decoded rows of one column of every segment of an
// index snapshot, where each segment's documents start in the
// snapshot's numbering, and the facet terms their rows are numbered by.
type columns struct {
	starts []uint64
	rows   []*segRows
	last   int // the segment of the last document found
	dict   dictView
}

// columns returns the rows of field of every segment of r, which must be
// a scorch index snapshot, decoding those not yet decoded.
func (rc *rowCache) columns(r index.IndexReader, field string) (*columns, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("index reader %T is not a scorch snapshot", r)
	}
	segs := snap.Segments()
	entries := make([]*rowEntry, len(segs))
	rc.mu.Lock()
	if rc.segs == nil || rc.dict.size() > maxDictTerms {
		rc.segs, rc.dict = map[rowKey]*rowEntry{}, newFacetDict()
	}
	dict := rc.dict
	added := false
	for i, s := range segs {
		k := rowKey{s.Segment(), field}
		e := rc.segs[k]
		if e == nil {
			e = &rowEntry{}
			rc.segs[k] = e
			added = true
		}
		entries[i] = e
	}
	if added {
		live := make(map[segment.Segment]bool, len(segs))
		for _, s := range segs {
			live[s.Segment()] = true
		}
		for k := range rc.segs {
			if k.field == field && !live[k.seg] {
				delete(rc.segs, k)
			}
		}
	}
	rc.mu.Unlock()

	cols := &columns{starts: make([]uint64, len(segs)), rows: make([]*segRows, len(segs))}
	var next uint64
	for i, s := range segs {
		e := entries[i]
		e.once.Do(func() { e.rows, e.err = decodeRows(s.Segment(), field, dict) })
		if e.err != nil {
			return nil, e.err
		}
		cols.starts[i], cols.rows[i] = next, e.rows
		next += s.Segment().Count()
	}
	cols.dict = dict.view() // after decoding: it numbers every term of these rows
	return cols, nil
}

// at returns the rows of the segment of document num of the snapshot
// (its number in the snapshot, index.IndexInternalID.Value) and its
// number there, or nil. Documents come in increasing order, so the
// segment of the last one is tried first.
func (c *columns) at(num uint64) (*segRows, uint64) {
	i := c.last
	if i >= len(c.starts) || num < c.starts[i] || (i+1 < len(c.starts) && num >= c.starts[i+1]) {
		i = 0
		for i+1 < len(c.starts) && num >= c.starts[i+1] {
			i++
		}
		c.last = i
	}
	if i >= len(c.starts) || num-c.starts[i] >= uint64(len(c.rows[i].docs)) {
		return nil, 0
	}
	return c.rows[i], num - c.starts[i]
}
