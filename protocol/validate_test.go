package protocol

import (
	"errors"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// fullSheet returns a valid sheet with every field set.
func fullSheet() *FactSheet {
	return &FactSheet{
		ID: "cric-roubaix", Title: "Conseil Roubaisien de l'Interculturalité", Language: "fr",
		Summary:      "Un conseil qui représente les communautés de la ville.",
		Translations: map[string]Translation{"en": {Title: "Roubaix Intercultural Council", Summary: "A council.", Objective: "Represent."}},
		Country:      "FR", Region: "Hauts-de-France", City: "Roubaix", Organiser: "Ville de Roubaix",
		StartYear: 2011, Ongoing: true, DurationYears: 1.5,
		Context: "Roubaix.", Challenges: "Voice.", Objective: "Représenter les communautés.",
		Dimensions: []string{"legal_political", "cultural"},
		Issues:     []string{"political_representation"}, IssuesText: "Representation.",
		TargetGroups: []string{"migrants"}, TargetGroupsText: "42 associations.",
		Assistance: "Events.", Activities: "Festival.", StaffTraining: "None.",
		Funding:       &Funding{AmountEUR: ptr[int64](8000), PeriodYears: 1, Sources: []string{"local"}, Notes: "Per year."},
		Partners:      &Partners{Types: []string{"migrant_associations", "civil_society"}, Names: []string{"Ville de Roubaix"}, Description: "City council."},
		Beneficiaries: ptr[int64](42), BeneficiariesText: "Member associations.",
		Achievement: "fully", Outcomes: "Represented.", PartOfNationalProgramme: ptr(false),
		Transferability: &Transferability{Replicable: ptr(false), Lessons: "Local history."},
		Evaluation:      "none", EvaluationText: "No impact evaluation.", OtherInformation: "Founded 1976 as a commission.",
		Contact: &Contact{Organisation: "Mairie de Roubaix", Unit: "Citoyenneté", Email: "citoyennete@ville.example", Website: "https://www.ville-roubaix.fr"},
		Links:   []Link{{Title: "City", URL: "https://www.ville-roubaix.fr/"}},
		Tags:    []string{"citizenship", "festival"},
	}
}

func TestFullSheetIsValid(t *testing.T) {
	if err := fullSheet().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		mutate func(s *FactSheet)
		path   string
		msg    string
	}{
		{"id required", func(s *FactSheet) { s.ID = "" }, "id", "is required"},
		{"id pattern", func(s *FactSheet) { s.ID = "Bad_ID" }, "id", "a-z, 0-9"},
		{"id too short", func(s *FactSheet) { s.ID = "ab" }, "id", "3-64"},
		{"id too long", func(s *FactSheet) { s.ID = long(65) }, "id", "3-64"},
		{"id leading dash", func(s *FactSheet) { s.ID = "-abc" }, "id", "starting with"},
		{"title required", func(s *FactSheet) { s.Title = "  " }, "title", "is required"},
		{"title one line", func(s *FactSheet) { s.Title = "a\nb" }, "title", "single line"},
		{"title length", func(s *FactSheet) { s.Title = long(MaxTitleLen + 1) }, "title", "at most 300 characters"},
		{"title control", func(s *FactSheet) { s.Title = "a\x00b" }, "title", "control character"},
		{"title invalid utf8", func(s *FactSheet) { s.Title = "a\xffb" }, "title", "UTF-8"},
		{"language required", func(s *FactSheet) { s.Language = "" }, "language", "is required"},
		{"language bad", func(s *FactSheet) { s.Language = "english" }, "language", "not a BCP 47"},
		{"language canonical", func(s *FactSheet) { s.Language = "pt-br" }, "language", `write "pt-BR"`},
		{"summary length", func(s *FactSheet) { s.Summary = long(MaxSummaryLen + 1) }, "summary", "at most 2000"},
		{"translation same language", func(s *FactSheet) { s.Translations = map[string]Translation{"fr": {Title: "x"}} }, "translations.fr", "own language"},
		{"translation bad tag", func(s *FactSheet) { s.Translations = map[string]Translation{"xx-!!": {Title: "x"}} }, "translations.xx-!!", "not a BCP 47"},
		{"translation title", func(s *FactSheet) { s.Translations = map[string]Translation{"en": {}} }, "translations.en.title", "is required"},
		{"translation count", func(s *FactSheet) {
			s.Translations = map[string]Translation{}
			for _, l := range []string{"en", "de", "it", "es", "pl", "el", "nl", "fi", "sv", "pt", "ro", "hu", "cs", "sk", "sl", "hr", "bg", "da", "et", "lv", "lt", "mt", "ga", "ar", "tr", "ru", "uk", "sq", "sr", "bs", "mk"} {
				s.Translations[l] = Translation{Title: "x"}
			}
		}, "translations", "at most 30"},
		{"country required", func(s *FactSheet) { s.Country = "" }, "country", "is required"},
		{"country lower", func(s *FactSheet) { s.Country = "fr" }, "country", `upper case, "FR"`},
		{"country UK", func(s *FactSheet) { s.Country = "UK" }, "country", `write "GB"`},
		{"country EL", func(s *FactSheet) { s.Country = "EL" }, "country", `write "GR"`},
		{"country unknown", func(s *FactSheet) { s.Country = "XY" }, "country", "not an ISO 3166-1"},
		{"country numeric", func(s *FactSheet) { s.Country = "150" }, "country", "not an ISO 3166-1"},
		{"country continent", func(s *FactSheet) { s.Country = "EU" }, "country", "not an ISO 3166-1"},
		{"region length", func(s *FactSheet) { s.Region = long(MaxPlaceLen + 1) }, "region", "at most 200"},
		{"city one line", func(s *FactSheet) { s.City = "a\nb" }, "city", "single line"},
		{"organiser required", func(s *FactSheet) { s.Organiser = "" }, "organiser", "is required"},
		{"start year required", func(s *FactSheet) { s.StartYear = 0 }, "start_year", "is required"},
		{"start year range", func(s *FactSheet) { s.StartYear = 1800 }, "start_year", "between 1900 and 2100"},
		{"end year range", func(s *FactSheet) { s.Ongoing = false; s.EndYear = 2200 }, "end_year", "between 1900 and 2100"},
		{"end before start", func(s *FactSheet) { s.Ongoing = false; s.EndYear = 2010 }, "end_year", "must not be before start_year (2011), got 2010"},
		{"ongoing with end", func(s *FactSheet) { s.EndYear = 2012 }, "ongoing", "remove one of them"},
		{"duration negative", func(s *FactSheet) { s.DurationYears = -1 }, "duration_years", "between 0 and 100"},
		{"objective required", func(s *FactSheet) { s.Objective = "" }, "objective", "is required"},
		{"objective length", func(s *FactSheet) { s.Objective = long(MaxTextLen + 1) }, "objective", "at most 8000"},
		{"context length", func(s *FactSheet) { s.Context = long(MaxTextLen + 1) }, "context", "at most 8000"},
		{"dimensions required", func(s *FactSheet) { s.Dimensions = nil }, "dimensions", "at least one"},
		{"dimension unknown", func(s *FactSheet) { s.Dimensions = []string{"economic"} }, "dimensions[0]", `"economic" is not one of legal_political, socio_economic, cultural`},
		{"dimension duplicate", func(s *FactSheet) { s.Dimensions = []string{"cultural", "cultural"} }, "dimensions[1]", "appears twice"},
		{"issue unknown", func(s *FactSheet) { s.Issues = []string{"jobs"} }, "issues[0]", "is not one of"},
		{"target group unknown", func(s *FactSheet) { s.TargetGroups = []string{"aliens"} }, "target_groups[0]", "is not one of"},
		{"funding negative", func(s *FactSheet) { s.Funding.AmountEUR = ptr[int64](-5) }, "funding.amount_eur", "must be >= 0, got -5"},
		{"funding huge", func(s *FactSheet) { s.Funding.AmountEUR = ptr[int64](MaxAmountEUR + 1) }, "funding.amount_eur", "at most"},
		{"funding period", func(s *FactSheet) { s.Funding.PeriodYears = 101 }, "funding.period_years", "between 0 and 100"},
		{"funding source", func(s *FactSheet) { s.Funding.Sources = []string{"EU"} }, "funding.sources[0]", `"EU" is not one of local, regional, national, eu, private`},
		{"partner type", func(s *FactSheet) { s.Partners.Types = []string{"ngo"} }, "partners.types[0]", "is not one of"},
		{"partner name empty", func(s *FactSheet) { s.Partners.Names = []string{""} }, "partners.names[0]", "is required"},
		{"partner names count", func(s *FactSheet) { s.Partners.Names = make([]string, MaxPartnerNames+1) }, "partners.names", "at most 50 names"},
		{"beneficiaries negative", func(s *FactSheet) { s.Beneficiaries = ptr[int64](-1) }, "beneficiaries", "between 0 and"},
		{"achievement", func(s *FactSheet) { s.Achievement = "yes" }, "achievement", `"yes" is not one of fully, partially, not_achieved, unknown`},
		{"evaluation", func(s *FactSheet) { s.Evaluation = "self" }, "evaluation", "is not one of internal, external, none, planned"},
		{"email", func(s *FactSheet) { s.Contact.Email = "Jane <jane@x.example>" }, "contact.email", "plain e-mail address"},
		{"email bad", func(s *FactSheet) { s.Contact.Email = "not-an-address" }, "contact.email", "plain e-mail address"},
		{"website scheme", func(s *FactSheet) { s.Contact.Website = "ftp://x.example" }, "contact.website", "http or https"},
		{"link url required", func(s *FactSheet) { s.Links = []Link{{Title: "x"}} }, "links[0].url", "is required"},
		{"link url relative", func(s *FactSheet) { s.Links = []Link{{URL: "/page"}} }, "links[0].url", "absolute"},
		{"link url long", func(s *FactSheet) { s.Links = []Link{{URL: "https://x.example/" + long(MaxURLLen)}} }, "links[0].url", "at most 2048 bytes"},
		{"links count", func(s *FactSheet) {
			s.Links = make([]Link, MaxLinks+1)
			for i := range s.Links {
				s.Links[i].URL = "https://x.example"
			}
		}, "links", "at most 20 links"},
		{"tag pattern", func(s *FactSheet) { s.Tags = []string{"Civic Rights"} }, "tags[0]", "lower-case"},
		{"tag long", func(s *FactSheet) { s.Tags = []string{long(MaxTagLen + 1)} }, "tags[0]", "at most 40"},
		{"tag duplicate", func(s *FactSheet) { s.Tags = []string{"a", "a"} }, "tags[1]", "appears twice"},
		{"tags count", func(s *FactSheet) {
			s.Tags = nil
			for i := range MaxTags + 1 {
				s.Tags = append(s.Tags, "t"+strings.Repeat("x", i))
			}
		}, "tags", "at most 30 tags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fullSheet()
			tc.mutate(s)
			err := s.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want a validation error", err)
			}
			var ve *ValidationError
			errors.As(err, &ve)
			for _, p := range ve.Problems {
				if p.Path == tc.path && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no problem at %q containing %q; got:\n%v", tc.path, tc.msg, err)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := fullSheet()
	s.ID = "X"
	s.Country = "UK"
	s.Funding.AmountEUR = ptr[int64](-5)
	s.Dimensions = []string{"nope"}
	var ve *ValidationError
	if !errors.As(s.Validate(), &ve) || len(ve.Problems) != 4 {
		t.Fatalf("want 4 problems, got %v", s.Validate())
	}
	want := "funding.amount_eur: must be >= 0, got -5"
	if !strings.Contains(ve.Error(), want) {
		t.Errorf("error text %q lacks %q", ve.Error(), want)
	}
}

func TestValidateProfileAndRetraction(t *testing.T) {
	good := &Profile{Name: "Ville de Roubaix", Country: "FR", Level: "municipality", Website: "https://x.example", Languages: []string{"fr", "en"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Profile
		path string
	}{
		{"name", Profile{Country: "FR", Level: "region"}, "name"},
		{"country", Profile{Name: "x", Country: "France", Level: "region"}, "country"},
		{"level missing", Profile{Name: "x", Country: "FR"}, "level"},
		{"level bad", Profile{Name: "x", Country: "FR", Level: "city"}, "level"},
		{"language", Profile{Name: "x", Country: "FR", Level: "region", Languages: []string{"french"}}, "languages[0]"},
		{"website", Profile{Name: "x", Country: "FR", Level: "region", Website: "x.example"}, "website"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ve *ValidationError
			if !errors.As(tc.p.Validate(), &ve) || ve.Problems[0].Path != tc.path {
				t.Fatalf("want a problem at %q, got %v", tc.path, tc.p.Validate())
			}
		})
	}
	if err := (&Retraction{ID: "ok-id", Reason: "ended"}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (&Retraction{ID: "NO"}).Validate(); err == nil {
		t.Fatal("bad retraction ID accepted")
	}
	if err := (&Retraction{ID: "ok-id", Reason: strings.Repeat("x", MaxReasonLen+1)}).Validate(); err == nil {
		t.Fatal("long reason accepted")
	}
}
