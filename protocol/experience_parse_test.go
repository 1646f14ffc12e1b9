package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

// adaptationYAML is an experience file as staff write it: the body only.
const adaptationYAML = `# Lille tried Roubaix's council
type: adaptation
id: conseil-lille
about:
  publisher: 12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7
  id: cric-roubaix
  seq: 1
language: fr
title: Un conseil de l'interculturalité à Lille
country: FR
city: Lille
start_year: 2019
ongoing: true
changes: |
  Un conseil plus petit,
  qui se réunit dans les bibliothèques.
achievement: partially
evaluation: internal
practice:
  publisher: 5ubP5HxjCqyCHBWPxW4VmTLoptmwVm
  id: conseil-lille
translations:
  en:
    title: An intercultural council in Lille
`

func TestParseExperienceYAML(t *testing.T) {
	e, err := ParseExperience([]byte(adaptationYAML))
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != ExperienceAdaptation || e.About.Publisher.String() != vecPublisher || e.About.Seq != 1 ||
		e.Practice.Publisher.String() != "5ubP5HxjCqyCHBWPxW4VmTLoptmwVm" || !strings.HasSuffix(e.Changes, "bibliothèques.\n") ||
		e.Translations["en"].Title != "An intercultural council in Lille" || !e.Ongoing {
		t.Fatalf("parsed wrong: %+v", e)
	}
	// Its JSON form parses to the same record, as does every test record.
	for _, want := range append([]*Experience{e}, testRecords(t)...) {
		js, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseExperience(js)
		if err != nil {
			t.Fatalf("JSON form does not parse: %v\n%s", err, js)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("JSON round trip differs:\n got %+v\nwant %+v", got, want)
		}
	}
}

// testRecords is one full record of each type.
func testRecords(t testing.TB) []*Experience {
	var out []*Experience
	for _, typ := range expAll {
		out = append(out, testExperience(t, typ, true))
	}
	return out
}

func TestParseExperienceProblems(t *testing.T) {
	lesson := "type: lesson\nid: what-we-learned\nabout:\n  publisher: " + vecPublisher + "\n  id: cric-roubaix\nlanguage: en\ntitle: What we learned\ntext: Start small.\n"
	tests := []struct {
		name  string
		doc   string
		want  []string // each must appear in the error
		lines []int    // lines of the first problems
	}{
		{"member of another type", lesson + "country: FR\n", []string{"country: is not allowed in a lesson (adaptation only)"}, []int{9}},
		{"required by the type", strings.Replace(adaptationYAML, "start_year: 2019\n", "", 1), []string{"start_year: is required in an adaptation"}, nil},
		{"unknown field with suggestion", lesson + "did_not_wrk: x\n", []string{`did_not_wrk: unknown field; did you mean "did_not_work"?`}, []int{9}},
		{"publisher not an ID", strings.Replace(lesson, vecPublisher, "Ville de Roubaix", 1), []string{`about.publisher: must be a publisher ID`}, []int{4}},
		{"publisher as list", strings.Replace(lesson, vecPublisher, "[a]", 1), []string{"about.publisher: must be a publisher ID (an organisation ID, or a key's ID such as 12D3KooW…), got a list"}, []int{4}},
		{"about seq negative", strings.Replace(lesson, "  id: cric-roubaix\n", "  id: cric-roubaix\n  seq: -1\n", 1), []string{"about.seq: must be a whole number"}, []int{6}},
		{"about seq too large", strings.Replace(lesson, "  id: cric-roubaix\n", "  id: cric-roubaix\n  seq: 9007199254740992\n", 1), []string{"about.seq: must be a whole number"}, nil},
		{"every problem at once", strings.NewReplacer("type: adaptation", "type: adaption", "start_year: 2019", "start_year: soon", "country: FR", "country: UK").Replace(adaptationYAML),
			[]string{`type: "adaption" is not one of adaptation, lesson, question, answer, endorsement`, `start_year: must be a whole number, got "soon"`, `country: "UK" is not ISO 3166-1; write "GB"`}, []int{2, 10, 12}},
		{"nested rule with line", strings.Replace(adaptationYAML, "  id: conseil-lille\ntranslations", "  id: Conseil\ntranslations", 1), []string{"practice.id:"}, []int{21}},
		{"translation title required", strings.Replace(adaptationYAML, "    title: An intercultural council in Lille\n", "    text: In English.\n", 1), []string{"translations.en.title: is required"}, []int{24}},
		{"json", `{"type":"endorsement","about":{"publisher":"` + vecPublisher + `","id":"cric-roubaix"},"language":"en","titel":"x"}`, []string{`titel: unknown field; did you mean "title"?`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseExperience([]byte(tc.doc))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid document refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ParseExperience() error = %v, want *ValidationError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
			for i, l := range tc.lines {
				if i >= len(ve.Problems) || ve.Problems[i].Line != l {
					t.Errorf("problem %d on line %d, want %d:\n%+v", i, ve.Problems[min(i, len(ve.Problems)-1)].Line, l, ve.Problems)
				}
			}
		})
	}
	big := adaptationYAML + "outcomes: " + strings.Repeat("x", MaxSheetFileSize) + "\n"
	if _, err := ParseExperience([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a file over the limit: %v, want ErrTooLarge", err)
	}
}

// TestReadExperienceSeal checks the publishing path: read the shape once,
// let Seal check the rules, and explain Seal's problems with the file's
// own paths and lines.
func TestReadExperienceSeal(t *testing.T) {
	key := testKey(t, 1)
	d, err := ReadExperience([]byte(strings.Replace(adaptationYAML, "country: FR", "country: UK", 1)))
	if err != nil || !d.Shaped() {
		t.Fatalf("ReadExperience: %v (shaped %v)", err, d != nil && d.Shaped())
	}
	_, err = Seal(&Announcement{V: Version, Seq: 1, Time: t0, Kind: KindExperience, Experience: d.Value}, key)
	err = d.Explain(err)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != "country" || ve.Problems[0].Line != 10 {
		t.Fatalf("explained %+v, want one problem at country, line 10", err)
	}
	d, err = ReadExperience([]byte(adaptationYAML))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Seal(&Announcement{V: Version, Seq: 1, Time: t0, Kind: KindExperience, Experience: d.Value}, key)
	if err != nil || d.Explain(err) != nil {
		t.Fatalf("a valid file does not seal: %v", err)
	}
	if s.Slot() != "_exp/conseil-lille" {
		t.Fatalf("slot %q", s.Slot())
	}
}
