package search

import (
	"time"
)

// Query selects practices, or experience records (Kind): free text
// combined (AND) with filters. Within one filter the values are
// alternatives (OR): Country {IT, FR} is "in Italy or in France". The
// zero Query matches every current practice.
type Query struct {
	// Text is free text, analysed per language (stemming, stop words).
	// Practices match it against title, summary, objective, issues,
	// target groups, assistance, activities, outcomes, transferability
	// and translations, and against the text of the live experience
	// records about them (Hit.MatchedExperiences says which match by
	// themselves); experience records against their title, text,
	// changes, outcomes, worked, did_not_work, for_whom and translations.
	Text string `json:"q,omitempty"`

	Country       []string `json:"country,omitempty"`        // ISO 3166-1 alpha-2
	Dimension     []string `json:"dimension,omitempty"`      // protocol.Dimensions
	TargetGroup   []string `json:"target_group,omitempty"`   // protocol.TargetGroups
	FundingSource []string `json:"funding_source,omitempty"` // protocol.FundingSources
	Achievement   []string `json:"achievement,omitempty"`    // protocol.Achievements
	Evaluation    []string `json:"evaluation,omitempty"`     // protocol.Evaluations
	Publisher     []string `json:"publisher,omitempty"`      // peer IDs
	Language      []string `json:"language,omitempty"`       // the sheet's language or any translation's
	// City filters by place, each value as the city facet gives it:
	// "<country>/<city>", the sheet's country and its city exactly (so
	// "IT/Palermo"). Its URL form is repeated, never comma-separated: a
	// city may contain commas.
	City []string `json:"city,omitempty"`
	// Place filters by where the map places a practice, each value as
	// the place facet gives it: "<country>@<lat>,<lon>" for a sheet with
	// a location, else "<country>/<city>" (see PlaceValue). Repeated,
	// never comma-separated.
	Place          []string `json:"place,omitempty"`
	HasTranslation *bool    `json:"has_translation,omitempty"` // has at least one translation

	// FundingMin and FundingMax bound funding.amount_eur, inclusive; a
	// practice without an amount never matches a funding bound.
	FundingMin *int64 `json:"funding_min,omitempty"`
	FundingMax *int64 `json:"funding_max,omitempty"`
	// YearFrom and YearTo bound the years a practice ran, inclusive: it
	// matches when [start_year, end_year] (end_year = now when ongoing or
	// not given) overlaps [YearFrom, YearTo]. Zero means unbounded.
	YearFrom int   `json:"year_from,omitempty"`
	YearTo   int   `json:"year_to,omitempty"`
	Ongoing  *bool `json:"ongoing,omitempty"`

	// Adapted and AdaptedMax bound a practice's live adaptations,
	// inclusive: Adapted 1 is "adapted at least once", AdaptedMax 0
	// "never adapted". Adapted 0 and AdaptedMax nil are unbounded.
	Adapted    int  `json:"adapted,omitempty"`
	AdaptedMax *int `json:"adapted_max,omitempty"`
	// HasLessons: the practice has (or, false, has no) live lesson.
	HasLessons *bool `json:"has_lessons,omitempty"`
	// EndorsedBy: a live endorsement of the practice by one of these
	// publishers.
	EndorsedBy []string `json:"endorsed_by,omitempty"`

	// Kind is what to find: KindPractice ("" is the same) or
	// KindExperience. Each kind has its filters (see Validate).
	Kind string `json:"kind,omitempty"`
	// Type, About and AboutState filter experience records (Kind
	// KindExperience) only: by type (protocol.ExperienceTypes), by the
	// practice they are about ("<publisher>/<practice ID>"), and by
	// whether this node holds it (AboutHeld, AboutRetracted,
	// AboutNotHeld). With that kind, Publisher is the record's author,
	// Language its language or a translation's, and Country an
	// adaptation's country; the other filters are the practices'.
	Type       []string `json:"type,omitempty"`
	About      []string `json:"about,omitempty"`
	AboutState []string `json:"about_state,omitempty"`

	// Sort is "relevance" (default; year for an empty Text), "year",
	// "-year", "funding", "-funding", "beneficiaries", "-beneficiaries",
	// "adapted", "-adapted", "endorsements", "-endorsements"; a leading
	// '-' means descending. Ties break by publisher, then ID. Experience
	// records sort by "relevance" (default with Text) or "time", "-time"
	// (default without), ties by publisher, then slot.
	Sort string `json:"sort,omitempty"`
	// Offset and Limit page the hits; Limit 0 means 20, at most 1000.
	Offset int `json:"offset,omitempty"`
	Limit  int `json:"limit,omitempty"`
}

