package search

import "sync"

// The facet terms of every decoded segment, numbered once for the whole
// index. A search counts the facet terms of its matches in an array by
// these numbers, with no map lookup per term and nothing to merge when
// it passes from one segment to the next; at the end it adds the count
// of each term it met to the facet values the term stands for, which
// were split out of it (expandFacetTerm) once, when the term was first
// numbered. Counting by a segment's own numbers, and adding a segment's
// counts to a map of terms when the search left it, cost about a fifth
// of a search over half of 100,000 practices (BenchmarkSearchText's
// profile): a segment holds some thousands of distinct facet terms, and
// the index some fifteen segments.

// maxDictTerms bounds a facetDict: past it, the row cache starts afresh
// (rowCache.columns), dropping the numbers of terms no segment holds any
// more. Facet terms take few distinct values (row.go): some thousands
// at 100,000 generated practices, so this is met only after very many
// changes; it keeps the dictionary to some tens of MB at most.
const maxDictTerms = 1 << 18

// facetValue is one value of one facet.
type facetValue struct{ facet, value string }

// facetDict numbers facet terms and their facet values. It only grows;
// the slices of a dictView stay valid (entries are never changed once
// appended). It is safe for concurrent use.
type facetDict struct {
	mu     sync.Mutex            // guards the fields below
	ids    map[string]uint32     // facet term → its number
	expand [][]uint32            // by term number: the numbers of its values
	valIDs map[facetValue]uint32 // facet value → its number
	values []facetValue          // by number
}

func newFacetDict() *facetDict {
	return &facetDict{ids: map[string]uint32{}, valIDs: map[facetValue]uint32{}}
}

// id returns the number of a facet term, numbering it and its values if
// it is new.
func (d *facetDict) id(term string) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if o, ok := d.ids[term]; ok {
		return o
	}
	var vals []uint32
	expandFacetTerm(term, func(facet, value string) {
		fv := facetValue{facet, value}
		v, ok := d.valIDs[fv]
		if !ok {
			v = uint32(len(d.values))
			d.values = append(d.values, fv)
			d.valIDs[fv] = v
		}
		vals = append(vals, v)
	})
	o := uint32(len(d.expand))
	d.expand = append(d.expand, vals)
	d.ids[term] = o
	return o
}

// view returns the terms and values numbered so far.
func (d *facetDict) view() dictView {
	d.mu.Lock()
	defer d.mu.Unlock()
	return dictView{expand: d.expand, values: d.values}
}

// size returns how many terms d numbers.
func (d *facetDict) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.expand)
}

// dictView is what a facetDict numbered up to some moment: read-only.
type dictView struct {
	expand [][]uint32
	values []facetValue
}
