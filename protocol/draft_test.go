package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDraftExplainsSeal: a sheet read once by ReadSheet and validated
// once by Seal gets the same problems, with the same paths, lines and
// order, as ParseSheet reports; a sheet of the wrong shape is explained
// by its own Validate, as ParseSheet does; a valid sheet seals.
func TestDraftExplainsSeal(t *testing.T) {
	key := testKey(t, 7)
	seal := func(s *FactSheet) error {
		ann := &Announcement{V: Version, Seq: 1, Time: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Kind: KindPractice, Practice: s}
		_, err := Seal(ann, key)
		return err
	}
	for _, tc := range []struct {
		name, doc string
		shaped    bool
	}{
		{"valid", goodYAML, true},
		{"rules", strings.NewReplacer("country: IT", "country: UK", "start_year: 2011", "start_year: 2015", "language: en", "language: xx").Replace(goodYAML), true},
		{"rules in a nested field", strings.Replace(goodYAML, "sources: [eu, national]", "sources: [eu, lottery]", 1), true},
		{"shape and rules", strings.NewReplacer("country: IT", "country: UK", "beneficiaries: 1800", "beneficiaries: many", "titel", "x").Replace(goodYAML) + "colour: blue\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, want := ParseSheet([]byte(tc.doc))
			d, err := ReadSheet([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if d.Shaped() != tc.shaped {
				t.Fatalf("Shaped = %v, want %v", d.Shaped(), tc.shaped)
			}
			if d.Shaped() {
				err = d.Explain(seal(d.Value))
			} else {
				err = d.Explain(d.Value.Validate())
			}
			if (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
				t.Fatalf("Explain = %v\nParseSheet = %v", err, want)
			}
			if err == nil {
				return
			}
			var got, exp *ValidationError
			if !errors.As(err, &got) || !errors.As(want, &exp) || !reflect.DeepEqual(got.Problems, exp.Problems) {
				t.Fatalf("problems differ:\n got %+v\nwant %+v", got, exp)
			}
			for _, p := range got.Problems {
				if p.Line == 0 {
					t.Errorf("problem %q has no source line", p.Error())
				}
			}
		})
	}
}
