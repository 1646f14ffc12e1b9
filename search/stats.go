package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
}

// Stats counts the practices matching q, and sums their funding and
// beneficiaries, by country, dimension, year (the start year) or source
// (the funding sources). q must be valid (its Sort, Offset and Limit
// are ignored); an invalid q or key gives an error wrapping ErrBadQuery.
// Groups are ordered by key; a practice without a value of the key (no
// funding source) is in no group but in Total.
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
	req := bleve.NewSearchRequestOptions(ix.query(&q), 0, 0, false)
	req.Score = bleve.ScoreNone
	acc := &statsAcc{code: statsKeys[i].code, terms: map[string]*Group{}}
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
		expandFacetTerm(term, func(facet, value string) {
			if facet != statsKeys[i].facet {
				return
			}
			g := groups[value]
			if g == nil {
				g = &Group{Key: value}
				groups[value] = g
			}
			g.Practices += t.Practices
			g.Funded += t.Funded
			g.FundingEUR += t.FundingEUR
			g.Beneficiaries += t.Beneficiaries
		})
	}
	st := &Stats{By: by, Total: acc.total, Groups: make([]Group, 0, len(groups))}
	for _, g := range groups {
		st.Groups = append(st.Groups, *g)
	}
	slices.SortFunc(st.Groups, func(a, b Group) int { return cmp.Compare(a.Key, b.Key) })
	return st, nil
}

// statsAcc adds up the matches of one Stats call, in total and by the
// row term that holds the key; its handler runs on the search's
// goroutine only.
type statsAcc struct {
	code  byte
	total Group
	terms map[string]*Group
}

// handler makes the bleve document match handler that adds each match
// to acc and recycles it.
func (acc *statsAcc) handler(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
	dv, err := sctx.IndexReader.DocValueReader([]string{fRow})
	if err != nil {
		return nil, false, err
	}
	var (
		key                  []byte // the row term holding the key
		funding, benef       int64
		hasFunding, hasBenef bool
	)
	visit := func(_ string, term []byte) {
		switch {
		case len(term) == 0:
		case term[0] == acc.code:
			key = term
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
		key, hasFunding, hasBenef = nil, false, false
		if err := dv.VisitDocValues(d.IndexInternalID, visit); err != nil {
			return err
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
