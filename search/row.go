package search

import (
	"strconv"
	"strings"
)

// The row is the one doc-values column of the index, fRow: everything a
// search reads for each match, as terms that start with a one-byte code.
//
// Facet values are grouped into a few terms, each of low cardinality
// across the catalogue: "C<country>|<start year>",
// "D<dimensions>|<funding sources>", "G<achievement>|<evaluation>|
// <has translation>|<funding range>", "L<languages>", "p<publisher>",
// one "t<target group>" per value, "c<country>/<city>" when the
// sheet gives a city and "P<place>" when it has a place (PlaceValue);
// parts are separated by '|', values within a part by ',', except in
// the city and place terms, which are one value each (a city may hold
// both, a location holds ','). A search counts whole terms (one map
// lookup each, about 8 per practice instead of 20 for one term per
// value) and splits the distinct ones into facet values at the end.
// The row also holds the figures for sorting and Stats, 'F' funding and
// 'B' beneficiaries in decimal, and the practice ID, 'i'.
//
// The live experience records about a practice add, when it has an
// adaptation or a lesson, "X<adaptations>|<has lessons>" (facets adapted
// and has_lessons; the sort key adapted; the groups of Stats by
// adaptation), one "A<country>|<adaptations there>" per country it was
// adapted in (facet adapted_in; the flows of Stats by adaptation) and
// one "e<publisher>" per endorsement (facet endorsed_by; their number is
// the sort key endorsements). A practice without them has no such term:
// the facets' "0" and "false" values are what is left of the matches
// (collect.go), so rows of practices that nobody wrote about cost
// nothing more. Each of these terms takes few distinct values across the
// catalogue, as facet terms must.
// Experience documents have rows too (expdoc.go), in a column of their
// own, fxRow, so the practices' column is as compact as without them and
// a search of practices reads nothing more: 'p' author, 'i' slot,
// 'T' time, 'L' languages, 'a' the docID of the practice it is about and
// "Y<type>|<about state>|<country>".
//
// A search visits the row of each match once and, in that one pass,
// counts the facets and keeps the top hits (collect.go). bleve's own
// facet requests and sorting visit one column per facet and per sort
// key and allocate a string per value: the first version of this
// package used them (with compressed doc values) and took 370 ms for a
// search over all of 100,000 generated practices, which takes about
// 35 ms this way (BenchmarkSearch/facets).

// facetNames are the facets of every search of practices.
var facetNames = []string{
	"country", "dimension", "target_group", "funding_source", "achievement",
	"evaluation", "publisher", "language", "start_year", "funding_range", "has_translation", "city", "place",
	"adapted", "has_lessons", "endorsed_by", "adapted_in",
}

// expFacetNames are the facets of every search of experience records.
var expFacetNames = []string{"type", "about_state", "country", "language", "publisher"}

// rowGroups maps the code of each facet term of a row to the facets of
// its parts.
var rowGroups = map[byte][]string{
	'C': {"country", "start_year"},
	'D': {"dimension", "funding_source"},
	'G': {"achievement", "evaluation", "has_translation", "funding_range"},
	'L': {"language"},
	'p': {"publisher"},
	't': {"target_group"},
	'c': {"city"},
	'P': {"place"},
	'X': {"adapted", "has_lessons"},
	'A': {"adapted_in"},
	'e': {"endorsed_by"},
	'Y': {"type", "about_state", "country"},
}

// Codes of row terms read for sorting and Stats.
const (
	codeCountryYear   = 'C'
	codeDimSources    = 'D'
	codePublisher     = 'p'
	codeFunding       = 'F'
	codeBeneficiaries = 'B'
	codeID            = 'i'
	codeCity          = 'c'
	codePlace         = 'P'
	codeLanguages     = 'L'
	codeAdapted       = 'X'
	codeAdaptedIn     = 'A'
	codeTargetGroup   = 't'
	codeEndorser      = 'e'
	codeExpFacets     = 'Y'
	codeTime          = 'T'
	codeAbout         = 'a'
)

// adaptedBuckets are the values of the adapted facet: live adaptations,
// from inclusive, to inclusive (0: unbounded).
var adaptedBuckets = []struct {
	name     string
	from, to int64
}{{"0", 0, 0}, {"1", 1, 1}, {"2-4", 2, 4}, {"5+", 5, 0}}

// adaptedBucket returns the adapted facet value of a count.
func adaptedBucket(n int64) string {
	for _, b := range adaptedBuckets[1:] {
		if n >= b.from && (b.to == 0 || n <= b.to) {
			return b.name
		}
	}
	return adaptedBuckets[0].name
}

// isFacetTerm tells the codes of facet terms.
var isFacetTerm = func() (t [256]bool) {
	for c := range rowGroups {
		t[c] = true
	}
	return t
}()

// fundingRanges are the buckets of the funding_range facet, in euros:
// from inclusive, to exclusive; 0 is unbounded.
var fundingRanges = []struct {
	name     string
	from, to int64
}{
	{"<10k", 0, 1e4},
	{"10k-100k", 1e4, 1e5},
	{"100k-1M", 1e5, 1e6},
	{"1M-10M", 1e6, 1e7},
	{">=10M", 1e7, 0},
}

// fundingRange returns the funding_range bucket of an amount.
func fundingRange(eur int64) string {
	for _, r := range fundingRanges {
		if eur >= r.from && (r.to == 0 || eur < r.to) {
			return r.name
		}
	}
	return fundingRanges[0].name // negative amounts are invalid
}

