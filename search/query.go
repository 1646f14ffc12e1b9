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
//
// A query of practices never matches an experience record's document,
// nor the reverse: each kind has fields of its own, and the query of
// everything is the kind's term.
func (ix *Index) query(q *Query) query.Query {
	filter, text := ix.filterQuery(q), strings.TrimSpace(q.Text)
	var tq query.Query
	if text != "" {
		tq = ix.textQuery(text, titleField, textField)
		if q.Kind == KindExperience {
			tq = ix.textQuery(text, expTitleField, expTextField)
		}
	}
	switch {
	case tq == nil && filter == nil:
		return kindQuery(q.Kind)
	case tq == nil:
		return filter
	case filter == nil:
		return tq
	}
	bq := bleve.NewBooleanQuery()
	bq.AddMust(tq)
	bq.AddFilter(filter)
	return bq
}

// kindQuery matches every document of a kind ("" is KindPractice).
func kindQuery(kind string) query.Query {
	if kind == "" {
		kind = KindPractice
	}
	tq := bleve.NewTermQuery(kind)
	tq.SetField(fKind)
	return tq
}

// filters gathers the filter clauses of a query.
type filters []query.Query

// terms adds a clause that field holds one of values (none for no
// values).
func (fs *filters) terms(field string, values []string) {
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
		*fs = append(*fs, qs[0])
	} else {
		*fs = append(*fs, bleve.NewDisjunctionQuery(qs...))
	}
}

// boolean adds a clause that field is *v, if v is set.
func (fs *filters) boolean(field string, v *bool) {
	if v != nil {
		bq := bleve.NewBoolFieldQuery(*v)
		bq.SetField(field)
		*fs = append(*fs, bq)
	}
}

// query returns the conjunction of the clauses, or nil.
func (fs filters) query() query.Query {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return bleve.NewConjunctionQuery(fs...)
}

// publisherIDs returns publisher values in the form the index holds:
// any encoding of a peer ID or organisation ID finds it.
func publisherIDs(values []string) []string {
	out := make([]string, len(values))
	for i, p := range values {
		out[i] = p
		if id, err := protocol.DecodeID(p); err == nil {
			out[i] = id.String()
		}
	}
	return out
}

// filterQuery returns the conjunction of q's filters, or nil.
func (ix *Index) filterQuery(q *Query) query.Query {
	if q.Kind == KindExperience {
		return expFilterQuery(q)
	}
	var fs filters
	terms, boolean := fs.terms, fs.boolean
	terms(fCountry, q.Country)
	terms(fDimension, q.Dimension)
	terms(fTargetGroup, q.TargetGroup)
	terms(fSource, q.FundingSource)
	terms(fAchievement, q.Achievement)
	terms(fEvaluation, q.Evaluation)
	terms(fLanguage, q.Language)
	terms(fCity, q.City)
	terms(fPlace, q.Place)
	terms(fPublisher, publisherIDs(q.Publisher))
	terms(fEndorsedBy, publisherIDs(q.EndorsedBy))
	boolean(fHasTranslation, q.HasTranslation)
	boolean(fOngoing, q.Ongoing)
	boolean(fHasLessons, q.HasLessons)
	if q.Adapted > 0 || q.AdaptedMax != nil {
		var lo, hi *int64
		if q.Adapted > 0 {
			lo = ptrTo(int64(q.Adapted))
		}
		if q.AdaptedMax != nil {
			hi = ptrTo(int64(*q.AdaptedMax))
		}
		fs = append(fs, numberRange(fAdapted, lo, hi))
	}
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
	return fs.query()
}

// expFilterQuery returns the conjunction of the filters of a query of
// experience records, or nil.
func expFilterQuery(q *Query) query.Query {
	var fs filters
	fs.terms(fxType, q.Type)
	fs.terms(fxPublisher, publisherIDs(q.Publisher))
	fs.terms(fxLanguage, q.Language)
	fs.terms(fxCountry, q.Country)
	fs.terms(fxAboutState, q.AboutState)
	about := make([]string, len(q.About))
	for i, a := range q.About {
		pub, id, _ := strings.Cut(a, "/")
		about[i] = publisherIDs([]string{pub})[0] + "/" + id
	}
	fs.terms(fxAbout, about)
	return fs.query()
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
