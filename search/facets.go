package search

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
)

// Facets and Stats read one doc-values column, fFacets, that holds as
// terms every value a facet counts: a one-byte code naming the facet,
// then the value ("cIT", "dcultural", "y2011", "f100k-1M"), and the
// figures Stats sums: 'F' or 'B', then the decimal funding or number of
// beneficiaries. A search visits that one column for each match and
// counts its terms in a map, without allocating. bleve's facet requests
// visit one column per facet and allocate a string per term: with them,
// facets over 100,000 matches took about 5 times longer
// (BenchmarkSearch/facets measures what is left).

// facetDefs are the facets of every search, with their codes.
var facetDefs = []struct {
	code byte
	name string
}{
	{'c', "country"},
	{'d', "dimension"},
	{'t', "target_group"},
	{'s', "funding_source"},
	{'a', "achievement"},
	{'e', "evaluation"},
	{'p', "publisher"},
	{'l', "language"},
	{'y', "start_year"},
	{'f', "funding_range"},
	{'h', "has_translation"},
}

// Codes of the figures in the facets column.
const (
	codeFunding       = 'F'
	codeBeneficiaries = 'B'
)

// fundingRanges are the buckets of the funding_range facet, in euros:
// from inclusive, to exclusive; 0 is unbounded.
var fundingRanges = []struct {
	name     string
	from, to int64
}{
	{"<10k", 0, 1e4},
	{"10k-100k", 1e4, 1e5},
	{"100k-1M", 1e5, 1e6},
	{"1M-10M", 1e6, 1e7},
	{">=10M", 1e7, 0},
}

// fundingRange returns the funding_range bucket of an amount.
func fundingRange(eur int64) string {
	for _, r := range fundingRanges {
		if eur >= r.from && (r.to == 0 || eur < r.to) {
			return r.name
		}
	}
	return fundingRanges[0].name // negative amounts are invalid
}

// facetTerms returns the terms of a practice's facets column.
func facetTerms(h *Hit, s sheetFacets) []string {
	var out []string
	add := func(code byte, v string) { out = append(out, string(code)+v) }
	add('c', h.Country)
	for _, v := range h.Dimensions {
		add('d', v)
	}
	for _, v := range s.targetGroups {
		add('t', v)
	}
	for _, v := range s.sources {
		add('s', v)
	}
	if s.achievement != "" {
		add('a', s.achievement)
	}
	if s.evaluation != "" {
		add('e', s.evaluation)
	}
	add('p', h.Publisher)
	for _, v := range h.Languages {
		add('l', v)
	}
	add('y', strconv.Itoa(h.StartYear))
	add('h', strconv.FormatBool(len(h.Languages) > 1))
	if h.FundingEUR != nil {
		add('f', fundingRange(*h.FundingEUR))
		add(codeFunding, strconv.FormatInt(*h.FundingEUR, 10))
	}
	if h.Beneficiaries != nil {
		add(codeBeneficiaries, strconv.FormatInt(*h.Beneficiaries, 10))
	}
	return out
}

// sheetFacets are the facet values of a sheet that a Hit does not hold.
type sheetFacets struct {
	targetGroups, sources   []string
	achievement, evaluation string
}

// facetCounter counts the facets of one search's matches. Its handler
// runs on the search's goroutine only.
type facetCounter struct {
	counts map[string]*int
}

func newFacetCounter() *facetCounter { return &facetCounter{counts: map[string]*int{}} }

// handler makes the bleve document match handler that counts each
// match's facets, then hands the match to bleve's own top-N handler.
func (fc *facetCounter) handler(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
	next, loadID, err := collector.MakeTopNDocumentMatchHandler(sctx)
	if err != nil {
		return nil, false, err
	}
	dv, err := sctx.IndexReader.DocValueReader([]string{fFacets})
	if err != nil {
		return nil, false, err
	}
	visit := func(_ string, term []byte) {
		if len(term) == 0 || term[0] == codeFunding || term[0] == codeBeneficiaries {
			return
		}
		if n, ok := fc.counts[string(term)]; ok {
			*n++
			return
		}
		n := 1
		fc.counts[string(term)] = &n
	}
	return func(d *search.DocumentMatch) error {
		if d != nil {
			if err := dv.VisitDocValues(d.IndexInternalID, visit); err != nil {
				return err
			}
		}
		return next(d)
	}, loadID, nil
}

// result returns every facet, values by count, then value.
func (fc *facetCounter) result() map[string][]FacetValue {
	out := make(map[string][]FacetValue, len(facetDefs))
	byCode := map[byte]string{}
	for _, f := range facetDefs {
		out[f.name] = []FacetValue{}
		byCode[f.code] = f.name
	}
	for term, n := range fc.counts {
		if name, ok := byCode[term[0]]; ok {
			out[name] = append(out[name], FacetValue{Value: term[1:], Count: *n})
		}
	}
	for _, vs := range out {
		slices.SortFunc(vs, func(a, b FacetValue) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
		})
	}
	return out
}

// parseDecimal reads a non-negative decimal number; ok is false if b is not one.
func parseDecimal(b []byte) (v int64, ok bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
