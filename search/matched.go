package search

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// maxMatchedExperiences bounds Hit.MatchedExperiences.
const maxMatchedExperiences = 10

// matchExperiences sets, on each hit of a page of practices found with
// text, the experience records about it that match text by themselves,
// at most maxMatchedExperiences in docID order: from the terms its
// document stores (exptokens.go), or, for a practice whose document
// stores none, by a search of the records' documents. page and suffixes
// (the suffixes of the languages of each hit's records) are hits'. The
// caller holds idxMu.
func (ix *Index) matchExperiences(ctx context.Context, text string, hits []Hit, page []pageHit, suffixes [][]string) error {
	m := newTermMatcher(ix.docs, text)
	var rest []int
	var restSuffixes []string
	for i := range hits {
		switch {
		case hits[i].ExperienceCounts.Total() == 0:
		case page[i].terms == nil:
			rest = append(rest, i)
			for _, s := range suffixes[i] {
				if !slices.Contains(restSuffixes, s) {
					restSuffixes = append(restSuffixes, s)
				}
			}
		default:
			refs, err := m.match(page[i].terms)
			if err != nil {
				return fmt.Errorf("search: experience terms of %s/%s: %w", hits[i].Publisher, hits[i].ID, err)
			}
			hits[i].MatchedExperiences = refs
		}
	}
	return ix.searchMatched(ctx, text, hits, rest, restSuffixes)
}

// searchMatched sets the matched records of hits[i], i in which, by one
// more search: of the records' documents about those practices, in the
// text fields of suffixes (their languages) only, whose rows say which
// practice each is about.
func (ix *Index) searchMatched(ctx context.Context, text string, hits []Hit, which []int, suffixes []string) error {
	at := map[string]int{} // about docID → index in hits
	var abouts []query.Query
	for _, i := range which {
		h := hits[i]
		id := h.Publisher + "/" + h.ID
		at[id] = i
		tq := bleve.NewTermQuery(id)
		tq.SetField(fxAbout)
		abouts = append(abouts, tq)
	}
	if len(abouts) == 0 || len(suffixes) == 0 {
		return nil
	}
	m := &matchCollector{kept: map[string][]matchedExp{}}
	// A record's text field holds its title too: one field per language
	// is enough to know whether it matches.
	slices.Sort(suffixes)
	q := bleve.NewConjunctionQuery(bleve.NewDisjunctionQuery(abouts...), ix.textQueryIn(text, suffixes, nil, expTextField))
	req := bleve.NewSearchRequestOptions(q, 0, 0, false)
	req.Score = bleve.ScoreNone
	ctx = context.WithValue(ctx, search.MakeDocumentMatchHandlerKey, search.MakeDocumentMatchHandler(m.handler))
	if _, err := ix.cur.SearchInContext(ctx, req); err != nil {
		return fmt.Errorf("search: experiences matched: %w", err)
	}
	for about, kept := range m.kept {
		i, ok := at[about]
		if !ok {
			continue
		}
		for _, k := range kept {
			hits[i].MatchedExperiences = append(hits[i].MatchedExperiences, k.ref)
		}
	}
	return nil
}

// matchedExp is one experience record kept by a matchCollector.
type matchedExp struct {
	id  string // docID
	ref ExperienceRef
}

// matchCollector keeps, of the experience documents matched, the first
// maxMatchedExperiences about each practice by docID, then loads their
// stored hits. It runs on the search's goroutine only.
type matchCollector struct {
	kept map[string][]matchedExp // by about docID
}

// handler makes the bleve document match handler that feeds m.
func (m *matchCollector) handler(sctx *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
	dv, err := sctx.IndexReader.DocValueReader([]string{fxRow})
	if err != nil {
		return nil, false, err
	}
	var about, pub, slot []byte
	visit := func(_ string, term []byte) {
		if len(term) == 0 {
			return
		}
		switch term[0] {
		case codeAbout:
			about = term[1:]
		case codePublisher:
			pub = term[1:]
		case codeID:
			slot = term[1:]
		}
	}
	return func(d *search.DocumentMatch) error {
		if d == nil {
			return m.load(sctx.IndexReader)
		}
		about, pub, slot = nil, nil, nil
		if err := dv.VisitDocValues(d.IndexInternalID, visit); err != nil {
			return err
		}
		if about != nil {
			m.offer(string(about), string(pub)+"/"+string(slot))
		}
		sctx.DocumentMatchPool.Put(d)
		return nil
	}, false, nil
}

// offer keeps the record id about a practice if it is among its first.
func (m *matchCollector) offer(about string, id string) {
	kept := append(m.kept[about], matchedExp{id: id})
	slices.SortFunc(kept, func(a, b matchedExp) int { return cmp.Compare(a.id, b.id) })
	m.kept[about] = kept[:min(len(kept), maxMatchedExperiences)]
}

// load reads the stored hits of the records kept.
func (m *matchCollector) load(r index.IndexReader) error {
	for _, kept := range m.kept {
		for i := range kept {
			doc, err := r.Document(kept[i].id)
			if err != nil {
				return fmt.Errorf("load %s: %w", kept[i].id, err)
			}
			var raw []byte
			if doc != nil {
				doc.VisitFields(func(f index.Field) {
					if f.Name() == fHit {
						raw = bytes.Clone(f.Value())
					}
				})
			}
			if raw == nil {
				return fmt.Errorf("load %s: no stored hit", kept[i].id)
			}
			// An ExperienceRef's members are named as the ExperienceHit's.
			if err := json.Unmarshal(raw, &kept[i].ref); err != nil {
				return fmt.Errorf("load %s: %w", kept[i].id, err)
			}
		}
	}
	return nil
}
