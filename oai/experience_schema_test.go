package oai

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// TestExperienceSchemaValidates checks the khantara record of every
// experience record of the fixture against Schema with xmllint, when the
// machine has it, as TestSchemaValidates does for fact sheets.
func TestExperienceSchemaValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed")
	}
	f := newExpFixture(t, Config{})
	dir := t.TempDir()
	xsd := filepath.Join(dir, SchemaFile)
	if err := os.WriteFile(xsd, []byte(Schema()), 0o644); err != nil {
		t.Fatal(err)
	}
	var files []string
	for rec, err := range f.st.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindExperience}}) {
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString(xml.Header)
		enc := xml.NewEncoder(&b)
		enc.Indent("", " ")
		if err := enc.Encode(experienceXMLOf(rec.Announcement(), rec.Signed.Signer(), rec.Signed.Slot(), SchemaFile)); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(rec.Signed.Slot())+".xml")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	if len(files) < 5 {
		t.Fatalf("only %d experience records", len(files))
	}
	out, err := exec.Command(xmllint, append([]string{"--noout", "--nonet", "--schema", xsd}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), " validates"); n != len(files) {
		t.Errorf("%d of %d files validate:\n%s", n, len(files), out)
	}
}

// TestExperienceSchemaMembers checks the schema's experienceType against
// protocol.Experience: one element per JSON member, in the canonical
// order, and experienceXML writes the same elements in that order.
func TestExperienceSchemaMembers(t *testing.T) {
	var schema struct {
		Types []xsdType `xml:"complexType"`
	}
	if err := xml.Unmarshal([]byte(Schema()), &schema); err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, ty := range schema.Types {
		if ty.Name == "experienceType" {
			for _, el := range ty.Elements {
				declared = append(declared, el.Name)
			}
		}
	}
	var members, written []string
	et := reflect.TypeFor[protocol.Experience]()
	for i := range et.NumField() {
		name, _, _ := strings.Cut(et.Field(i).Tag.Get("json"), ",")
		members = append(members, name)
	}
	xt := reflect.TypeFor[experienceXML]()
	for i := range xt.NumField() {
		name, opts, _ := strings.Cut(xt.Field(i).Tag.Get("xml"), ",")
		if name != "" && !strings.Contains(opts, "attr") && xt.Field(i).Name != "XMLName" {
			written = append(written, name)
		}
	}
	if !slices.Equal(declared, members) || !slices.Equal(written, members) {
		t.Errorf("protocol.Experience's members %v;\nthe schema declares %v;\nexperienceXML writes %v", members, declared, written)
	}
}

// TestExperienceIdentifiers: GetRecord and ListMetadataFormats know
// experience identifiers, the endorsement's slot included; malformed
// slots and unknown records are idDoesNotExist, and an identifier that
// names a practice slot never returns an experience record (nor the
// reverse).
func TestExperienceIdentifiers(t *testing.T) {
	f := newExpFixture(t, Config{})
	p0, p1 := f.pubs[0].String(), f.pubs[1].String()
	for id, it := range f.exps {
		r := f.query("verb", "ListMetadataFormats", "identifier", id)
		if len(r.Errors) > 0 || len(r.Formats.Formats) != 2 {
			t.Errorf("ListMetadataFormats %s: %+v", id, r.Errors)
		}
		if r := f.query("verb", "GetRecord", "metadataPrefix", "oai_dc", "identifier", id); len(r.Errors) > 0 ||
			r.GetRecord.Record.Header.Identifier != id || (r.GetRecord.Record.Header.Status == "deleted") != it.deleted {
			t.Errorf("GetRecord %s: %+v", id, r)
		}
	}
	for _, id := range []string{
		"oai:khantara:" + p1 + ":_exp/no-such-record",
		"oai:khantara:" + p1 + ":_exp/Bad_ID",
		"oai:khantara:" + p1 + ":_exp/",
		"oai:khantara:" + p1 + ":_endorse/" + p0,
		"oai:khantara:" + p1 + ":_endorse/not-an-id/x-y-z",
		"oai:khantara:" + p1 + ":_profile",
		"oai:khantara:" + p1 + ":_exp/adapted-in-lille/extra",
	} {
		r := f.query("verb", "GetRecord", "metadataPrefix", "khantara", "identifier", id)
		if len(r.Errors) != 1 || r.Errors[0].Code != "idDoesNotExist" {
			t.Errorf("GetRecord %s: %+v, want idDoesNotExist", id, r.Errors)
		}
	}
}
