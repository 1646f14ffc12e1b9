package protocol

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// leaf is one leaf field of FactSheet found by reflection.
type leaf struct {
	path  string
	index []int // reflect field index path
	typ   reflect.Type
}

// sheetLeaves walks FactSheet by reflection: it descends into structs and
// pointers to structs and stops at everything else (maps and slices of
// structs are one leaf, as in the table).
func sheetLeaves(tb testing.TB) []leaf {
	tb.Helper()
	var out []leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			path := prefix + name
			idx := append(slices.Clone(index), i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				walk(ft.Elem(), path+".", idx)
				continue
			}
			out = append(out, leaf{path: path, index: idx, typ: ft})
		}
	}
	walk(reflect.TypeFor[FactSheet](), "", nil)
	return out
}

// TestFieldsCoverFactSheet fails when a field of FactSheet is not in the
// table, or the table names a field FactSheet does not have.
func TestFieldsCoverFactSheet(t *testing.T) {
	leaves := sheetLeaves(t)
	if len(leaves) < 40 {
		t.Fatalf("found only %d leaves", len(leaves))
	}
	inTable := map[string]bool{}
	for _, f := range Fields {
		if inTable[f.Path] {
			t.Errorf("%s: twice in Fields", f.Path)
		}
		inTable[f.Path] = true
	}
	inSheet := map[string]bool{}
	for _, l := range leaves {
		inSheet[l.path] = true
		if !inTable[l.path] {
			t.Errorf("FactSheet field %s is not in protocol.Fields: add it there and to every output", l.path)
		}
	}
	for _, f := range Fields {
		if !inSheet[f.Path] {
			t.Errorf("Fields has %s, which FactSheet does not", f.Path)
		}
	}
}

// goTypes are the Go types the getters of each FieldType return.
var goTypes = map[FieldType]reflect.Type{
	TypeID: reflect.TypeFor[string](), TypeLine: reflect.TypeFor[string](), TypeText: reflect.TypeFor[string](),
	TypeLanguage: reflect.TypeFor[string](), TypeCountry: reflect.TypeFor[string](),
	TypeEmail: reflect.TypeFor[string](), TypeURL: reflect.TypeFor[string](), TypeCode: reflect.TypeFor[string](),
	TypeCodes: reflect.TypeFor[[]string](), TypeNames: reflect.TypeFor[[]string](), TypeTags: reflect.TypeFor[[]string](),
	TypeYear: reflect.TypeFor[int](), TypeCount: reflect.TypeFor[*int64](), TypeDecimal: reflect.TypeFor[float64](),
	TypeBool: reflect.TypeFor[*bool](), TypeFlag: reflect.TypeFor[bool](),
	TypeTranslations: reflect.TypeFor[map[string]Translation](), TypeLinks: reflect.TypeFor[[]Link](),
}

// filledSheet is a sheet with a distinct value in every leaf, and those
// values by path.
func filledSheet(tb testing.TB) (*FactSheet, map[string]reflect.Value) {
	tb.Helper()
	s := &FactSheet{}
	vals := map[string]reflect.Value{}
	for n, l := range sheetLeaves(tb) {
		v := reflect.ValueOf(s).Elem()
		for _, i := range l.index[:len(l.index)-1] {
			v = v.Field(i)
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(l.index[len(l.index)-1])
		switch x := v.Addr().Interface().(type) {
		case *string:
			*x = l.path
		case *int:
			*x = 1000 + n
		case *float64:
			*x = float64(n) + 0.5
		case *bool:
			*x = true
		case **bool:
			*x = new(n%2 == 0)
		case **int64:
			*x = new(int64(n))
		case *[]string:
			*x = []string{l.path, "b"}
		case *map[string]Translation:
			*x = map[string]Translation{"de": {Title: l.path}}
		case *[]Link:
			*x = []Link{{Title: l.path, URL: "https://example.org/" + l.path}}
		default:
			tb.Fatalf("%s: no test value for %s", l.path, l.typ)
		}
		vals[l.path] = v
	}
	return s, vals
}

// TestFieldGetters checks each getter against its path by reflection, its
// result against its Type, and that it copes with a sheet that gives nothing.
func TestFieldGetters(t *testing.T) {
	s, vals := filledSheet(t)
	empty := &FactSheet{}
	for _, f := range Fields {
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
	if got := FieldByPath("funding.notes"); got == nil || got.CSV != "funding_notes" {
		t.Errorf("FieldByPath(funding.notes) = %v", got)
	}
	if FieldByPath("nope") != nil {
		t.Error("FieldByPath(nope) is not nil")
	}
}

// TestFieldsComplete checks what every output needs of each entry.
func TestFieldsComplete(t *testing.T) {
	sections := map[string]bool{}
	for _, s := range WebSections {
		sections[s.Key] = true
	}
	csv, xml := map[string]bool{}, map[string]bool{}
	for _, f := range Fields {
		if f.Label() == "" || f.CSV == "" || f.XML == "" {
			t.Errorf("%s: needs an English label, a CSV column and an XML element", f.Path)
		}
		if csv[f.CSV] || xml[f.XML] {
			t.Errorf("%s: CSV column %q or XML element %q used twice", f.Path, f.CSV, f.XML)
		}
		csv[f.CSV], xml[f.XML] = true, true
		if (f.Type == TypeCode || f.Type == TypeCodes) != (len(f.Vocab) > 0) {
			t.Errorf("%s: a vocabulary goes with code types only", f.Path)
		}
		switch f.Show.Section {
		case ShowHeading:
		case ShowFacts, ShowText:
			if f.Show.Label == "" {
				t.Errorf("%s: show needs a label", f.Path)
			}
		default:
			t.Errorf("%s: show section %q", f.Path, f.Show.Section)
		}
		if f.Web.Section != "" && !sections[f.Web.Section] {
			t.Errorf("%s: web section %q is not in WebSections", f.Path, f.Web.Section)
		}
		if f.Web.Section == "" && f.Path != "id" { // the ID is in the provenance
			t.Errorf("%s: not on the web page", f.Path)
		}
	}
}
