package export

import (
	"slices"
	"testing"

	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
)

// TestCSVFields checks that every field of protocol.Fields reaches the CSV:
// the header has its column, and that column changes when only the field
// is taken out of a sheet that gives every field.
func TestCSVFields(t *testing.T) {
	names := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		names[i] = c.name
	}
	for _, f := range protocol.Fields {
		t.Run(f.Path, func(t *testing.T) {
			if !slices.Contains(names, f.CSV) {
				t.Fatalf("the CSV has no column %q", f.CSV)
			}
			full, without := fieldtest.Pair(f.Path)
			for _, g := range protocol.Fields {
				a, b := cell(&g, full), cell(&g, without)
				if g.CSV == f.CSV && a == b {
					t.Errorf("column %s is %q with and without the field", f.CSV, a)
				}
				derived := f.Path == "end_year" && g.Path == "ongoing" // ongoing is false when an end year is given
				if g.CSV != f.CSV && a != b && !derived {
					t.Errorf("column %s changes with field %s", g.CSV, f.Path)
				}
			}
		})
	}
	// The table's order is the CSV's, between the record's own columns.
	var fromTable []string
	for _, n := range names {
		if f := slices.IndexFunc(protocol.Fields, func(f protocol.Field) bool { return f.CSV == n }); f >= 0 {
			fromTable = append(fromTable, n)
		}
	}
	if len(fromTable) != len(protocol.Fields) {
		t.Fatalf("%d of %d fields have a column", len(fromTable), len(protocol.Fields))
	}
	for i, f := range protocol.Fields {
		if fromTable[i] != f.CSV {
			t.Errorf("column %d is %s, the table says %s", i, fromTable[i], f.CSV)
		}
	}
}
