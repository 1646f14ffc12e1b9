package search

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func mustValues(t testing.TB, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParamParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Query
	}{
		{"empty", "", Query{}},
		{"text", "q=language+course", Query{Text: "language course"}},
		{"text trimmed", "q=++housing++", Query{Text: "housing"}},
		{"country comma", "country=IT,FR", Query{Country: []string{"IT", "FR"}}},
		{"country repeated", "country=IT&country=FR", Query{Country: []string{"IT", "FR"}}},
		{"country mixed, lower case, blanks", "country=it,+fr,&country=&country=De", Query{Country: []string{"IT", "FR", "DE"}}},
		{"dimension", "dimension=cultural,Socio_Economic", Query{Dimension: []string{"cultural", "socio_economic"}}},
		{"target group", "target_group=refugees&target_group=women", Query{TargetGroup: []string{"refugees", "women"}}},
		{"funding source", "funding_source=eu,local", Query{FundingSource: []string{"eu", "local"}}},
		{"achievement", "achievement=fully", Query{Achievement: []string{"fully"}}},
		{"evaluation", "evaluation=external,planned", Query{Evaluation: []string{"external", "planned"}}},
		{"publisher", "publisher=12D3KooWAbc,bafzbeiabc", Query{Publisher: []string{"12D3KooWAbc", "bafzbeiabc"}}},
		{"language canonicalised", "language=it,pt-br,EN", Query{Language: []string{"it", "pt-BR", "en"}}},
		{"has translation 1", "has_translation=1", Query{HasTranslation: ptr(true)}},
		{"has translation false", "has_translation=false", Query{HasTranslation: ptr(false)}},
		{"has translation empty", "has_translation=", Query{}},
		{"ongoing true", "ongoing=TRUE", Query{Ongoing: ptr(true)}},
		{"ongoing 0", "ongoing=0", Query{Ongoing: ptr(false)}},
		{"funding", "funding_min=0&funding_max=250000", Query{FundingMin: ptr[int64](0), FundingMax: ptr[int64](250000)}},
		{"funding equal", "funding_min=5&funding_max=5", Query{FundingMin: ptr[int64](5), FundingMax: ptr[int64](5)}},
		{"years", "year_from=2005&year_to=2012", Query{YearFrom: 2005, YearTo: 2012}},
		{"one year", "year_from=2010&year_to=2010", Query{YearFrom: 2010, YearTo: 2010}},
		{"sort", "sort=-funding", Query{Sort: "-funding"}},
		{"paging", "offset=40&limit=20", Query{Offset: 40, Limit: 20}},
		{"city repeated, not split at commas", "city=it/+Palermo,+Termini+Imerese+&city=DE/Hamburg",
			Query{City: []string{"IT/Palermo, Termini Imerese", "DE/Hamburg"}}},
		{"place repeated, not split at commas", "place=IT@45.4642,9.19&place=it/Milano&place=IT/Palermo,+Termini+Imerese",
			Query{Place: []string{"IT@45.4642,9.19", "IT/Milano", "IT/Palermo, Termini Imerese"}}},
		{"limit bounds", "offset=0&limit=1000", Query{Limit: 1000}},
		{"everything", "q=x&country=IT&dimension=cultural&target_group=migrants&funding_source=eu&achievement=partially" +
			"&evaluation=none&publisher=P1&language=it&has_translation=1&ongoing=0&funding_min=1&funding_max=2" +
			"&year_from=1900&year_to=2100&sort=year&offset=1&limit=2",
			Query{Text: "x", Country: []string{"IT"}, Dimension: []string{"cultural"}, TargetGroup: []string{"migrants"},
				FundingSource: []string{"eu"}, Achievement: []string{"partially"}, Evaluation: []string{"none"},
				Publisher: []string{"P1"}, Language: []string{"it"}, HasTranslation: ptr(true), Ongoing: ptr(false),
				FundingMin: ptr[int64](1), FundingMax: ptr[int64](2), YearFrom: 1900, YearTo: 2100, Sort: "year", Offset: 1, Limit: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQuery(mustValues(t, tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseQuery(%q)\n got %+v\nwant %+v", tc.raw, got, tc.want)
			}
			// Every parsed query survives the round trip.
			back, err := ParseQuery(got.Values())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("round trip through %q: %+v, %v", got.Values().Encode(), back, err)
			}
		})
	}
}

