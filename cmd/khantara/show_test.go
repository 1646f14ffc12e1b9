package main

import (
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
)

// TestShowFields checks that show prints every field of protocol.Fields:
// under its label, and differently when only that field is taken out.
func TestShowFields(t *testing.T) {
	now := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	show := func(s *protocol.FactSheet) string {
		var b strings.Builder
		printRecord(&b, api.Record{Listing: api.Practice{Publisher: "P", ID: s.ID, Seq: 1,
			Kind: protocol.KindPractice, ReceivedAt: now}, Practice: s}, now, 200)
		return b.String()
	}
	full := show(fieldtest.Sheet())
	for _, f := range protocol.Fields {
		t.Run(f.Path, func(t *testing.T) {
			if with, without := fieldtest.Pair(f.Path); show(with) == show(without) {
				t.Errorf("show prints the same without %s", f.Path)
			}
			var head string
			switch f.Show.Section {
			case protocol.ShowHeading:
				head = fieldtest.Marker(f.Path) + "\n="
			case protocol.ShowFacts:
				head = "\n" + f.Show.Label + ":"
			case protocol.ShowText:
				head = "\n\n" + f.Show.Label + "\n  "
			}
			if !strings.Contains(full, head) {
				t.Errorf("show lacks %q:\n%s", head, full)
			}
		})
	}
}
