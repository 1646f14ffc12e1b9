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

// statsKeys are the keys of Stats, in the order error messages list
// them, and the field each groups by.
var statsKeys = []struct {
	by   string
	code byte // in the facets column
}{
	{"country", 'c'},
	{"dimension", 'd'},
	{"year", 'y'},
	{"source", 's'},
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
// beneficiaries of the document from the index's facets column (see
// facets.go). That takes one pass over the matches, in the same snapshot
// as the match, with no second copy of the catalogue in memory to keep
// in step with the index.
func (ix *Index) Stats(ctx context.Context, q Query, by string) (*Stats, error) {
	i := slices.IndexFunc(statsKeys, func(k struct {
		by   string
		code byte
	}) bool {
		return k.by == by
	})
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
	acc := &statsAcc{code: statsKeys[i].code, groups: map[string]*Group{}}
	ctx = context.WithValue(ctx, search.MakeDocumentMatchHandlerKey, search.MakeDocumentMatchHandler(acc.handler))

	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if ix.cur == nil {
		return nil, ErrClosed
	}
	if _, err := ix.cur.SearchInContext(ctx, req); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	st := &Stats{By: by, Total: acc.total, Groups: make([]Group, 0, len(acc.groups))}
	for _, g := range acc.groups {
		st.Groups = append(st.Groups, *g)
	}
	slices.SortFunc(st.Groups, func(a, b Group) int { return cmp.Compare(a.Key, b.Key) })
	return st, nil
}

// statsAcc adds up the documents of one Stats call; its handler runs on
// the search's goroutine only.
type statsAcc struct {
	code   byte
	total  Group
	groups map[string]*Group
}

// handler makes the bleve document match handler that adds each
// matching document to acc and recycles it.
func (acc *statsAcc) handler(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
	dv, err := sctx.IndexReader.DocValueReader([]string{fFacets})
	if err != nil {
		return nil, false, err
	}
	var (
		in                   []*Group // the document's groups
		funding, benef       int64
		hasFunding, hasBenef bool
	)
	visit := func(_ string, term []byte) {
		if len(term) == 0 {
			return
		}
		switch term[0] {
		case acc.code:
			g, ok := acc.groups[string(term[1:])]
			if !ok {
				g = &Group{Key: string(term[1:])}
				acc.groups[g.Key] = g
			}
			if !slices.Contains(in, g) {
				in = append(in, g)
			}
		case codeFunding:
			funding, hasFunding = parseDecimal(term[1:])
		case codeBeneficiaries:
			benef, hasBenef = parseDecimal(term[1:])
		}
	}
	return func(d *search.DocumentMatch) error {
		if d == nil {
			return nil
		}
		in, hasFunding, hasBenef = in[:0], false, false
		if err := dv.VisitDocValues(d.IndexInternalID, visit); err != nil {
			return err
		}
		for _, g := range append(in, &acc.total) {
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
