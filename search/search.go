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
// (a stored copy of each Hit), not from the store; their Score is set
// when they are ordered by relevance.
func (ix *Index) Search(ctx context.Context, q Query) (*Result, error) {
	return ix.search(ctx, q, true, true)
}

// search is Search, optionally without facets or without loading the
// stored Hits (then only Publisher, ID and Score are set), for
// benchmarks.
func (ix *Index) search(ctx context.Context, q Query, facets, load bool) (*Result, error) {
	start := time.Now()
	if err := q.Validate(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	o := orderOf(&q)
	c := newCollector(o, q.Offset, limit, facets, load)
	// bleve finds the matches (and scores them for relevance); the
	// collector does the rest, so bleve is asked for no hits.
	req := bleve.NewSearchRequestOptions(ix.query(&q), 0, 0, false)
	if o.key != byScore {
		req.Score = bleve.ScoreNone
	}
	ctx = context.WithValue(ctx, search.MakeDocumentMatchHandlerKey, search.MakeDocumentMatchHandler(c.handler))

	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if err := ix.usable(); err != nil {
		return nil, err
	}
	res, err := ix.cur.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: int(res.Total), Hits: make([]Hit, 0, len(c.page))}
	for _, p := range c.page {
		h := Hit{Publisher: p.pub, ID: p.id}
		if p.hit != nil {
			if err := json.Unmarshal(p.hit, &h); err != nil {
				return nil, fmt.Errorf("search: stored hit of %s/%s: %w", p.pub, p.id, err)
			}
		}
		if o.key == byScore {
			h.Score = p.score
		}
		out.Hits = append(out.Hits, h)
	}
	if facets {
		out.Facets = c.facets()
	}
	out.Took = time.Since(start)
	return out, nil
}
