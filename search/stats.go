package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
)

// statsKey is a key of Stats and the facet it groups by.
type statsKey struct {
	by    string
	facet string
	code  byte // of the row term that holds the facet
}

// statsKeys are the keys of Stats, in the order error messages list them.
var statsKeys = []statsKey{
	{"country", "country", codeCountryYear},
	{"dimension", "dimension", codeDimSources},
	{"year", "start_year", codeCountryYear},
	{"source", "funding_source", codeDimSources},
	{"adaptation", "adapted", codeAdapted},
}

// Stats counts the practices matching q, and sums their funding and
// beneficiaries, by country, dimension, year (the start year), source
// (the funding sources) or adaptation. q must be valid (its Sort, Offset
// and Limit are ignored) and of practices; an invalid q or key gives an
// error wrapping ErrBadQuery. Groups are ordered by key; a practice
// without a value of the key (no funding source) is in no group but in
// Total.
//
// By adaptation, the key is how many live adaptations a practice has
// ("0", "1", "2", ...; every practice is in one group), groups ordered
// by that number, and Flows counts the adaptations from the practices'
// country to the adaptations' (see Flow).
//
// Facets only count, so Stats runs q through bleve with its own handler
// of each matching document, which reads the key, funding and
// beneficiaries of the practice from its row (see row.go), and adds
// them up by row term, splitting the terms into keys at the end. That
// is one pass over the matches, in the same snapshot as the match, with
// no second copy of the catalogue in memory to keep in step with the
// index.
func (ix *Index) Stats(ctx context.Context, q Query, by string) (*Stats, error) {
	i := slices.IndexFunc(statsKeys, func(k statsKey) bool { return k.by == by })
	if i < 0 {
		names := make([]string, len(statsKeys))
		for j, k := range statsKeys {
			names[j] = k.by
		}
		return nil, badParam("by", "%q is not one of %s", clip(by), strings.Join(names, ", "))
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Kind == KindExperience {
		return nil, badParam("kind", "stats count practices; leave kind out or give kind=%s", KindPractice)
	}
	req := bleve.NewSearchRequestOptions(ix.query(&q), 0, 0, false)
	req.Score = bleve.ScoreNone
	acc := &statsAcc{code: statsKeys[i].code, terms: map[string]*Group{}}
	if by == "adaptation" {
		acc.pairs = map[string]int{}
	}
	ctx = context.WithValue(ctx, search.MakeDocumentMatchHandlerKey, search.MakeDocumentMatchHandler(acc.handler))

	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if err := ix.usable(); err != nil {
		return nil, err
	}
	if _, err := ix.cur.SearchInContext(ctx, req); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}

	groups := map[string]*Group{}
	for term, t := range acc.terms {
		values := func(add func(facet, value string)) { expandFacetTerm(term, add) }
		if by == "adaptation" {
			n, _ := splitAdapted(term)
			values = func(add func(facet, value string)) { add("adapted", strconv.FormatInt(n, 10)) }
		}
		values(func(facet, value string) {
			if facet == statsKeys[i].facet {
				groupOf(groups, value).add(*t)
			}
		})
	}
	st := &Stats{By: by, Total: acc.total, Groups: make([]Group, 0, len(groups))}
	if by == "adaptation" {
		// Practices without an 'X' term, and those with lessons only, were
		// never adapted.
		zero := acc.total
		for k, g := range groups {
			if k != "0" {
				zero.sub(*g)
			}
		}
		delete(groups, "0")
		if zero.Practices > 0 {
			zero.Key = "0"
			groups["0"] = &zero
		}
		st.Flows = acc.flows()
	}
	for _, g := range groups {
		st.Groups = append(st.Groups, *g)
	}
	slices.SortFunc(st.Groups, func(a, b Group) int {
		if by == "adaptation" { // numbers
			return cmp.Or(cmp.Compare(len(a.Key), len(b.Key)), cmp.Compare(a.Key, b.Key))
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return st, nil
}

// groupOf returns the group of key in groups, adding it if needed.
func groupOf(groups map[string]*Group, key string) *Group {
	g := groups[key]
	if g == nil {
		g = &Group{Key: key}
		groups[key] = g
	}
	return g
}

// add adds the counts and sums of t to g.
func (g *Group) add(t Group) {
	g.Practices += t.Practices
	g.Funded += t.Funded
	g.FundingEUR += t.FundingEUR
	g.Beneficiaries += t.Beneficiaries
}

// sub takes the counts and sums of t from g.
func (g *Group) sub(t Group) {
	g.Practices -= t.Practices
	g.Funded -= t.Funded
	g.FundingEUR -= t.FundingEUR
	g.Beneficiaries -= t.Beneficiaries
}

// flows returns the adaptation flows of the pairs counted, by
// adaptations (descending), then from, then to.
func (acc *statsAcc) flows() []Flow {
	type edge struct{ from, to string }
	by := map[edge]*Flow{}
	for pair, practices := range acc.pairs {
		cterm, aterm, _ := strings.Cut(pair, "\x00")
		from, _, _ := strings.Cut(cterm[1:], "|")
		to, n := splitAdaptedIn(aterm)
		f := by[edge{from, to}]
		if f == nil {
			f = &Flow{From: from, To: to}
			by[edge{from, to}] = f
		}
		f.Adaptations += practices * int(n)
		f.Practices += practices
	}
	out := make([]Flow, 0, len(by))
	for _, f := range by {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Flow) int {
		return cmp.Or(cmp.Compare(b.Adaptations, a.Adaptations), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

// statsAcc adds up the matches of one Stats call, in total and by the
// row term that holds the key; its handler runs on the search's
// goroutine only.
type statsAcc struct {
	code  byte
	total Group
	terms map[string]*Group
	// pairs, by adaptation only, counts the practices by their country
	// term and one of their 'A' terms, joined by a zero byte.
	pairs map[string]int
}

// handler makes the bleve document match handler that adds each match
// to acc and recycles it.
func (acc *statsAcc) handler(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
	dv, err := sctx.IndexReader.DocValueReader([]string{fRow})
	if err != nil {
		return nil, false, err
	}
	var (
		key                  []byte   // the row term holding the key
		country              []byte   // the 'C' term, for pairs
		adaptedIn            [][]byte // the 'A' terms, for pairs
		funding, benef       int64
		hasFunding, hasBenef bool
	)
	visit := func(_ string, term []byte) {
		switch {
		case len(term) == 0:
		case term[0] == acc.code:
			key = term
		case term[0] == codeCountryYear:
			country = term
		case term[0] == codeAdaptedIn:
			adaptedIn = append(adaptedIn, term)
		case term[0] == codeFunding:
			funding, hasFunding = parseDecimal(term[1:])
		case term[0] == codeBeneficiaries:
			benef, hasBenef = parseDecimal(term[1:])
		}
	}
	return func(d *search.DocumentMatch) error {
		if d == nil {
			return nil
		}
		key, country, adaptedIn, hasFunding, hasBenef = nil, nil, adaptedIn[:0], false, false
		if err := dv.VisitDocValues(d.IndexInternalID, visit); err != nil {
			return err
		}
		if acc.pairs != nil && country != nil {
			for _, a := range adaptedIn {
				acc.pairs[string(country)+"\x00"+string(a)]++
			}
		}
		gs := []*Group{&acc.total}
		if key != nil {
			g, ok := acc.terms[string(key)]
			if !ok {
				g = &Group{}
				acc.terms[string(key)] = g
			}
			gs = append(gs, g)
		}
		for _, g := range gs {
			g.Practices++
			if hasFunding {
				g.Funded++
				g.FundingEUR += funding
			}
			if hasBenef {
				g.Beneficiaries += benef
			}
		}
		sctx.DocumentMatchPool.Put(d)
		return nil
	}, false, nil
}
