package search

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
)

// Search returns one page of the practices matching q, with the facets
// of all of them. q must be valid (see Query.Validate): an invalid one
// gives an error wrapping ErrBadQuery. Hits come from the index alone
// (a stored copy of each Hit), not from the store.
func (ix *Index) Search(ctx context.Context, q Query) (*Result, error) {
	return ix.search(ctx, q, true)
}

// search is Search, optionally without facets (for benchmarks).
func (ix *Index) search(ctx context.Context, q Query, facets bool) (*Result, error) {
	start := time.Now()
	if err := q.Validate(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	req := bleve.NewSearchRequestOptions(ix.query(&q), limit, q.Offset, false)
	order, scored := sortOrder(&q)
	req.SortByCustom(order)
	if !scored {
		req.Score = bleve.ScoreNone
	}
	req.Fields = []string{fHit}
	var fc *facetCounter
	if facets {
		fc = newFacetCounter()
		ctx = context.WithValue(ctx, search.MakeDocumentMatchHandlerKey, search.MakeDocumentMatchHandler(fc.handler))
	}

	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if ix.cur == nil {
		return nil, ErrClosed
	}
	res, err := ix.cur.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: int(res.Total), Hits: make([]Hit, 0, len(res.Hits))}
	for _, dm := range res.Hits {
		raw, _ := dm.Fields[fHit].(string)
		var h Hit
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			return nil, fmt.Errorf("search: stored hit of %s: %w", dm.ID, err)
		}
		if scored {
			h.Score = dm.Score
		}
		out.Hits = append(out.Hits, h)
	}
	if fc != nil {
		out.Facets = fc.result()
	}
	out.Took = time.Since(start)
	return out, nil
}