func TestParamExtra(t *testing.T) {
	v := mustValues(t, "by=country&format=csv&country=IT")
	q, err := ParseQuery(v, "by", "format")
	if err != nil || !reflect.DeepEqual(q, Query{Country: []string{"IT"}}) {
		t.Fatalf("got %+v, %v", q, err)
	}
	if _, err := ParseQuery(v, "by"); err == nil || !strings.HasPrefix(err.Error(), `format: unknown parameter;`) ||
		!strings.Contains(err.Error(), "takes q, country,") || !strings.HasSuffix(err.Error(), ", limit, by") {
		t.Fatalf("format not allowed: err = %v", err)
	}
}

func TestParamValues(t *testing.T) {
	q := Query{
		Text: "a, b", Country: []string{"IT", "FR"}, Dimension: []string{"cultural"}, TargetGroup: []string{"women", "youth"},
		FundingSource: []string{"eu"}, Achievement: []string{"fully"}, Evaluation: []string{"internal"},
		Publisher: []string{"P1", "P2"}, Language: []string{"pt-BR"}, HasTranslation: ptr(false), Ongoing: ptr(true),
		FundingMin: ptr[int64](0), FundingMax: ptr[int64](9_000_000_000), YearFrom: 2001, YearTo: 2002,
		Sort: "-beneficiaries", Offset: 20, Limit: 10,
	}
	want := "country=IT%2CFR&dimension=cultural&evaluation=internal&funding_max=9000000000&funding_min=0&funding_source=eu" +
		"&has_translation=0&language=pt-BR&limit=10&offset=20&ongoing=1&publisher=P1%2CP2&q=a%2C+b&sort=-beneficiaries" +
		"&target_group=women%2Cyouth&year_from=2001&year_to=2002&achievement=fully"
	got := q.Values()
	if wantV := mustValues(t, want); !reflect.DeepEqual(got, wantV) {
		t.Fatalf("Values() = %q\nwant        %q", got.Encode(), wantV.Encode())
	}
	back, err := ParseQuery(got)
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if v := (Query{}).Values(); len(v) != 0 {
		t.Fatalf("the zero Query has values %q", v.Encode())
	}
}

func TestParamErrors(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"contry=IT", `contry: unknown parameter; did you mean "country"? this route takes q, country, dimension,`},
		{"target-group=women", `target-group: unknown parameter; did you mean "target_group"?`},
		{"zzzzzz=1", `zzzzzz: unknown parameter; this route takes q,`},
		{"a%0Ab=1", `"a\nb": unknown parameter;`},
		{"q=a&q=b", "q: given 2 times; give it once"},
		{"q=" + strings.Repeat("x", 1001), "q: 1001 characters; at most 1000"},
		{"q=%ff", "q: is not valid UTF-8"},
		{"country=Italy", `country: "Italy" is not an ISO 3166-1 alpha-2 country code (examples: IT, FR, DE)`},
		{"country=IT,XX", `country: "XX" is not an ISO 3166-1 alpha-2 country code`},
		{"country=uk", `country: "UK" is not ISO 3166-1; write "GB"`},
		{"country=I%C3%9F", `country: "Iß" is not an ISO 3166-1`},
		{"country=" + strings.Repeat("IT,", 101), "country: 101 values; at most 100"},
		{"dimension=economic", `dimension: "economic" is not one of legal_political, socio_economic, cultural`},
		{"target_group=men", `target_group: "men" is not one of all_residents, migrants,`},
		{"funding_source=city", `funding_source: "city" is not one of local, regional, national, eu, private`},
		{"achievement=yes", `achievement: "yes" is not one of fully, partially, not_achieved, unknown`},
		{"evaluation=peer", `evaluation: "peer" is not one of internal, external, none, planned`},
		{"city=Palermo", `city: "Palermo" is not <country>/<city>, as the city facet gives it (example: IT/Palermo)`},
		{"city=UK/London", `city: "UK" is not ISO 3166-1; write "GB"`},
		{"place=IT@45.4642", `place: "IT@45.4642" is not <country>@<lat>,<lon>, as the place facet gives it (example: IT@45.4642,9.19)`},
		{"place=IT@45.4642,9.19e0", `place: "IT@45.4642,9.19e0" is not <country>@<lat>,<lon>`},
		{"place=UK@51.5,-0.12", `place: "UK" is not ISO 3166-1; write "GB"`},
		{"place=Milano", `place: "Milano" is not <country>/<city>, as the place facet gives it (example: IT/Palermo or IT@45.4642,9.19)`},
		{"publisher=12D3+KooW", `publisher: "12D3 KooW" is not a peer ID; give one as printed by khantara status or peers`},
		{"publisher=" + strings.Repeat("a", 129), `publisher: "` + strings.Repeat("a", 39) + `…" is not a peer ID`},
		{"language=english!", `language: "english!" is not a BCP 47 language tag (examples: en, it, pt-BR)`},
		{"has_translation=yes", `has_translation: "yes" must be 1 or 0 (or true or false)`},
		{"has_translation=1&has_translation=0", "has_translation: given 2 times; give it once"},
		{"ongoing=2", `ongoing: "2" must be 1 or 0 (or true or false)`},
		{"funding_min=1e5", `funding_min: "1e5" is not a whole number of euros`},
		{"funding_min=-5", "funding_min: must be 0 or more, got -5"},
		{"funding_max=10.50", `funding_max: "10.50" is not a whole number of euros`},
		{"funding_max=-1", "funding_max: must be 0 or more, got -1"},
		{"funding_max=99999999999999999999", "funding_max: 99999999999999999999 is out of range"},
		{"funding_min=10&funding_max=5", "funding_min: 10 is more than funding_max 5"},
		{"year_from=20x", `year_from: "20x" is not a year`},
		{"year_from=1850", "year_from: 1850 is not a year from 1900 to 2100"},
		{"year_to=2101", "year_to: 2101 is not a year from 1900 to 2100"},
		{"year_to=soon", `year_to: "soon" is not a year`},
		{"year_to=99999999999", "year_to: 99999999999 is out of range"},
		{"year_from=2012&year_to=2005", "year_from: 2012 is after year_to 2005"},
		{"sort=date", `sort: "date" is not one of relevance, year, -year, funding, -funding, beneficiaries, -beneficiaries`},
		{"sort=year&sort=-year", "sort: given 2 times; give it once"},
		{"offset=-1", "offset: must be 0 or more, got -1"},
		{"offset=next", `offset: "next" is not a whole number`},
		{"offset=1073741825", "offset: 1073741825 is over the maximum of 1073741824"},
		{"limit=1001", "limit: 1001 is over the maximum of 1000"},
		{"limit=-3", "limit: must be 0 or more, got -3"},
		{"limit=ten", `limit: "ten" is not a whole number`},
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
			if !reflect.DeepEqual(q, Query{}) {
				t.Fatalf("a failed parse returned %+v", q)
			}
		})
	}
}

