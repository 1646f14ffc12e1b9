package protocol

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

const goodYAML = `# a comment
id: test-sheet
title: Test practice
language: en
country: IT
organiser: Comune di Prova
start_year: 2011
end_year: 2013
objective: Teach Italian.
dimensions: [cultural]
funding:
  amount_eur: 800000
  period_years: 1.5
  sources: [eu, national]
beneficiaries: 1800
part_of_national_programme: false
transferability:
  replicable: true
translations:
  it:
    title: Pratica di prova
`

func TestParseSheetYAML(t *testing.T) {
	s, err := ParseSheet([]byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "test-sheet" || *s.Funding.AmountEUR != 800000 || s.Funding.PeriodYears != 1.5 ||
		*s.Beneficiaries != 1800 || *s.PartOfNationalProgramme || !*s.Transferability.Replicable ||
		s.Translations["it"].Title != "Pratica di prova" {
		t.Fatalf("parsed wrong: %+v", s)
	}
}

func TestParseSheetRoundTrips(t *testing.T) {
	want := fullSheet()
	js, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSheet(js)
	if err != nil {
		t.Fatalf("JSON form does not parse: %v\n%s", err, js)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JSON round trip differs:\n got %+v\nwant %+v", got, want)
	}
	// YAML written from the parsed sheet parses to the same sheet.
	y, err := ParseSheet([]byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	js2, _ := json.Marshal(y)
	y2, err := ParseSheet(js2)
	if err != nil || !reflect.DeepEqual(y, y2) {
		t.Fatalf("YAML -> JSON -> sheet differs: %v", err)
	}
}

func TestParseSheetProblems(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		want  []string // each must appear in the error
		lines []int    // lines of the first problems, when known
	}{
		{"unknown field with suggestion", goodYAML + "fundng: 3\n", []string{`fundng: unknown field; did you mean "funding"?`}, []int{22}},
		{"unknown nested field", strings.Replace(goodYAML, "  period_years", "  periodyears", 1), []string{`funding.periodyears: unknown field; did you mean "period_years"?`}, []int{13}},
		{"every problem at once", strings.NewReplacer("start_year: 2011", "start_year: soon", "beneficiaries: 1800", "beneficiaries: many", "dimensions: [cultural]", "dimensions: cultural").Replace(goodYAML) + "colour: red\n",
			[]string{`start_year: must be a whole number, got "soon"`, `beneficiaries: must be a whole number, got "many"`, "dimensions: must be a list", "colour: unknown field"}, nil},
		{"validation with line", strings.Replace(goodYAML, "amount_eur: 800000", "amount_eur: -5", 1), []string{"funding.amount_eur: must be >= 0, got -5"}, []int{12}},
		{"fractional year", strings.Replace(goodYAML, "start_year: 2011", "start_year: 2011.5", 1), []string{"start_year: must be a whole number"}, nil},
		{"bool as text", strings.Replace(goodYAML, "replicable: true", "replicable: yes", 1), []string{`transferability.replicable: must be true or false, got "yes"`}, nil},
		{"text as list", goodYAML + "title2: x\n", []string{"title2: unknown field"}, nil},
		{"list where text", strings.Replace(goodYAML, "title: Test practice", "title: [a, b]", 1), []string{"title: must be text, got a list"}, nil},
		{"empty", "", []string{"the file is empty"}, nil},
		{"not a mapping", "- a\n- b\n", []string{"must be a mapping"}, nil},
		{"two documents", goodYAML + "---\nid: other\n", []string{"more than one document"}, nil},
		{"syntax", "id: [unclosed\n", []string{"not valid YAML or JSON"}, nil},
		{"duplicate key", goodYAML + "id: again\n", []string{"id: appears twice (first on line 2); keep one"}, nil},
		{"alias", "base: &b x\n" + goodYAML, []string{"base: unknown field"}, nil},
		{"alias value", strings.Replace(goodYAML, "organiser: Comune di Prova", "organiser: &o Comune\nregion: *o", 1), []string{"anchors and aliases are not supported"}, nil},
		{"infinite float", strings.Replace(goodYAML, "period_years: 1.5", "period_years: .inf", 1), []string{"funding.period_years: must be a number"}, nil},
		{"uk hint", strings.Replace(goodYAML, "country: IT", "country: UK", 1), []string{`country: "UK" is not ISO 3166-1; write "GB"`}, nil},
		{"json unknown", `{"id":"abc","titel":"x"}`, []string{`titel: unknown field; did you mean "title"?`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSheet([]byte(tc.doc))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ParseSheet() error = %v, want *ValidationError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
			for i, l := range tc.lines {
				if ve.Problems[i].Line != l {
					t.Errorf("problem %d on line %d, want %d", i, ve.Problems[i].Line, l)
				}
			}
		})
	}
}

func TestParseSheetTooLarge(t *testing.T) {
	big := goodYAML + "summary: " + strings.Repeat("x", MaxSheetFileSize) + "\n"
	if _, err := ParseSheet([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestParseProfile(t *testing.T) {
	p, err := ParseProfile([]byte("name: Comune di Milano\ncountry: IT\nlevel: municipality\nlanguages: [it, en]\n"))
	if err != nil || p.Name != "Comune di Milano" {
		t.Fatalf("ParseProfile = %+v, %v", p, err)
	}
	if _, err := ParseProfile([]byte("name: x\ncountry: IT\nlevel: town\n")); err == nil || !strings.Contains(err.Error(), "level:") {
		t.Fatalf("bad level accepted: %v", err)
	}
}

// TestDemoSheets checks the demo catalogue: every sheet validates, its file
// is named after its ID, IDs are unique, and the 37 case studies of the
// CoR study's Appendix A are there with the other seed practices.
func TestDemoSheets(t *testing.T) {
	files, err := filepath.Glob("../demo/sheets/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 37+6 {
		t.Fatalf("demo catalogue has %d sheets, want at least 43 (37 case studies and the other seed practices)", len(files))
	}
	ids := map[string]string{}
	languages := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSheet(data)
		if err != nil {
			t.Errorf("%s:\n%v", f, err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".yaml"); s.ID != want {
			t.Errorf("%s: id %q, want the file name %q", f, s.ID, want)
		}
		if other, dup := ids[s.ID]; dup {
			t.Errorf("%s: id %q also used by %s", f, s.ID, other)
		}
		ids[s.ID] = f
		languages[s.Language]++
		if strings.Contains(string(data), "@") && (s.Contact == nil || !strings.Contains(string(data), s.Contact.Email)) {
			t.Errorf("%s: an '@' outside contact.email; the demo data carries no personal addresses", f)
		}
	}
	if languages["it"] < 3 {
		t.Errorf("want at least 3 sheets written in Italian, got %d", languages["it"])
	}
}

// TestParseSheetShapeAndRules checks that wrong shapes anywhere (list
// elements, map values, keys) still let the rest of the sheet be checked.
func TestParseSheetShapeAndRules(t *testing.T) {
	doc := strings.NewReplacer(
		"dimensions: [cultural]", "dimensions: [cultural, [x]]",
		"country: IT", "country: UK",
		"    title: Pratica di prova", "    title: [a]",
	).Replace(goodYAML) + "tags: [{a: b}, ok-tag, Bad]\n"
	_, err := ParseSheet([]byte(doc))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	for _, w := range []string{"dimensions[1]: must be text", `country: "UK"`, "translations.it.title: must be text", "tags[0]: must be text", `tags[2]: "Bad"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "jsontext") || strings.Contains(err.Error(), "is required") {
		t.Errorf("shape problems leaked into decoding or rule errors:\n%v", err)
	}
}
