package search

import (
	"context"
	"fmt"
	"slices"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// textQuery matches text against the title and text fields of every
// language (named by title and body; title nil for none), each analysed
// by its own field's analyzer: a document matches when all the words of
// the query, as that language analyses them, appear in its text in one
// language.
func (ix *Index) textQuery(text string, title, body func(suffix string) string) query.Query {
	return ix.textQueryIn(text, textSuffixes, title, body)
}

// textQueryIn is textQuery in the languages of suffixes only.
//
// It matches what a disjunction of match queries with the AND operator,
// one per field, would, and orders hits alike, at less cost per query
// and per match (BenchmarkSearchText):
//   - the text is analysed once per language, not once per field;
//   - a word the analyzer gives twice is one term, not two (a uniform
//     factor on the scores);
//   - one term is searched by its term searcher, not by a conjunction of
//     one, which costs a step per match and scores the same;
//   - a field that lacks one of the terms, in the snapshot searched, has
//     no clause, since it cannot match. Of some 28 clauses, a query's
//     terms are in a few fields only: the others cost a dictionary
//     lookup per segment for nothing, and leave the disjunction wider.
//
// Leaving clauses out scales every score of the query by one factor
// (bleve's coordination factor counts the clauses), so the order of the
// hits is the same.
func (ix *Index) textQueryIn(text string, suffixes []string, title, body func(suffix string) string) query.Query {
	q := &textMatch{}
	for _, s := range suffixes {
		terms := analyzedTerms(ix.docs.analyzers[s], text)
		if len(terms) == 0 {
			continue // only stop words in this language: a match query matches nothing
		}
		if title != nil {
			q.clauses = append(q.clauses, textClause{field: title(s), terms: terms, boost: titleBoost})
		}
		q.clauses = append(q.clauses, textClause{field: body(s), terms: terms, boost: 1})
	}
	return q
}

// analyzedTerms returns the distinct terms a analyses text into, in
// order of first appearance.
func analyzedTerms(a analysis.Analyzer, text string) []string {
	var terms []string
	for _, t := range a.Analyze([]byte(text)) {
		if term := string(t.Term); !slices.Contains(terms, term) {
			terms = append(terms, term)
		}
	}
	return terms
}

// textMatch is the query textQueryIn returns: the documents that hold
// every term of at least one of its clauses, scored by the sum of the
// scores of the clauses they match (each the sum of its terms' TF-IDF
// scores, with its boost) times the share of clauses they match.
type textMatch struct {
	clauses []textClause
}

// textClause matches the documents whose field holds every one of terms.
type textClause struct {
	field string
	terms []string
	boost float64
}

// Searcher makes the searcher of q over the snapshot i: a disjunction
// (unionOf) of the clauses whose terms are all in i (their term
// searchers, or a conjunction of them), or a searcher of nothing.
func (q *textMatch) Searcher(ctx context.Context, i index.IndexReader, _ mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	live, err := q.live(ctx, i, options)
	if err != nil {
		return nil, err
	}
	if len(live) == 0 {
		return searcher.NewMatchNoneSearcher(i)
	}
	ds, err := unionOf(ctx, i, live, options)
	if err != nil {
		closeAll(live)
		return nil, fmt.Errorf("text query: %w", err)
	}
	return ds, nil
}

// closeAll closes the searchers ss of a query that failed or was not
// made; their errors say nothing the caller can act on.
func closeAll(ss []search.Searcher) {
	for _, s := range ss {
		_ = s.Close()
	}
}

// live returns the searchers of q's clauses whose terms are all in i.
func (q *textMatch) live(ctx context.Context, i index.IndexReader, options search.SearcherOptions) ([]search.Searcher, error) {
	var live []search.Searcher
	for _, c := range q.clauses {
		terms := make([]search.Searcher, 0, len(c.terms))
		for _, t := range c.terms {
			ts, err := searcher.NewTermSearcher(ctx, i, t, c.field, c.boost, options)
			if err != nil {
				closeAll(terms)
				closeAll(live)
				return nil, fmt.Errorf("text query: %w", err)
			}
			terms = append(terms, ts)
			if ts.Count() == 0 {
				break
			}
		}
		if terms[len(terms)-1].Count() == 0 {
			closeAll(terms)
			continue
		}
		if len(terms) == 1 {
			live = append(live, terms[0])
			continue
		}
		cs, err := searcher.NewConjunctionSearcher(ctx, i, terms, options)
		if err != nil {
			closeAll(terms)
			closeAll(live)
			return nil, fmt.Errorf("text query: %w", err)
		}
		live = append(live, cs)
	}
	return live, nil
}
