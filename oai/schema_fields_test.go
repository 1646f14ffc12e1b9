package oai

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// xsdType and xsdElement are the parts of an XML Schema the test reads.
type xsdType struct {
	Name     string       `xml:"name,attr"`
	Elements []xsdElement `xml:"sequence>element"`
}

type xsdElement struct {
	Name    string   `xml:"name,attr"`
	Type    string   `xml:"type,attr"`
	Complex *xsdType `xml:"complexType"`
}

// schemaPaths returns the element paths the schema declares under
// <factsheet>: "funding", "funding/notes", "translations/translation/title".
func schemaPaths(tb testing.TB) []string {
	tb.Helper()
	var schema struct {
		Types []xsdType `xml:"complexType"`
	}
	if err := xml.Unmarshal([]byte(Schema()), &schema); err != nil {
		tb.Fatal(err)
	}
	named := map[string]*xsdType{}
	for i := range schema.Types {
		named["k:"+schema.Types[i].Name] = &schema.Types[i]
	}
	var paths []string
	var walk func(t *xsdType, prefix string)
	walk = func(t *xsdType, prefix string) {
		for _, el := range t.Elements {
			p := prefix + el.Name
			paths = append(paths, p)
			if el.Complex != nil {
				walk(el.Complex, p+"/")
			} else if sub := named[el.Type]; sub != nil {
				walk(sub, p+"/")
			}
		}
	}
	walk(named["k:factsheetType"], "")
	return paths
}

// TestSchemaFields checks the XML Schema against protocol.Fields: each
// field's element is declared, and each declared element belongs to a field.
func TestSchemaFields(t *testing.T) {
	declared := schemaPaths(t)
	if len(declared) < 50 {
		t.Fatalf("only %d elements declared", len(declared))
	}
	for _, f := range protocol.Fields {
		if !slices.Contains(declared, f.XML) {
			t.Errorf("field %s: the schema declares no element %s", f.Path, f.XML)
		}
	}
	for _, p := range declared {
		if !slices.ContainsFunc(protocol.Fields, func(f protocol.Field) bool {
			return strings.HasPrefix(f.XML, p) || strings.HasPrefix(p, f.XML+"/")
		}) {
			t.Errorf("the schema declares %s, which no field of protocol.Fields has", p)
		}
	}
}

// elementPaths returns the paths of the elements under the root of doc.
func elementPaths(tb testing.TB, doc []byte) map[string]bool {
	tb.Helper()
	paths := map[string]bool{}
	var stack []string
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			if len(stack) > 1 {
				paths[strings.Join(stack[1:], "/")] = true
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return paths
}

// TestFactSheetFields checks that every field of protocol.Fields reaches
// the khantara format, at its element path, and that the record changes
// when only that field is taken out.
func TestFactSheetFields(t *testing.T) {
	pub, err := peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	if err != nil {
		t.Fatal(err)
	}
	encode := func(s *protocol.FactSheet) []byte {
		t.Helper()
		out, err := xml.Marshal(&metadata{FactSheet: sheetXML(&protocol.Announcement{Publisher: pub, Seq: 1,
			Time: time.Unix(1700000000, 0), Practice: s}, pub, SchemaFile)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, f := range protocol.Fields {
		t.Run(f.Path, func(t *testing.T) {
			with, without := fieldtest.Pair(f.Path)
			full := encode(with)
			if !elementPaths(t, full)["factsheet/"+f.XML] {
				t.Errorf("no element %s in\n%s", f.XML, full)
			}
			if bytes.Equal(full, encode(without)) {
				t.Errorf("the record is the same without %s", f.Path)
			}
		})
	}
}
