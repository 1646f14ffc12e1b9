package search

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/khantara/khantara/protocol"
	"golang.org/x/text/language"
)

// The URL form of a Query, shared by the API (GET /api/v1/search, stats,
// export) and the CLI, and the checks every Query passes before a search.

// ErrBadQuery is wrapped by every error of ParseQuery and Query.Validate:
// the query, not the index, is at fault (the API answers 400).
var ErrBadQuery = errors.New("bad query")

// ParamError is a bad query parameter. Its text is one line naming the
// parameter by its URL name: `year_from: "20x" is not a year`. It wraps
// ErrBadQuery.
type ParamError struct {
	// Param is the parameter's URL name: q, country, year_from...
	Param string
	// Msg says what is wrong with it.
	Msg string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// Unwrap returns ErrBadQuery.
func (e *ParamError) Unwrap() error { return ErrBadQuery }

func badParam(param, format string, args ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Limits of a Query, checked by Validate.
const (
	// queryMaxText bounds Text, in characters.
	queryMaxText = 1000
	// queryMaxValues bounds the values of one filter.
	queryMaxValues = 100
	// queryMaxLimit bounds Limit; Limit 0 means 20.
	queryMaxLimit = 1000
	// queryMaxOffset bounds Offset, far above any catalogue (an export
	// pages through the whole result), so Offset+Limit cannot overflow.
	queryMaxOffset = 1 << 30
	// queryMinYear and queryMaxYear bound YearFrom and YearTo.
	queryMinYear, queryMaxYear = 1900, 2100
	// queryMaxPeerID bounds a publisher value, in bytes.
	queryMaxPeerID = 128
)

// queryParams are the URL names of a Query's fields, in the order of
// the fields.
var queryParams = []string{
	"q", "country", "dimension", "target_group", "funding_source", "achievement",
	"evaluation", "publisher", "language", "city", "place", "has_translation", "ongoing",
	"funding_min", "funding_max", "year_from", "year_to",
	"adapted", "adapted_max", "has_lessons", "endorsed_by", "kind", "type", "about", "about_state",
	"sort", "offset", "limit",
}

// querySorts are the values of Query.Sort for practices ("" means
// relevance); expSorts those for experience records.
var querySorts = []string{"relevance", "year", "-year", "funding", "-funding", "beneficiaries", "-beneficiaries",
	"adapted", "-adapted", "endorsements", "-endorsements"}

// ParseQuery reads a Query from its URL form (see Values): kind, q, the
// filters country, dimension, target_group, funding_source, achievement,
// evaluation, publisher, language, endorsed_by, type, about, about_state
// (each repeatable and comma-separated: country=IT,FR is
// country=IT&country=FR), city and place (repeatable only), the flags
// has_translation, ongoing and has_lessons (1, 0, true or false),
// funding_min and funding_max (whole euros), year_from, year_to, adapted
// and adapted_max (whole numbers), sort, offset and limit.
// An empty value is the same as none. Country codes may be given in
// lower case, vocabulary codes in any case, language tags in any
// BCP 47 spelling: the Query holds them normalised (see Normalized).
//
// Parameters not in that list are refused unless named in extra (the
// API's own, such as "by" or "format"), which ParseQuery leaves to the
// caller, even where the name is one of its own (export's "kind" is not
// search's). Every error is a *ParamError wrapping ErrBadQuery; the Query
// returned is valid (see Validate).
func ParseQuery(v url.Values, extra ...string) (Query, error) {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if !slices.Contains(queryParams, k) && !slices.Contains(extra, k) {
			return Query{}, unknownParam(k, extra)
		}
	}
	if len(extra) > 0 {
		v = maps.Clone(v)
		for _, k := range extra {
			delete(v, k)
		}
	}
	var q Query
	var err error
	if err := parseExpParams(v, &q); err != nil {
		return Query{}, err
	}
	if q.Text, err = paramOne(v, "q"); err != nil {
		return Query{}, err
	}
	q.Country = v["country"]
	q.Dimension = v["dimension"]
	q.TargetGroup = v["target_group"]
	q.FundingSource = v["funding_source"]
	q.Achievement = v["achievement"]
	q.Evaluation = v["evaluation"]
	q.Publisher = v["publisher"]
	q.Language, q.City, q.Place = v["language"], v["city"], v["place"]
	if q.HasTranslation, err = paramBool(v, "has_translation"); err != nil {
		return Query{}, err
	}
	if q.Ongoing, err = paramBool(v, "ongoing"); err != nil {
		return Query{}, err
	}
	if q.FundingMin, err = paramEuros(v, "funding_min"); err != nil {
		return Query{}, err
	}
	if q.FundingMax, err = paramEuros(v, "funding_max"); err != nil {
		return Query{}, err
	}
	if q.YearFrom, err = paramInt(v, "year_from", "is not a year"); err != nil {
		return Query{}, err
	}
	if q.YearTo, err = paramInt(v, "year_to", "is not a year"); err != nil {
		return Query{}, err
	}
	if q.Sort, err = paramOne(v, "sort"); err != nil {
		return Query{}, err
	}
	if q.Offset, err = paramInt(v, "offset", "is not a whole number"); err != nil {
		return Query{}, err
	}
	if q.Limit, err = paramInt(v, "limit", "is not a whole number"); err != nil {
		return Query{}, err
	}
	q = q.Normalized()
	if err := q.Validate(); err != nil {
		return Query{}, err
	}
	return q, nil
}

// Values returns the URL form of q, which ParseQuery reads back: each
// filter as one comma-separated value, flags as 1 or 0; empty fields are
// left out. ParseQuery(q.Values()) equals q for a valid, normalised q.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", q.Text)
	set("country", strings.Join(q.Country, ","))
	set("dimension", strings.Join(q.Dimension, ","))
	set("target_group", strings.Join(q.TargetGroup, ","))
	set("funding_source", strings.Join(q.FundingSource, ","))
	set("achievement", strings.Join(q.Achievement, ","))
	set("evaluation", strings.Join(q.Evaluation, ","))
	set("publisher", strings.Join(q.Publisher, ","))
	set("language", strings.Join(q.Language, ","))
	addCities(v, q.City)
	addPlaces(v, q.Place)
	for k, b := range map[string]*bool{"has_translation": q.HasTranslation, "ongoing": q.Ongoing} {
		switch {
		case b == nil:
		case *b:
			v.Set(k, "1")
		default:
			v.Set(k, "0")
		}
	}
	for k, n := range map[string]*int64{"funding_min": q.FundingMin, "funding_max": q.FundingMax} {
		if n != nil {
			v.Set(k, strconv.FormatInt(*n, 10))
		}
	}
	for k, n := range map[string]int{"year_from": q.YearFrom, "year_to": q.YearTo, "offset": q.Offset, "limit": q.Limit} {
		if n != 0 {
			v.Set(k, strconv.Itoa(n))
		}
	}
	set("sort", q.Sort)
	q.addExpValues(v)
	return v
}

