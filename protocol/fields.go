package protocol

import (
	"reflect"
	"slices"
	"strings"
)

// FieldType is the kind of value a fact-sheet field holds, and so how the
// outputs render it.
type FieldType string

// The field types. A getter (Field.Get) returns the Go type named in each
// comment. Text types are in the sheet's Language.
const (
	TypeID           FieldType = "id"           // string: the practice ID
	TypeLine         FieldType = "line"         // string: one line of text
	TypeText         FieldType = "text"         // string: prose, may span lines
	TypeLanguage     FieldType = "language"     // string: a BCP 47 tag
	TypeCountry      FieldType = "country"      // string: ISO 3166-1 alpha-2
	TypeEmail        FieldType = "email"        // string: an e-mail address
	TypeURL          FieldType = "url"          // string: an http(s) URL
	TypeCode         FieldType = "code"         // string: one code of Field.Vocab
	TypeCodes        FieldType = "codes"        // []string: codes of Field.Vocab
	TypeNames        FieldType = "names"        // []string: lines of free text
	TypeTags         FieldType = "tags"         // []string: keywords
	TypeYear         FieldType = "year"         // int: a year, 0 when not given
	TypeCount        FieldType = "count"        // *int64: a whole number, nil when not given
	TypeDecimal      FieldType = "decimal"      // float64: 0 when not given
	TypeDegrees      FieldType = "degrees"      // Degrees: a coordinate, zero when not given
	TypeBool         FieldType = "bool"         // *bool: nil when not given
	TypeFlag         FieldType = "flag"         // bool: false when not given
	TypeTranslations FieldType = "translations" // map[string]Translation
	TypeLinks        FieldType = "links"        // []Link
)

// ShowSection is the part of the CLI's show output a field is printed in.
type ShowSection string

// The sections of show, in print order.
const (
	ShowHeading ShowSection = "heading" // the underlined title
	ShowFacts   ShowSection = "facts"   // "Label:  value" lines
	ShowText    ShowSection = "text"    // a heading and a paragraph
)

// SearchText is where a field's words go in the search index.
type SearchText string

// The text uses of a field in the search index.
const (
	SearchTitle SearchText = "title" // the title and the text field of the sheet's language
	SearchOwn   SearchText = "own"   // the text field of the sheet's language
	SearchWords SearchText = "words" // its codes as English words, in the English text field
)

// Show says how the CLI's show command prints a field. Fields with the
// same Label are one line, made from all of them.
type Show struct {
	Section ShowSection
	// Label is the line's label (ShowFacts) or the paragraph's heading (ShowText).
	Label string
	// Order sorts the lines of ShowFacts; ShowText keeps the table's order.
	Order int
}

// Web says how the web page's practice view shows a field. Fields with the
// same Section and Label are one row, made from all of them.
type Web struct {
	// Section is the key of a WebSections entry; "" keeps the field off the page.
	Section string
	// Label is the row's label; "" shows the value without a label.
	Label string
	// As names how the page renders the value (a renderer in view-practice.js).
	As string
	// Order sorts the rows of a section.
	Order int
}

// WebSection is one titled part of the practice view.
type WebSection struct {
	Key, Title string
}

// Field is one leaf field of FactSheet and every output that shows it.
type Field struct {
	// Path is the JSON path of the field: "funding.notes".
	Path string
	// Type is the kind of value; Vocab lists the codes of TypeCode and TypeCodes.
	Type  FieldType
	Vocab []string
	// Required is true for the fields every valid sheet gives.
	Required bool
	// Labels are the field's name for people, by BCP 47 tag ("en" is always there).
	Labels map[string]string
	// Get returns the field's value from a sheet, of the Go type its Type names;
	// the zero value when the sheet (or a parent struct) does not give it.
	Get func(*FactSheet) any

	// CSV is the column of export.CSV; every field has one.
	CSV string
	// XML is the element path in the OAI-PMH khantara format:
	// "funding/notes"; for a list, its last step is the element of one
	// value: "funding/sources/source".
	XML string
	// DC is the Dublin Core element (OAI-PMH oai_dc) the field feeds, or "".
	DC string
	// DCAT is the DCAT-AP property the field feeds, or "".
	DCAT string
	// Search is the field's text use in the index, or "".
	Search SearchText
	// Facet is the index field the value is also indexed in, or "".
	Facet string
	// Show and Web are its place in the CLI's show and on the web page.
	Show Show
	Web  Web
}

// Label is the field's English label.
func (f *Field) Label() string { return f.Labels["en"] }

// FieldByPath returns the field with the given JSON path, or nil.
func FieldByPath(path string) *Field {
	for i := range Fields {
		if Fields[i].Path == path {
			return &Fields[i]
		}
	}
	return nil
}

// WebSections are the sections of the web page's practice view, in order.
// "header" is the page's header, "identification" its side column.
var WebSections = []WebSection{
	{"header", ""},
	{"identification", "Identification"},
	{"context", "Context and challenges"},
	{"objective", "Objective"},
	{"dimensions", "Dimensions"},
	{"issues", "Issues"},
	{"target-groups", "Target groups"},
	{"assistance", "Assistance"},
	{"activities", "Activities"},
	{"staff-training", "Staff training"},
	{"funding", "Funding"},
	{"partners", "Partners"},
	{"beneficiaries", "Beneficiaries"},
	{"achievement", "Achievement and outcomes"},
	{"national-programme", "National programme"},
	{"transferability", "Transferability"},
	{"evaluation", "Evaluation"},
	{"other", "Other information"},
	{"contact", "Contact"},
	{"links", "Links"},
	{"tags", "Tags"},
}

func en(label string) map[string]string { return map[string]string{"en": label} }

// funding, partners, transfer, location and contact return a sheet's sub-structs,
// the zero value when not given, for the getters.
func funding(s *FactSheet) *Funding {
	if s.Funding == nil {
		return &Funding{}
	}
	return s.Funding
}

func partners(s *FactSheet) *Partners {
	if s.Partners == nil {
		return &Partners{}
	}
	return s.Partners
}

func transfer(s *FactSheet) *Transferability {
	if s.Transferability == nil {
		return &Transferability{}
	}
	return s.Transferability
}

func location(s *FactSheet) *Location {
	if s.Location == nil {
		return &Location{}
	}
	return s.Location
}

func contact(s *FactSheet) *Contact {
	if s.Contact == nil {
		return &Contact{}
	}
	return s.Contact
}

// FieldsInWireOrder returns Fields in the order of FactSheet's members,
// the order of its JSON wire form (and of the OAI-PMH khantara format).
// The caller may keep but not change the slice.
func FieldsInWireOrder() []Field { return wireOrder }

var wireOrder = func() []Field {
	var paths []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				walk(f.Type.Elem(), prefix+name+".")
				continue
			}
			paths = append(paths, prefix+name)
		}
	}
	walk(reflect.TypeFor[FactSheet](), "")
	out := slices.Clone(Fields)
	slices.SortStableFunc(out, func(a, b Field) int {
		return slices.Index(paths, a.Path) - slices.Index(paths, b.Path)
	})
	return out
}()
