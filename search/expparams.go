package search

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/khantara/khantara/protocol"
)

// The parameters that experience records bring to a Query: the kind,
// the practices' adapted, adapted_max, has_lessons and endorsed_by, and
// the experience records' type, about and about_state.

// practiceOnly are the URL names of the parameters that filter practices
// only, refused with kind=experience.
var practiceOnly = []string{
	"dimension", "target_group", "funding_source", "achievement", "evaluation", "city", "place",
	"has_translation", "ongoing", "funding_min", "funding_max", "year_from", "year_to",
	"adapted", "adapted_max", "has_lessons", "endorsed_by",
}

// experienceOnly are the URL names of the parameters that filter
// experience records only, refused without kind=experience.
var experienceOnly = []string{"type", "about", "about_state"}

// expSorts are the values of Query.Sort for experience records.
var expSorts = []string{"relevance", "time", "-time"}

// aboutPattern is the form of an about value: a publisher ID, '/', a
// practice ID.
var aboutPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,128}/[a-z0-9][a-z0-9-]{2,63}$`)

// parseExpParams reads the parameters of this file into q.
func parseExpParams(v url.Values, q *Query) error {
	var err error
	if q.Kind, err = paramOne(v, "kind"); err != nil {
		return err
	}
	if q.Adapted, err = paramInt(v, "adapted", "is not a whole number"); err != nil {
		return err
	}
	if s, err := paramOne(v, "adapted_max"); err != nil {
		return err
	} else if strings.TrimSpace(s) != "" {
		n, err := paramInt(v, "adapted_max", "is not a whole number")
		if err != nil {
			return err
		}
		q.AdaptedMax = &n
	}
	if q.HasLessons, err = paramBool(v, "has_lessons"); err != nil {
		return err
	}
	q.EndorsedBy, q.Type, q.About, q.AboutState = v["endorsed_by"], v["type"], v["about"], v["about_state"]
	return nil
}

// addExpValues adds the parameters of this file to v (see Query.Values).
func (q Query) addExpValues(v url.Values) {
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("kind", q.Kind)
	if q.Adapted != 0 {
		v.Set("adapted", strconv.Itoa(q.Adapted))
	}
	if q.AdaptedMax != nil {
		v.Set("adapted_max", strconv.Itoa(*q.AdaptedMax))
	}
	if q.HasLessons != nil {
		v.Set("has_lessons", map[bool]string{true: "1", false: "0"}[*q.HasLessons])
	}
	set("endorsed_by", strings.Join(q.EndorsedBy, ","))
	set("type", strings.Join(q.Type, ","))
	set("about", strings.Join(q.About, ","))
	set("about_state", strings.Join(q.AboutState, ","))
}

// normalizeExp normalises the parameters of this file (see
// Query.Normalized).
func (q Query) normalizeExp() Query {
	q.Kind = strings.ToLower(strings.TrimSpace(q.Kind))
	q.EndorsedBy = normalizeValues(q.EndorsedBy, nil)
	q.Type = normalizeValues(q.Type, strings.ToLower)
	q.About = normalizeValues(q.About, nil)
	q.AboutState = normalizeValues(q.AboutState, strings.ToLower)
	return q
}

// expLists are the list parameters of this file, with their checks.
func (q *Query) expLists() []listParam {
	return []listParam{
		{"endorsed_by", q.EndorsedBy, checkQueryPeer},
		{"type", q.Type, vocabCheck(protocol.ExperienceTypes)},
		{"about", q.About, checkQueryAbout},
		{"about_state", q.AboutState, vocabCheck(aboutStates)},
	}
}

// validateExp checks the parameters of this file, and that each filter
// suits the kind of q; it returns the first problem as a *ParamError.
func (q *Query) validateExp() error {
	switch q.Kind {
	case "", KindPractice:
		for _, p := range experienceOnly {
			if q.given(p) {
				return badParam(p, "filters experience records; add kind=%s", KindExperience)
			}
		}
		if q.Sort != "" && !slices.Contains(querySorts, q.Sort) {
			return badParam("sort", "%q is not one of %s", clip(q.Sort), strings.Join(querySorts, ", "))
		}
	case KindExperience:
		for _, p := range practiceOnly {
			if q.given(p) {
				return badParam(p, "filters practices; not with kind=%s", KindExperience)
			}
		}
		if q.Sort != "" && !slices.Contains(expSorts, q.Sort) {
			return badParam("sort", "%q is not one of %s (with kind=%s)", clip(q.Sort), strings.Join(expSorts, ", "), KindExperience)
		}
	default:
		return badParam("kind", "%q is not one of %s, %s", clip(q.Kind), KindPractice, KindExperience)
	}
	switch {
	case q.Adapted < 0:
		return badParam("adapted", "must be 0 or more, got %d", q.Adapted)
	case q.AdaptedMax != nil && *q.AdaptedMax < 0:
		return badParam("adapted_max", "must be 0 or more, got %d", *q.AdaptedMax)
	case q.AdaptedMax != nil && q.Adapted > *q.AdaptedMax:
		return badParam("adapted", "%d is more than adapted_max %d", q.Adapted, *q.AdaptedMax)
	}
	return nil
}

// given reports whether q sets the parameter with URL name p (one of
// practiceOnly or experienceOnly).
func (q *Query) given(p string) bool {
	switch p {
	case "dimension":
		return len(q.Dimension) > 0
	case "target_group":
		return len(q.TargetGroup) > 0
	case "funding_source":
		return len(q.FundingSource) > 0
	case "achievement":
		return len(q.Achievement) > 0
	case "evaluation":
		return len(q.Evaluation) > 0
	case "city":
		return len(q.City) > 0
	case "place":
		return len(q.Place) > 0
	case "has_translation":
		return q.HasTranslation != nil
	case "ongoing":
		return q.Ongoing != nil
	case "funding_min":
		return q.FundingMin != nil
	case "funding_max":
		return q.FundingMax != nil
	case "year_from":
		return q.YearFrom != 0
	case "year_to":
		return q.YearTo != 0
	case "adapted":
		return q.Adapted != 0
	case "adapted_max":
		return q.AdaptedMax != nil
	case "has_lessons":
		return q.HasLessons != nil
	case "endorsed_by":
		return len(q.EndorsedBy) > 0
	case "type":
		return len(q.Type) > 0
	case "about":
		return len(q.About) > 0
	case "about_state":
		return len(q.AboutState) > 0
	}
	return false
}

// checkQueryAbout returns what is wrong with an about value, or "".
func checkQueryAbout(v string) string {
	if !aboutPattern.MatchString(v) {
		return fmt.Sprintf("%q is not <publisher>/<practice id> (a peer or organisation ID, '/', an ID of a-z, 0-9 and '-')", clip(v))
	}
	return ""
}