// Normalized returns q with each filter value split at commas, trimmed
// and empty values dropped (a filter left empty becomes nil), two-letter
// country codes upper-cased, vocabulary codes lower-cased, language tags in
// canonical BCP 47 form, and Text and Sort trimmed. It does not validate.
// The slices of the result are new: q's are not changed.
func (q Query) Normalized() Query {
	q.Text = strings.TrimSpace(q.Text)
	q.Country = normalizeValues(q.Country, func(s string) string {
		if utf8.RuneCountInString(s) == 2 {
			return strings.ToUpper(s)
		}
		return s // left as typed, for the error message
	})
	q.Dimension = normalizeValues(q.Dimension, strings.ToLower)
	q.TargetGroup = normalizeValues(q.TargetGroup, strings.ToLower)
	q.FundingSource = normalizeValues(q.FundingSource, strings.ToLower)
	q.Achievement = normalizeValues(q.Achievement, strings.ToLower)
	q.Evaluation = normalizeValues(q.Evaluation, strings.ToLower)
	q.Publisher = normalizeValues(q.Publisher, nil)
	q.Language = normalizeValues(q.Language, func(s string) string {
		if t, err := language.Parse(s); err == nil {
			return t.String()
		}
		return s
	})
	q.City = normalizeCities(q.City)
	q.Place = normalizeCities(q.Place)
	q.Sort = strings.TrimSpace(q.Sort)
	return q.normalizeExp()
}

func normalizeValues(in []string, norm func(string) string) []string {
	var out []string
	for _, v := range in {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			if norm != nil {
				s = norm(s)
			}
			out = append(out, s)
		}
	}
	return out
}