// Hit is one practice found.
type Hit struct {
	Publisher string  `json:"publisher"`
	ID        string  `json:"id"`
	Seq       uint64  `json:"seq"`
	Score     float64 `json:"score"`
	Title     string  `json:"title"`
	Language  string  `json:"language"`
	Organiser string  `json:"organiser"`
	Country   string  `json:"country"`
	StartYear int     `json:"start_year"`
	EndYear   int     `json:"end_year,omitempty"`
	Ongoing   bool    `json:"ongoing,omitempty"`
	// Dimensions are protocol.Dimensions codes.
	Dimensions []string `json:"dimensions"`
	// FundingEUR is funding.amount_eur, when given.
	FundingEUR    *int64 `json:"funding_eur,omitempty"`
	Beneficiaries *int64 `json:"beneficiaries,omitempty"`
	// Languages are the sheet's language then its translations'.
	Languages []string `json:"languages"`
	// Location is the sheet's location, when it gives one.
	Location *Point `json:"location,omitempty"`
	// ExperienceCounts counts the live experience records about the
	// practice, by type.
	ExperienceCounts ExperienceCounts `json:"experience_counts"`
	// MatchedExperiences are, for a text query, the experience records
	// about the practice whose own text matches it (at most
	// maxMatchedExperiences, by author then slot; empty when the
	// practice matches by its own text alone).
	MatchedExperiences []ExperienceRef `json:"matched_experiences,omitempty"`
}

// Point is a place in decimal degrees (WGS 84).
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// FacetValue is one value of a facet and how many hits have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Result is one page of hits, with the facets of the whole result set.
type Result struct {
	// Total is the number of practices (or experience records) matching,
	// over all pages.
	Total int   `json:"total"`
	Hits  []Hit `json:"hits"`
	// Experiences is the page of experience records of a Query of Kind
	// KindExperience (Hits is then empty).
	Experiences []ExperienceHit `json:"experiences,omitempty"`
	// Facets counts the matching practices per value, for each of
	// country, dimension, target_group, funding_source, achievement,
	// evaluation, publisher, language, start_year, funding_range,
	// has_translation, city ("<country>/<city>", for sheets that
	// give a city), place (PlaceValue: where the map places a
	// practice), adapted (live adaptations: 0, 1, 2-4, 5+), has_lessons,
	// endorsed_by (the endorsing publishers) and adapted_in (the
	// countries of their adaptations); values ordered by count, then
	// value. For experience records: type, about_state, country (of
	// adaptations), language and publisher (the authors).
	Facets map[string][]FacetValue `json:"facets"`
	// Took is how long the search took.
	Took time.Duration `json:"took_ns"`
}

// Group is one row of statistics: the practices of one value of the
// grouping key.
type Group struct {
	Key string `json:"key"`
	// Practices counts the practices in the group.
	Practices int `json:"practices"`
	// FundingEUR sums funding.amount_eur over the group's practices that
	// give one; Funded counts them.
	FundingEUR int64 `json:"funding_eur"`
	Funded     int   `json:"funded"`
	// Beneficiaries sums the beneficiaries given.
	Beneficiaries int64 `json:"beneficiaries"`
}

// Stats are counts and sums by one key over a query's practices. A
// practice with several values of the key (two dimensions, three funding
// sources) counts in each of their groups; Total counts it once.
type Stats struct {
	By     string  `json:"by"` // country, dimension, year, source, adaptation
	Total  Group   `json:"total"`
	Groups []Group `json:"groups"`
	// Flows, by adaptation only, counts the live adaptations of the
	// practices from their country to the adaptation's, by adaptations
	// (descending), then from, then to.
	Flows []Flow `json:"flows,omitempty"`
}
