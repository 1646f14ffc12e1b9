package search

import (
	"fmt"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestDocumentFields checks that every field protocol.Fields gives an
// index use reaches the search document: its text is in the document's
// text fields, its facet is indexed, and the document changes when only
// that field is taken out.
func TestDocumentFields(t *testing.T) {
	im, _, err := newMapping()
	if err != nil {
		t.Fatal(err)
	}
	db, err := newDocBuilder(im)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	if err != nil {
		t.Fatal(err)
	}
	// fields renders a document as "name=value" lines, the hit left out.
	fields := func(s *protocol.FactSheet) map[string]string {
		t.Helper()
		doc, err := db.build(&protocol.Announcement{Publisher: pub, Seq: 1, Practice: s}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range doc.Fields {
			var v any
			switch x := f.(type) {
			case *document.TextField:
				v = string(x.Value())
			case *document.NumericField:
				v, _ = x.Number()
			case *document.BooleanField:
				v, _ = x.Boolean()
			}
			if f.Name() != fHit {
				out[f.Name()] += fmt.Sprintf("%v\n", v)
			}
		}
		return out
	}
	full := fields(fieldtest.Sheet())
	used := 0
	for _, f := range protocol.Fields {
		if f.Search == "" && f.Facet == "" {
			continue
		}
		used++
		t.Run(f.Path, func(t *testing.T) {
			with, without := fieldtest.Pair(f.Path)
			a, b := fields(with), fields(without)
			if _, ok := db.opts[f.Facet]; f.Facet != "" && !ok {
				t.Errorf("facet %s is not in the index mapping", f.Facet)
			}
			if f.Facet != "" && a[f.Facet] == b[f.Facet] {
				t.Errorf("facet %s is %q with and without the field", f.Facet, a[f.Facet])
			}
			if f.Search == "" {
				return
			}
			m := fieldtest.Marker(f.Path)
			text := full[textField(textSuffix("en"))]
			if f.Search == protocol.SearchWords {
				m = strings.ReplaceAll(m, "_", " ")
			}
			if !strings.Contains(text, m) {
				t.Errorf("the English text lacks %q:\n%s", m, text)
			}
			if f.Search == protocol.SearchTitle && !strings.Contains(full[titleField(textSuffix("en"))], m) {
				t.Errorf("the title field lacks %q", m)
			}
		})
	}
	if used < 10 {
		t.Fatalf("only %d fields reach the index", used)
	}
}
