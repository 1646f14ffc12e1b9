package web

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/khantara/khantara/internal/gen"
	"github.com/khantara/khantara/protocol"
)

// TestFieldsJSFresh fails when static/fields.js is not what go generate
// ./web makes of protocol.Fields today.
func TestFieldsJSFresh(t *testing.T) {
	want, err := gen.FieldsJS()
	if err != nil {
		t.Fatal(err)
	}
	got, err := staticFS.ReadFile("static/fields.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("static/fields.js is stale: run go generate ./web")
	}
}

// TestFieldsJSComplete checks that fields.js lists every field the table
// puts on the page, and that view-practice.js has a renderer for each row.
func TestFieldsJSComplete(t *testing.T) {
	js, err := staticFS.ReadFile("static/fields.js")
	if err != nil {
		t.Fatal(err)
	}
	view, err := staticFS.ReadFile("static/view-practice.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(view, []byte("from './fields.js'")) {
		t.Error("view-practice.js does not import fields.js")
	}
	for _, f := range protocol.Fields {
		if f.Web.Section != "" && !bytes.Contains(js, []byte(strconv.Quote(f.Path))) {
			t.Errorf("fields.js does not list %s", f.Path)
		}
	}
	for _, sec := range gen.WebLayout() {
		for _, row := range sec.Rows {
			if sec.Key == "header" || row.As == "objective" {
				continue // laid out by factSheet itself
			}
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(row.As) + `: \(`).Match(view) {
				t.Errorf("%s: view-practice.js has no renderer %q", row.Paths[0], row.As)
			}
		}
	}
}
