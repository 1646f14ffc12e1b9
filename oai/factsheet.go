package oai

import (
	"encoding/xml"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// factSheet is the <factsheet> element of the khantara format: the fact
// sheet's JSON wire form as XML (doc.go gives the mapping, schema.go the
// XML Schema). Its elements are the entries of protocol.Fields, in the
// sheet's wire order (the schema's sequence), each at its Field.XML path.
type factSheet struct {
	SchemaLocation string
	Publisher      string
	Signer         string
	Seq            uint64
	Announced      string
	sheet          *protocol.FactSheet
}

// sheetXML maps the practice of a, signed by signer, to the khantara
// format; schemaURL is where its XML Schema is served.
func sheetXML(a *protocol.Announcement, signer peer.ID, schemaURL string) *factSheet {
	return &factSheet{
		SchemaLocation: nsFactSheet + " " + schemaURL,
		Publisher:      a.Publisher.String(),
		Signer:         signer.String(),
		Seq:            a.Seq,
		Announced:      a.Time.UTC().Format(time.RFC3339Nano),
		sheet:          a.Practice,
	}
}

// MarshalXML writes the element: the attributes, then one element per
// field the sheet gives (a required one always), sub-structs such as
// <funding> wrapping theirs when the sheet has them.
func (f *factSheet) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = append(start.Attr,
		xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: nsFactSheet},
		xml.Attr{Name: xml.Name{Local: "xmlns:xsi"}, Value: nsXSI},
		xml.Attr{Name: xml.Name{Local: "xsi:schemaLocation"}, Value: f.SchemaLocation},
		xml.Attr{Name: xml.Name{Local: "publisher"}, Value: f.Publisher},
		xml.Attr{Name: xml.Name{Local: "signer"}, Value: f.Signer},
		xml.Attr{Name: xml.Name{Local: "seq"}, Value: strconv.FormatUint(f.Seq, 10)},
		xml.Attr{Name: xml.Name{Local: "announced"}, Value: f.Announced})
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	open := "" // the sub-struct element open now
	for _, fd := range protocol.FieldsInWireOrder() {
		parent, _, _ := strings.Cut(fd.Path, ".")
		if parent == fd.Path {
			parent = ""
		}
		if parent != open {
			if err := switchParent(e, f.sheet, open, parent); err != nil {
				return err
			}
			open = parent
		}
		if parent != "" && !given(f.sheet, parent) {
			continue
		}
		name := strings.TrimPrefix(fd.XML, parent+"/")
		if err := writeField(e, &fd, name, fd.Get(f.sheet)); err != nil {
			return err
		}
	}
	if err := switchParent(e, f.sheet, open, ""); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

// switchParent closes sub-struct element from (if written) and opens to
// (if the sheet gives it); "" is the sheet itself.
func switchParent(e *xml.Encoder, s *protocol.FactSheet, from, to string) error {
	if from != "" && given(s, from) {
		if err := e.EncodeToken(xml.EndElement{Name: xml.Name{Local: from}}); err != nil {
			return err
		}
	}
	if to != "" && given(s, to) {
		return e.EncodeToken(xml.StartElement{Name: xml.Name{Local: to}})
	}
	return nil
}

// subStructs maps the JSON names of FactSheet's sub-struct pointers
// (funding, partners, ...) to their field index.
var subStructs = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[protocol.FactSheet]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			m[name] = i
		}
	}
	return m
}()

// given reports whether s has the sub-struct named parent.
func given(s *protocol.FactSheet, parent string) bool {
	return !reflect.ValueOf(s).Elem().Field(subStructs[parent]).IsNil()
}

// writeField writes one field's element at path name ("notes", or
// "sources/source" for a list), or nothing when the sheet does not give
// it and it is not required.
func writeField(e *xml.Encoder, fd *protocol.Field, name string, v any) error {
	el := func(name string) xml.StartElement { return xml.StartElement{Name: xml.Name{Local: name}} }
	wrapper, child, _ := strings.Cut(name, "/")
	switch v := v.(type) {
	case string:
		if v != "" || fd.Required {
			return e.EncodeElement(v, el(name))
		}
	case int:
		if v != 0 || fd.Required {
			return e.EncodeElement(v, el(name))
		}
	case float64:
		if v != 0 {
			return e.EncodeElement(decimal(v), el(name))
		}
	case protocol.Degrees:
		if !v.IsZero() {
			return e.EncodeElement(v.String(), el(name))
		}
	case *int64:
		if v != nil {
			return e.EncodeElement(*v, el(name))
		}
	case *bool:
		if v != nil {
			return e.EncodeElement(*v, el(name))
		}
	case bool:
		if v {
			return e.EncodeElement(v, el(name))
		}
	case []string:
		return writeList(e, wrapper, child, v)
	case []protocol.Link:
		items := make([]xmlLink, len(v))
		for i, l := range v {
			items[i] = xmlLink(l)
		}
		return writeList(e, wrapper, child, items)
	case map[string]protocol.Translation:
		var items []xmlTranslation
		for _, l := range slices.Sorted(maps.Keys(v)) {
			t := v[l]
			items = append(items, xmlTranslation{Language: l, Title: t.Title, Summary: t.Summary, Objective: t.Objective})
		}
		return writeList(e, wrapper, child, items)
	}
	return nil
}

type xmlTranslation struct {
	Language  string `xml:"language,attr"`
	Title     string `xml:"title"`
	Summary   string `xml:"summary,omitempty"`
	Objective string `xml:"objective,omitempty"`
}

type xmlLink struct {
	Title string `xml:"title,omitempty"`
	URL   string `xml:"url"`
}

// writeList writes a wrapper element with one child element per item, or
// nothing at all when there are none.
func writeList[T any](e *xml.Encoder, wrapper, child string, items []T) error {
	if len(items) == 0 {
		return nil
	}
	start := xml.StartElement{Name: xml.Name{Local: wrapper}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, it := range items {
		if err := e.EncodeElement(it, xml.StartElement{Name: xml.Name{Local: child}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// decimal renders v as an xs:decimal (never in exponent form); 0 is "".
func decimal(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