// Validate checks q and returns the first problem as a *ParamError
// wrapping ErrBadQuery, naming the parameter by its URL name (offset for
// Offset, year_from for YearFrom...). It checks: Text at most 1000
// characters; at most 100 values per filter; country codes ISO 3166-1
// alpha-2 in upper case, also in cities (<country>/<city>); dimension,
// target_group, funding_source, achievement and evaluation codes from
// the protocol's vocabularies; publishers that look like peer IDs;
// language tags in canonical BCP 47 form; funding bounds >= 0 with min
// <= max; years from 1900 to 2100 with from <= to (0 is unbounded); a
// known Sort; Offset from 0 to 2^30; Limit from 0 to 1000; a known Kind,
// with only its own filters and sorts; adapted and adapted_max >= 0 with
// adapted <= adapted_max; endorsing publishers that look like peer IDs;
// experience types of protocol.ExperienceTypes; about values of the form
// <publisher>/<practice id>; about states held, retracted, not_held.
// Values as given by users may need Normalized first.
func (q Query) Validate() error {
	if n := utf8.RuneCountInString(q.Text); n > queryMaxText {
		return badParam("q", "%d characters; at most %d", n, queryMaxText)
	}
	if !utf8.ValidString(q.Text) {
		return badParam("q", "is not valid UTF-8")
	}
	lists := []listParam{
		{"country", q.Country, checkQueryCountry},
		{"dimension", q.Dimension, vocabCheck(protocol.Dimensions)},
		{"target_group", q.TargetGroup, vocabCheck(protocol.TargetGroups)},
		{"funding_source", q.FundingSource, vocabCheck(protocol.FundingSources)},
		{"achievement", q.Achievement, vocabCheck(protocol.Achievements)},
		{"evaluation", q.Evaluation, vocabCheck(protocol.Evaluations)},
		{"publisher", q.Publisher, checkQueryPeer},
		{"language", q.Language, checkQueryLanguage},
		{"city", q.City, checkQueryCity},
		{"place", q.Place, checkQueryPlace},
	}
	for _, l := range append(lists, q.expLists()...) {
		if len(l.values) > queryMaxValues {
			return badParam(l.param, "%d values; at most %d", len(l.values), queryMaxValues)
		}
		for _, v := range l.values {
			if v == "" {
				return badParam(l.param, "an empty value")
			}
			if msg := l.check(v); msg != "" {
				return badParam(l.param, "%s", msg)
			}
		}
	}
	for _, f := range []struct {
		param string
		n     *int64
	}{{"funding_min", q.FundingMin}, {"funding_max", q.FundingMax}} {
		if f.n != nil && *f.n < 0 {
			return badParam(f.param, "must be 0 or more, got %d", *f.n)
		}
	}
	if q.FundingMin != nil && q.FundingMax != nil && *q.FundingMin > *q.FundingMax {
		return badParam("funding_min", "%d is more than funding_max %d", *q.FundingMin, *q.FundingMax)
	}
	for _, y := range []struct {
		param string
		year  int
	}{{"year_from", q.YearFrom}, {"year_to", q.YearTo}} {
		if y.year != 0 && (y.year < queryMinYear || y.year > queryMaxYear) {
			return badParam(y.param, "%d is not a year from %d to %d", y.year, queryMinYear, queryMaxYear)
		}
	}
	if q.YearFrom != 0 && q.YearTo != 0 && q.YearFrom > q.YearTo {
		return badParam("year_from", "%d is after year_to %d", q.YearFrom, q.YearTo)
	}
	if err := q.validateExp(); err != nil {
		return err
	}
	switch {
	case q.Offset < 0:
		return badParam("offset", "must be 0 or more, got %d", q.Offset)
	case q.Offset > queryMaxOffset:
		return badParam("offset", "%d is over the maximum of %d", q.Offset, queryMaxOffset)
	case q.Limit < 0:
		return badParam("limit", "must be 0 or more, got %d", q.Limit)
	case q.Limit > queryMaxLimit:
		return badParam("limit", "%d is over the maximum of %d", q.Limit, queryMaxLimit)
	}
	return nil
}

// listParam is a list parameter of a Query, with the check of each value.
type listParam struct {
	param  string
	values []string
	check  func(string) string
}

// checkQueryCountry returns what is wrong with a country code, or "".
func checkQueryCountry(c string) string {
	if iso, ok := protocol.CountryHint(c); ok {
		return fmt.Sprintf("%q is not ISO 3166-1; write %q", c, iso)
	}
	isUpper := len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
	if isUpper {
		if r, err := language.ParseRegion(c); err == nil && r.IsCountry() && r.String() == c {
			return ""
		}
	} else if up := strings.ToUpper(c); up != c && checkQueryCountry(up) == "" {
		return fmt.Sprintf("%q: write country codes in upper case, %q", c, up)
	}
	return fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code (examples: IT, FR, DE)", clip(c))
}

// vocabCheck returns a check that a code is one of vocab.
func vocabCheck(vocab []string) func(string) string {
	return func(v string) string {
		if slices.Contains(vocab, v) {
			return ""
		}
		return fmt.Sprintf("%q is not one of %s", clip(v), strings.Join(vocab, ", "))
	}
}

// checkQueryPeer returns what is wrong with a publisher value, or "".
// It checks the form only: letters and digits, as in base58 and base32
// peer IDs.
func checkQueryPeer(p string) string {
	ok := len(p) <= queryMaxPeerID && strings.IndexFunc(p, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
	if ok {
		return ""
	}
	return fmt.Sprintf("%q is not a peer ID; give one as printed by khantara status or peers", clip(p))
}

// checkQueryLanguage returns what is wrong with a language tag, or "".
func checkQueryLanguage(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return fmt.Sprintf("%q is not a BCP 47 language tag (examples: en, it, pt-BR)", clip(tag))
	}
	if c := t.String(); c != tag {
		return fmt.Sprintf("%q is not in canonical form; write %q", tag, c)
	}
	return ""
}

// clip shortens a bad value for an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:39]) + "…"
}

// unknownParam refuses parameter k, suggesting the nearest known one.
func unknownParam(k string, extra []string) error {
	known := append(slices.Clone(queryParams), extra...)
	hint := ""
	if best := protocol.Closest(strings.ToLower(k), known); best != "" {
		hint = fmt.Sprintf("did you mean %q? ", best)
	}
	name := clip(k)
	if strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' }) {
		name = strconv.Quote(name) // keep the message on one line
	}
	return badParam(name, "unknown parameter; %sthis route takes %s", hint, strings.Join(known, ", "))
}
