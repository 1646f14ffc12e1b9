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
// of all of them, or with Kind KindExperience one page of the experience
// records matching q (Result.Experiences) and their facets. q must be
// valid (see Query.Validate): an invalid one gives an error wrapping
// ErrBadQuery. Hits come from the index alone (a stored copy of each
// Hit), not from the store; their Score is set when they are ordered by
// relevance. With text, a practice's Hit lists the experience records
// about it that match the text by themselves (MatchedExperiences).
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
	rowField := fRow
	if q.Kind == KindExperience {
		rowField = fxRow
	}
	c := newCollector(o, q.Offset, limit, facets, load, &ix.rows, rowField)
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
	out := &Result{Total: int(res.Total), Hits: []Hit{}}
	if q.Kind == KindExperience {
		err = out.addExperiences(c.page, o.key == byScore)
	} else {
		var suffixes [][]string
		suffixes, err = out.addHits(c.page, o.key == byScore)
		if err == nil && load && q.Text != "" {
			err = ix.matchExperiences(ctx, q.Text, out.Hits, c.page, suffixes)
		}
	}
	if err != nil {
		return nil, err
	}
	if facets {
		names := facetNames
		if q.Kind == KindExperience {
			names = expFacetNames
		}
		out.Facets = c.facets(names)
	}
	out.Took = time.Since(start)
	return out, nil
}

// addHits adds the collected page of practices to r, and returns, for
// each, the text field suffixes of the languages of the experience
// records about it (storedHit).
func (r *Result) addHits(page []pageHit, scored bool) ([][]string, error) {
	r.Hits = make([]Hit, 0, len(page))
	suffixes := make([][]string, 0, len(page))
	for _, p := range page {
		h := storedHit{Hit: Hit{Publisher: p.pub, ID: p.id}}
		if p.hit != nil {
			if err := json.Unmarshal(p.hit, &h); err != nil {
				return nil, fmt.Errorf("search: stored hit of %s/%s: %w", p.pub, p.id, err)
			}
		}
		if scored {
			h.Score = p.score
		}
		r.Hits = append(r.Hits, h.Hit)
		suffixes = append(suffixes, h.ExpSuffixes)
	}
	return suffixes, nil
}

// addExperiences adds the collected page of experience records to r.
func (r *Result) addExperiences(page []pageHit, scored bool) error {
	r.Experiences = make([]ExperienceHit, 0, len(page))
	for _, p := range page {
		h := ExperienceHit{Publisher: p.pub, Slot: p.id}
		if p.hit != nil {
			if err := json.Unmarshal(p.hit, &h); err != nil {
				return fmt.Errorf("search: stored hit of %s/%s: %w", p.pub, p.id, err)
			}
		}
		if scored {
			h.Score = p.score
		}
		r.Experiences = append(r.Experiences, h)
	}
	return nil
}