// TestParamValidate checks Validate on queries built in code, which
// ParseQuery would have normalised.
func TestParamValidate(t *testing.T) {
	tests := []struct {
		name string
		q    Query
		want string // "" for valid
	}{
		{"zero", Query{}, ""},
		{"lower-case country", Query{Country: []string{"it"}}, `country: "it": write country codes in upper case, "IT"`},
		{"empty value", Query{Dimension: []string{""}}, "dimension: an empty value"},
		{"comma in a value", Query{Country: []string{"IT,FR"}}, `country: "IT,FR" is not an ISO 3166-1`},
		{"language not canonical", Query{Language: []string{"pt-br"}}, `language: "pt-br" is not in canonical form; write "pt-BR"`},
		{"upper-case vocabulary", Query{Evaluation: []string{"Internal"}}, `evaluation: "Internal" is not one of`},
		{"unbounded years", Query{YearFrom: 0, YearTo: 1999}, ""},
		{"sort relevance", Query{Sort: "relevance"}, ""},
		{"long sort", Query{Sort: strings.Repeat("y", 100)}, `sort: "` + strings.Repeat("y", 39) + `…" is not one of`},
		{"too many publishers", Query{Publisher: strings.Split(strings.Repeat("P,", 101)[:201], ",")}, "publisher: 101 values; at most 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.q.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			case err != nil && !errors.Is(err, ErrBadQuery):
				t.Fatalf("%v does not wrap ErrBadQuery", err)
			}
		})
	}
}

func TestParamNormalized(t *testing.T) {
	in := Query{Text: " a ", Country: []string{"it, fr", ""}, Achievement: []string{"FULLY"}, Language: []string{"EN-gb", "??"}, Sort: " year "}
	orig := append([]string(nil), in.Country...)
	got := in.Normalized()
	want := Query{Text: "a", Country: []string{"IT", "FR"}, Achievement: []string{"fully"}, Language: []string{"en-GB", "??"}, Sort: "year"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(in.Country, orig) {
		t.Fatalf("Normalized changed its receiver's slice: %q", in.Country)
	}
	if got := (Query{Country: []string{" , "}}).Normalized(); got.Country != nil {
		t.Fatalf("blank values left %q, want nil", got.Country)
	}
}
