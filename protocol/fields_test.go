package protocol_test

import (
	"reflect"
	"testing"

	"github.com/khantara/khantara/internal/fieldtest"
	"github.com/khantara/khantara/protocol"
)

// TestFieldsCoverFactSheet fails when a field of protocol.FactSheet is not in the
// table, or the table names a field protocol.FactSheet does not have.
func TestFieldsCoverFactSheet(t *testing.T) {
	leaves := fieldtest.Leaves()
	if len(leaves) < 40 {
		t.Fatalf("found only %d leaves", len(leaves))
	}
	inTable := map[string]bool{}
	for _, f := range protocol.Fields {
		if inTable[f.Path] {
			t.Errorf("%s: twice in protocol.Fields", f.Path)
		}
		inTable[f.Path] = true
	}
	inSheet := map[string]bool{}
	for _, l := range leaves {
		inSheet[l.Path] = true
		if !inTable[l.Path] {
			t.Errorf("protocol.FactSheet field %s is not in protocol.Fields: add it there and to every output", l.Path)
		}
	}
	for _, f := range protocol.Fields {
		if !inSheet[f.Path] {
			t.Errorf("protocol.Fields has %s, which protocol.FactSheet does not", f.Path)
		}
	}
}

// goTypes are the Go types the getters of each protocol.FieldType return.
var goTypes = map[protocol.FieldType]reflect.Type{
	protocol.TypeID: reflect.TypeFor[string](), protocol.TypeLine: reflect.TypeFor[string](), protocol.TypeText: reflect.TypeFor[string](),
	protocol.TypeLanguage: reflect.TypeFor[string](), protocol.TypeCountry: reflect.TypeFor[string](),
	protocol.TypeEmail: reflect.TypeFor[string](), protocol.TypeURL: reflect.TypeFor[string](), protocol.TypeCode: reflect.TypeFor[string](),
	protocol.TypeCodes: reflect.TypeFor[[]string](), protocol.TypeNames: reflect.TypeFor[[]string](), protocol.TypeTags: reflect.TypeFor[[]string](),
	protocol.TypeYear: reflect.TypeFor[int](), protocol.TypeCount: reflect.TypeFor[*int64](), protocol.TypeDecimal: reflect.TypeFor[float64](),
	protocol.TypeDegrees: reflect.TypeFor[protocol.Degrees](),
	protocol.TypeBool:    reflect.TypeFor[*bool](), protocol.TypeFlag: reflect.TypeFor[bool](),
	protocol.TypeTranslations: reflect.TypeFor[map[string]protocol.Translation](), protocol.TypeLinks: reflect.TypeFor[[]protocol.Link](),
}

// TestFieldGetters checks each getter against its path by reflection, its
// result against its Type, and that it copes with a sheet that gives nothing.
func TestFieldGetters(t *testing.T) {
	s := fieldtest.Sheet()
	vals := map[string]reflect.Value{}
	for _, l := range fieldtest.Leaves() {
		vals[l.Path] = reflect.ValueOf(s).Elem().FieldByIndex(l.Index)
	}
	empty := &protocol.FactSheet{}
	for _, f := range protocol.Fields {
		t.Run(f.Path, func(t *testing.T) {
			got := f.Get(s)
			if want := goTypes[f.Type]; reflect.TypeOf(got) != want {
				t.Fatalf("getter returns %T, type %s wants %s", got, f.Type, want)
			}
			want := vals[f.Path].Interface()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("getter returns %#v, the sheet has %#v at %s", got, want, f.Path)
			}
			if v := reflect.ValueOf(f.Get(empty)); !v.IsZero() {
				t.Errorf("getter of an empty sheet returns %v", v)
			}
		})
	}
	if got := protocol.FieldByPath("funding.notes"); got == nil || got.CSV != "funding_notes" {
		t.Errorf("protocol.FieldByPath(funding.notes) = %v", got)
	}
	if protocol.FieldByPath("nope") != nil {
		t.Error("protocol.FieldByPath(nope) is not nil")
	}
}

// TestFieldsComplete checks what every output needs of each entry.
func TestFieldsComplete(t *testing.T) {
	sections := map[string]bool{}
	for _, s := range protocol.WebSections {
		sections[s.Key] = true
	}
	csv, xml := map[string]bool{}, map[string]bool{}
	for _, f := range protocol.Fields {
		if f.Label() == "" || f.CSV == "" || f.XML == "" {
			t.Errorf("%s: needs an English label, a CSV column and an XML element", f.Path)
		}
		if csv[f.CSV] || xml[f.XML] {
			t.Errorf("%s: CSV column %q or XML element %q used twice", f.Path, f.CSV, f.XML)
		}
		csv[f.CSV], xml[f.XML] = true, true
		if (f.Type == protocol.TypeCode || f.Type == protocol.TypeCodes) != (len(f.Vocab) > 0) {
			t.Errorf("%s: a vocabulary goes with code types only", f.Path)
		}
		switch f.Show.Section {
		case protocol.ShowHeading:
		case protocol.ShowFacts, protocol.ShowText:
			if f.Show.Label == "" {
				t.Errorf("%s: show needs a label", f.Path)
			}
		default:
			t.Errorf("%s: show section %q", f.Path, f.Show.Section)
		}
		if f.Web.Section != "" && !sections[f.Web.Section] {
			t.Errorf("%s: web section %q is not in protocol.WebSections", f.Path, f.Web.Section)
		}
		if f.Web.Section == "" && f.Path != "id" { // the ID is in the provenance
			t.Errorf("%s: not on the web page", f.Path)
		}
	}
}