// sheetFacets are the facet values of a sheet that its Hit does not hold.
type sheetFacets struct {
	targetGroups, sources   []string
	achievement, evaluation string
	city                    string   // the city facet value, "" without a city
	place                   string   // the place facet value, "" without a place
	endorsers               []string // the publishers of its live endorsements
	adaptedIn               []string // the country of each live adaptation, sorted
}

// joinValues joins the values of one part of a row term.
func joinValues(vs []string) string { return strings.Join(vs, ",") }

// rowTerms returns the terms of a practice's row. No value but the city
// and the place contains '|' or ',': codes, country codes, language tags, years, peer
// IDs and the range names never do.
func rowTerms(h *Hit, s sheetFacets) []string {
	term := func(code byte, parts ...string) string { return string(code) + strings.Join(parts, "|") }
	fr := ""
	if h.FundingEUR != nil {
		fr = fundingRange(*h.FundingEUR)
	}
	out := []string{
		term(codeCountryYear, h.Country, strconv.Itoa(h.StartYear)),
		term(codeDimSources, strings.Join(h.Dimensions, ","), strings.Join(s.sources, ",")),
		term('G', s.achievement, s.evaluation, strconv.FormatBool(len(h.Languages) > 1), fr),
		term('L', strings.Join(h.Languages, ",")),
		term(codePublisher, h.Publisher),
		term(codeID, h.ID),
	}
	for _, v := range s.targetGroups {
		out = append(out, term('t', v))
	}
	if s.city != "" {
		out = append(out, string(codeCity)+s.city)
	}
	if s.place != "" {
		out = append(out, string(codePlace)+s.place)
	}
	if h.FundingEUR != nil {
		out = append(out, term(codeFunding, strconv.FormatInt(*h.FundingEUR, 10)))
	}
	if h.Beneficiaries != nil {
		out = append(out, term(codeBeneficiaries, strconv.FormatInt(*h.Beneficiaries, 10)))
	}
	if c := h.ExperienceCounts; c.Adaptations > 0 || c.Lessons > 0 {
		out = append(out, term(codeAdapted, strconv.Itoa(c.Adaptations), strconv.FormatBool(c.Lessons > 0)))
	}
	for i := 0; i < len(s.adaptedIn); { // sorted
		j := i + 1
		for j < len(s.adaptedIn) && s.adaptedIn[j] == s.adaptedIn[i] {
			j++
		}
		out = append(out, term(codeAdaptedIn, s.adaptedIn[i], strconv.Itoa(j-i)))
		i = j
	}
	for _, p := range s.endorsers {
		out = append(out, term(codeEndorser, p))
	}
	return out
}

// expandFacetTerm calls add for each facet value of a facet term.
func expandFacetTerm(term string, add func(facet, value string)) {
	switch term[0] {
	case codeCity:
		add("city", term[1:])
		return
	case codePlace:
		add("place", term[1:])
		return
	case codePublisher, codeEndorser, codeTargetGroup: // one value each
		add(rowGroups[term[0]][0], term[1:])
		return
	case codeAdapted:
		n, lessons := splitAdapted(term)
		add("adapted", adaptedBucket(n))
		add("has_lessons", lessons)
		return
	case codeAdaptedIn:
		country, _ := splitAdaptedIn(term)
		add("adapted_in", country)
		return
	}
	facets := rowGroups[term[0]]
	for i, part := range strings.SplitN(term[1:], "|", len(facets)) {
		for v := range strings.SplitSeq(part, ",") {
			if v != "" {
				add(facets[i], v)
			}
		}
	}
}

// splitAdapted reads an 'X' term: the number of adaptations, and "true"
// or "false" for lessons.
func splitAdapted(term string) (n int64, lessons string) {
	count, lessons, _ := strings.Cut(term[1:], "|")
	return digits(count), lessons
}

// splitAdaptedIn reads an 'A' term: a country, and the number of
// adaptations there.
func splitAdaptedIn(term string) (country string, n int64) {
	country, count, _ := strings.Cut(term[1:], "|")
	return country, digits(count)
}

// digits reads a number the row wrote: decimal digits only.
func digits(s string) (n int64) {
	for _, c := range []byte(s) {
		n = n*10 + int64(c-'0')
	}
	return n
}

// rowValues are the sort keys of one row.
type rowValues struct {
	year                   int64
	funding, beneficiaries int64
	hasFunding, hasBenef   bool
	adapted, endorsements  int64
	time                   int64
	pub, id                []byte // valid only while the row is visited
}

// read records term, one of a row's, if it holds a sort key.
func (v *rowValues) read(term []byte) {
	switch term[0] {
	case codeCountryYear: // years have four digits
		v.year, _ = parseDecimal(term[max(1, len(term)-4):])
	case codeFunding:
		v.funding, v.hasFunding = parseDecimal(term[1:])
	case codeBeneficiaries:
		v.beneficiaries, v.hasBenef = parseDecimal(term[1:])
	case codePublisher:
		v.pub = term[1:]
	case codeID:
		v.id = term[1:]
	case codeAdapted:
		end := 1
		for end < len(term) && term[end] != '|' {
			end++
		}
		v.adapted, _ = parseDecimal(term[1:end])
	case codeEndorser:
		v.endorsements++
	case codeTime:
		v.time, _ = parseDecimal(term[1:])
	}
}

func (v *rowValues) reset() { *v = rowValues{} }

// parseDecimal reads a non-negative decimal number; ok is false if b is
// not one.
func parseDecimal(b []byte) (n int64, ok bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
