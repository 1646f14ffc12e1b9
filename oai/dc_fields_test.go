package oai

import (
	"slices"
	"testing"

	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
)

// TestDCFields checks that every field protocol.Fields maps to Dublin Core
// reaches that element of the oai_dc record: its values change when only
// the field is taken out.
func TestDCFields(t *testing.T) {
	values := func(s *protocol.FactSheet, name string) []string {
		var out []string
		for _, e := range sheetDC("oai:x", s, "").Elements {
			if e.XMLName.Local == "dc:"+name {
				out = append(out, e.Lang+"="+e.Value)
			}
		}
		return out
	}
	n := 0
	for _, f := range protocol.Fields {
		if f.DC == "" {
			continue
		}
		n++
		t.Run(f.Path, func(t *testing.T) {
			with, without := fieldtest.Pair(f.Path)
			a, b := values(with, f.DC), values(without, f.DC)
			if len(a) == 0 || slices.Equal(a, b) {
				t.Errorf("dc:%s is %q with and %q without the field", f.DC, a, b)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d fields map to Dublin Core", n)
	}
}
