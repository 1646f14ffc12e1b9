package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/khantara/khantara/protocol"
)

// titleBoost weighs a match in a title against one in the other text.
const titleBoost = 3

// defaultLimit is the page size of Limit 0.
const defaultLimit = 20

// query returns the bleve query of a valid Query: the text query AND the
// filters. Filters do not change scores: with text they are a boolean
// query's filter clause (checked on each match of the text: making the
// two a conjunction, so that the more selective leads, measured slower,
// and filter clauses with boost 0 score NaN); without text nothing is
// scored.
func (ix *Index) query(q *Query) query.Query {
	filter := ix.filterQuery(q)
	text := strings.TrimSpace(q.Text)
	switch {
	case text == "" && filter == nil:
		return bleve.NewMatchAllQuery()
	case text == "":
		return filter
	case filter == nil:
		return textQuery(text)
	}
	bq := bleve.NewBooleanQuery()
	bq.AddMust(textQuery(text))
	bq.AddFilter(filter)
	return bq
}

// textQuery matches text against the title and text fields of every
// language, each analysed by its own field's analyzer: a practice
// matches when all the words of the query, as that language analyses
// them, appear in its text in one language.
func textQuery(text string) query.Query {
	qs := make([]query.Query, 0, 2*len(textSuffixes))
	for _, s := range textSuffixes {
		for _, f := range []struct {
			field string
			boost float64
		}{{titleField(s), titleBoost}, {textField(s), 1}} {
			mq := bleve.NewMatchQuery(text)
			mq.SetField(f.field)
			mq.Analyzer = analyzerOf(s)
			mq.SetOperator(query.MatchQueryOperatorAnd)
			mq.SetBoost(f.boost)
			qs = append(qs, mq)
		}
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// filterQuery returns the conjunction of q's filters, or nil.
func (ix *Index) filterQuery(q *Query) query.Query {
	var fs []query.Query
	terms := func(field string, values []string) {
		if len(values) == 0 {
			return
		}
		qs := make([]query.Query, len(values))
		for i, v := range values {
			tq := bleve.NewTermQuery(v)
			tq.SetField(field)
			qs[i] = tq
		}
		if len(qs) == 1 {
			fs = append(fs, qs[0])
		} else {
			fs = append(fs, bleve.NewDisjunctionQuery(qs...))
		}
	}
	terms(fCountry, q.Country)
	terms(fDimension, q.Dimension)
	terms(fTargetGroup, q.TargetGroup)
	terms(fSource, q.FundingSource)
	terms(fAchievement, q.Achievement)
	terms(fEvaluation, q.Evaluation)
	terms(fLanguage, q.Language)
	terms(fCity, q.City)
	terms(fPlace, q.Place)
	pubs := make([]string, len(q.Publisher))
	for i, p := range q.Publisher {
		pubs[i] = p
		if id, err := protocol.DecodeID(p); err == nil {
			pubs[i] = id.String() // any encoding of a peer ID or organisation ID finds it
		}
	}
	terms(fPublisher, pubs)
	boolean := func(field string, v *bool) {
		if v != nil {
			bq := bleve.NewBoolFieldQuery(*v)
			bq.SetField(field)
			fs = append(fs, bq)
		}
	}
	boolean(fHasTranslation, q.HasTranslation)
	boolean(fOngoing, q.Ongoing)
	if q.FundingMin != nil || q.FundingMax != nil {
		fs = append(fs, numberRange(fFunding, q.FundingMin, q.FundingMax))
	}
	if q.YearTo != 0 {
		fs = append(fs, numberRange(fYear, nil, ptrTo(int64(q.YearTo))))
	}
	if q.YearFrom != 0 {
		// The practice ran until end_year, or, without one, until now
		// (or its start year, if that is later).
		from := ptrTo(int64(q.YearFrom))
		open := bleve.NewBoolFieldQuery(true)
		open.SetField(fOpenEnd)
		var openEnded query.Query = open
		if ix.cfg.now().Year() < q.YearFrom {
			openEnded = bleve.NewConjunctionQuery(open, numberRange(fYear, from, nil))
		}
		fs = append(fs, bleve.NewDisjunctionQuery(numberRange(fEndYear, from, nil), openEnded))
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return bleve.NewConjunctionQuery(fs...)
}

// numberRange matches a numeric field in [min, max]; nil is unbounded.
func numberRange(field string, min, max *int64) query.Query {
	var lo, hi *float64
	if min != nil {
		lo = ptrTo(float64(*min))
	}
	if max != nil {
		hi = ptrTo(float64(*max))
	}
	nq := bleve.NewNumericRangeInclusiveQuery(lo, hi, ptrTo(true), ptrTo(true))
	nq.SetField(field)
	return nq
}

func ptrTo[T any](v T) *T { return &v }
