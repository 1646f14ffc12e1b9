package oai

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// TestSchemaValidates checks every khantara record of the fixture, and the
// repository description, against Schema with xmllint, when the machine
// has it (Debian: libxml2-utils). Nothing is fetched: the schema has no
// imports.
func TestSchemaValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed")
	}
	f := newFixture(t, Config{})
	dir := t.TempDir()
	xsd := filepath.Join(dir, SchemaFile)
	if err := os.WriteFile(xsd, []byte(Schema()), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any, root string) string {
		t.Helper()
		var b bytes.Buffer
		b.WriteString(xml.Header)
		enc := xml.NewEncoder(&b)
		enc.Indent("", " ")
		if err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: root}}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := []string{write("repository", &repositoryDescription{Xmlns: nsFactSheet, XmlnsXSI: nsXSI,
		SchemaLocation: nsFactSheet + " " + SchemaFile, Node: "n", IdentifierFormat: "x"}, "repository")}
	for rec, err := range f.st.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindPractice}}) {
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, write(rec.Announcement().Practice.ID, sheetXML(rec.Announcement(), rec.Signed.Signer(), SchemaFile), "factsheet"))
	}
	if len(files) < 40 {
		t.Fatalf("only %d files", len(files))
	}
	out, err := exec.Command(xmllint, append([]string{"--noout", "--nonet", "--schema", xsd}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), " validates"); n != len(files) {
		t.Errorf("%d of %d files validate:\n%s", n, len(files), out)
	}
}
