package export

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestDCATFields checks that every field protocol.Fields maps to DCAT
// reaches that property of the dataset: it changes when only the field is
// taken out.
func TestDCATFields(t *testing.T) {
	pub, err := peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	if err != nil {
		t.Fatal(err)
	}
	c := &Catalog{NodeID: pub}
	property := func(s *protocol.FactSheet, name string) any {
		t.Helper()
		b, err := json.Marshal(c.dataset(pub, &protocol.Announcement{Publisher: pub, Seq: 1, Time: time.Unix(1700000000, 0), Practice: s}))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m[name]
	}
	n := 0
	for _, f := range protocol.Fields {
		if f.DCAT == "" {
			continue
		}
		n++
		t.Run(f.Path, func(t *testing.T) {
			with, without := fieldtest.Pair(f.Path)
			if f.Path == "objective" { // the description when there is no summary
				with.Summary, without.Summary = "", ""
			}
			a, b := property(with, f.DCAT), property(without, f.DCAT)
			if a == nil || reflect.DeepEqual(a, b) {
				t.Errorf("%s is %v with and %v without the field", f.DCAT, a, b)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d fields map to DCAT", n)
	}
}
