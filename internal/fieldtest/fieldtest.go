package fieldtest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/khantara/khantara/protocol"
)

// Leaf is one leaf field of protocol.FactSheet: its JSON path and its
// reflect index path.
type Leaf struct {
	Path  string
	Index []int
}

// Leaves walks protocol.FactSheet by reflection: it descends into structs
// behind pointers and stops at everything else (a map or a slice of
// structs is one leaf, as in protocol.Fields).
func Leaves() []Leaf {
	var out []Leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			idx := append(slices.Clone(index), i)
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				walk(f.Type.Elem(), prefix+name+".", idx)
				continue
			}
			out = append(out, Leaf{Path: prefix + name, Index: idx})
		}
	}
	walk(reflect.TypeFor[protocol.FactSheet](), "", nil)
	return out
}

// Marker is the text Sheet puts in the field at path: letters only, so it
// survives every output's rendering ("zqfundingnotes").
func Marker(path string) string {
	return "zq" + strings.NewReplacer("_", "", ".", "").Replace(path)
}

// Sheet returns a sheet with a distinct value in every leaf: Marker(path)
// in text and in lists, 1000+n in whole numbers (n the leaf's position),
// n+0.5 in decimals and coordinates, true in booleans. The language is "en" and the
// country "GR", so outputs that look them up find them.
func Sheet() *protocol.FactSheet {
	s := &protocol.FactSheet{}
	for n, l := range Leaves() {
		set(field(s, l.Index), l.Path, n)
	}
	s.Language, s.Country = "en", "GR"
	return s
}

// Without returns Sheet with the leaf at path set to its zero value.
func Without(path string) *protocol.FactSheet {
	s := Sheet()
	for _, l := range Leaves() {
		if l.Path == path {
			v := field(s, l.Index)
			v.Set(reflect.Zero(v.Type()))
			return s
		}
	}
	panic("fieldtest: no leaf " + path)
}

// field returns the settable leaf at index, making parent structs.
func field(s *protocol.FactSheet, index []int) reflect.Value {
	v := reflect.ValueOf(s).Elem()
	for _, i := range index[:len(index)-1] {
		v = v.Field(i)
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	return v.Field(index[len(index)-1])
}

func set(v reflect.Value, path string, n int) {
	m := Marker(path)
	switch x := v.Addr().Interface().(type) {
	case *string:
		*x = m
	case *int:
		*x = 1000 + n
	case *float64:
		*x = float64(n) + 0.5
	case *protocol.Degrees:
		*x = protocol.DegreesOf(float64(n) + 0.5)
	case *bool:
		*x = true
	case **bool:
		*x = new(true)
	case **int64:
		*x = new(int64(1000 + n))
	case *[]string:
		*x = []string{m, m + "two"}
	case *map[string]protocol.Translation:
		*x = map[string]protocol.Translation{"de": {Title: m, Summary: m + "summary", Objective: m + "objective"}}
	case *[]protocol.Link:
		*x = []protocol.Link{{Title: m, URL: "https://example.org/" + m}}
	default:
		panic(fmt.Sprintf("fieldtest: no value for %s of type %s", path, v.Type()))
	}
}

// Pair returns Sheet and Without(path), except that for end_year both
// are not ongoing and for ongoing both have no end year: a valid sheet
// gives one or the other, and outputs read the one given.
func Pair(path string) (with, without *protocol.FactSheet) {
	with, without = Sheet(), Without(path)
	switch path {
	case "end_year":
		with.Ongoing, without.Ongoing = false, false
	case "ongoing":
		with.EndYear, without.EndYear = 0, 0
	}
	return with, without
}
