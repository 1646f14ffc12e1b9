package search

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParamExperienceValues: the parameters experience records bring
// read back from their URL form.
func TestParamExperienceValues(t *testing.T) {
	pub := "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
	for _, q := range []Query{
		{Adapted: 2, AdaptedMax: ptr(4), HasLessons: ptr(false), EndorsedBy: []string{pub, "P2"}, Sort: "-adapted"},
		{AdaptedMax: ptr(0), Sort: "endorsements"},
		{Kind: KindExperience, Text: "café", Type: []string{"adaptation", "lesson"}, About: []string{pub + "/cric-roubaix"},
			AboutState: []string{AboutNotHeld}, Publisher: []string{pub}, Country: []string{"FR"}, Sort: "-time"},
		{Kind: KindPractice},
	} {
		back, err := ParseQuery(q.Values())
		if err != nil || !reflect.DeepEqual(back, q) {
			t.Errorf("round trip of %+v (%s): %+v, %v", q, q.Values().Encode(), back, err)
		}
	}
	q, err := ParseQuery(mustValues(t, "kind=Experience&type=Adaptation,+lesson&about_state=NOT_HELD&adapted_max="))
	if err != nil || q.Kind != KindExperience || !reflect.DeepEqual(q.Type, []string{"adaptation", "lesson"}) ||
		!reflect.DeepEqual(q.AboutState, []string{AboutNotHeld}) || q.AdaptedMax != nil {
		t.Errorf("normalised: %+v, %v", q, err)
	}
}

// TestParamExperienceErrors: bad values of those parameters, and filters
// of the other kind, are one-line errors naming the parameter.
func TestParamExperienceErrors(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"kind=experiences", `kind: "experiences" is not one of practice, experience`},
		{"kind=practice&kind=experience", "kind: given 2 times; give it once"},
		{"adapted=-1", "adapted: must be 0 or more, got -1"},
		{"adapted=many", `adapted: "many" is not a whole number`},
		{"adapted_max=-2", "adapted_max: must be 0 or more, got -2"},
		{"adapted_max=1.5", `adapted_max: "1.5" is not a whole number`},
		{"adapted=3&adapted_max=1", "adapted: 3 is more than adapted_max 1"},
		{"has_lessons=maybe", `has_lessons: "maybe" must be 1 or 0 (or true or false)`},
		{"endorsed_by=not+a+peer", `endorsed_by: "not a peer" is not a peer ID`},
		{"type=adaptation", "type: filters experience records; add kind=experience"},
		{"kind=experience&type=review", `type: "review" is not one of adaptation, lesson, question, answer, endorsement`},
		{"kind=experience&about=cric-roubaix", `about: "cric-roubaix" is not <publisher>/<practice id>`},
		{"kind=experience&about=P1/Cric", `about: "P1/Cric" is not <publisher>/<practice id>`},
		{"about=P1/cric-roubaix", "about: filters experience records; add kind=experience"},
		{"kind=experience&about_state=gone", `about_state: "gone" is not one of held, retracted, not_held`},
		{"about_state=held", "about_state: filters experience records; add kind=experience"},
		{"kind=experience&dimension=cultural", "dimension: filters practices; not with kind=experience"},
		{"kind=experience&adapted=1", "adapted: filters practices; not with kind=experience"},
		{"kind=experience&has_lessons=1", "has_lessons: filters practices; not with kind=experience"},
		{"kind=experience&year_from=2000", "year_from: filters practices; not with kind=experience"},
		{"kind=experience&sort=year", `sort: "year" is not one of relevance, time, -time (with kind=experience)`},
		{"sort=time", `sort: "time" is not one of relevance, year, -year, funding, -funding, beneficiaries, -beneficiaries, adapted, -adapted, endorsements, -endorsements`},
	}
	for _, tc := range tests {
		t.Run(tc.raw[:min(len(tc.raw), 40)], func(t *testing.T) {
			q, err := ParseQuery(mustValues(t, tc.raw))
			if err == nil {
				t.Fatalf("ParseQuery(%q) = %+v, want an error", tc.raw, q)
			}
			if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q\nwant one line starting %q", err, tc.want)
			}
			var pe *ParamError
			if !errors.Is(err, ErrBadQuery) || !errors.As(err, &pe) || !strings.HasPrefix(tc.want, pe.Param+": ") {
				t.Fatalf("error %#v does not wrap ErrBadQuery as a *ParamError naming the parameter", err)
			}
		})
	}
}
