package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/khantara/khantara/internal/placename"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
)

// The committed map data (static/map, made by web/mapdata) and the
// vendored libraries (static/vendor), checked without network.

const (
	maxCountriesBytes = 300 << 10
	maxPlacesBytes    = 600 << 10
)

// mapTopology is what the test reads of static/map/countries.json.
type mapTopology struct {
	Type   string `json:"type"`
	Region struct {
		Codes    []string          `json:"codes"`
		NotDrawn map[string]string `json:"not_drawn"`
		Source   string            `json:"source"`
	} `json:"region"`
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Objects struct {
		Countries struct {
			Type       string `json:"type"`
			Geometries []struct {
				Type       string            `json:"type"`
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
				Arcs       json.RawMessage   `json:"arcs"`
			} `json:"geometries"`
		} `json:"countries"`
	} `json:"objects"`
	Arcs [][][2]int64 `json:"arcs"`
}

func readTopology(t *testing.T) *mapTopology {
	t.Helper()
	raw, err := staticFS.ReadFile("static/map/countries.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > maxCountriesBytes {
		t.Errorf("countries.json is %d bytes; keep it under %d (simplify more in web/mapdata)", len(raw), maxCountriesBytes)
	}
	var topo mapTopology
	if err := json.Unmarshal(raw, &topo); err != nil {
		t.Fatalf("countries.json: %v", err)
	}
	return &topo
}

// TestMapCountries checks the country shapes: every code of the map's
// region is one the fact sheet allows, and has a shape or a reason why
// not (never both); every shape is a region's, once; every arc index
// points at an arc; every point decodes to a longitude and latitude.
func TestMapCountries(t *testing.T) {
	topo := readTopology(t)
	if topo.Type != "Topology" || topo.Objects.Countries.Type != "GeometryCollection" || topo.Region.Source == "" {
		t.Fatalf("countries.json: type %q, countries %q, source %q", topo.Type, topo.Objects.Countries.Type, topo.Region.Source)
	}
	shapes := map[string]bool{}
	for _, g := range topo.Objects.Countries.Geometries {
		if shapes[g.ID] {
			t.Errorf("two shapes for %s", g.ID)
		}
		shapes[g.ID] = true
		if !slices.Contains(topo.Region.Codes, g.ID) {
			t.Errorf("shape %s (%s) is not in the region's codes", g.ID, g.Properties["name"])
		}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				t.Fatalf("%s: %v", g.ID, err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				t.Fatalf("%s: %v", g.ID, err)
			}
		default:
			t.Errorf("%s: geometry type %q", g.ID, g.Type)
		}
		for _, poly := range polys {
			for _, ring := range poly {
				for _, a := range ring {
					if a < 0 {
						a = ^a
					}
					if a >= len(topo.Arcs) {
						t.Fatalf("%s: arc %d of %d", g.ID, a, len(topo.Arcs))
					}
				}
			}
		}
	}
	for _, code := range topo.Region.Codes {
		reason, listed := topo.Region.NotDrawn[code]
		switch {
		case !slices.Contains(protocol.Countries, code):
			t.Errorf("region code %s is not one the fact sheet allows", code)
		case shapes[code] && listed:
			t.Errorf("%s has a shape and a reason not to be drawn (%q)", code, reason)
		case !shapes[code] && strings.TrimSpace(reason) == "":
			t.Errorf("%s has no shape and no reason in region.not_drawn", code)
		}
	}
	for code := range topo.Region.NotDrawn {
		if !slices.Contains(topo.Region.Codes, code) {
			t.Errorf("not_drawn lists %s, which is not in the region", code)
		}
	}
	tr := topo.Transform
	for i, arc := range topo.Arcs {
		if len(arc) < 2 {
			t.Fatalf("arc %d has %d points", i, len(arc))
		}
		var x, y int64
		for _, p := range arc {
			x, y = x+p[0], y+p[1]
			lon, lat := float64(x)*tr.Scale[0]+tr.Translate[0], float64(y)*tr.Scale[1]+tr.Translate[1]
			if math.Abs(lon) > 180+1e-9 || math.Abs(lat) > 90+1e-9 {
				t.Fatalf("arc %d reaches (%v, %v)", i, lon, lat)
			}
		}
	}
	for _, eu := range []string{"IT", "DE", "FR", "ES", "PL", "XK", "CY", "MT"} {
		if !shapes[eu] {
			t.Errorf("no shape for %s", eu)
		}
	}
}

// mapPlace is one place of the gazetteer.
type mapPlace struct {
	name     string
	lat, lon float64
}

// readGazetteer parses static/map/places.txt the way map.js does: by
// country, then by normalised name, the first (most populous) of a name.
func readGazetteer(t *testing.T) map[string]map[string]mapPlace {
	t.Helper()
	raw, err := staticFS.ReadFile("static/map/places.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > maxPlacesBytes {
		t.Errorf("places.txt is %d bytes; keep it under %d (raise the population threshold in web/mapdata)", len(raw), maxPlacesBytes)
	}
	if !bytes.Contains(raw, []byte("GeoNames")) || !bytes.Contains(raw, []byte("CC BY 4.0")) {
		t.Error("places.txt does not carry its attribution (GeoNames, CC BY 4.0)")
	}
	out := map[string]map[string]mapPlace{}
	var country map[string]mapPlace
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "="):
			cc := line[1:]
			if out[cc] != nil || !slices.Contains(protocol.Countries, cc) {
				t.Fatalf("places.txt:%d: country %q again or unknown", n, cc)
			}
			country = map[string]mapPlace{}
			out[cc] = country
		default:
			f := strings.Split(line, "\t")
			if len(f) != 3 || country == nil || f[0] == "" {
				t.Fatalf("places.txt:%d: %q is not name, latitude, longitude", n, line)
			}
			lat, err1 := strconv.ParseFloat(f[1], 64)
			lon, err2 := strconv.ParseFloat(f[2], 64)
			if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
				t.Fatalf("places.txt:%d: coordinates %q, %q", n, f[1], f[2])
			}
			key := placename.Normal(f[0])
			if _, dup := country[key]; dup {
				t.Errorf("places.txt:%d: %q again in its country (the program keeps one per name)", n, f[0])
				continue
			}
			country[key] = mapPlace{f[0], lat, lon}
		}
	}
	if len(out) < 40 {
		t.Fatalf("places.txt holds %d countries", len(out))
	}
	return out
}

// findPlaces is map.js's findPlaces: the whole name, or else the parts
// of a list.
func findPlaces(gaz map[string]map[string]mapPlace, country, city string) []mapPlace {
	g := gaz[country]
	if p, ok := g[placename.Normal(city)]; ok {
		return []mapPlace{p}
	}
	var out []mapPlace
	for _, part := range regexp.MustCompile(`[,;]`).Split(city, -1) {
		if p, ok := g[placename.Normal(part)]; ok && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// demoNotPlaced are the demo catalogue's cities the gazetteer does not
// find, and why. The map's legend lists them under "the gazetteer has no
// place of that name"; a new one here needs a look, and usually a line
// in web/mapdata/aliases.txt (Milano, Venezia and Gothenburg were here
// before it).
var demoNotPlaced = map[string]string{}

// TestMapGazetteer checks the gazetteer parses, with coordinates in range
// and one place per country and name, that every demo sheet's country is
// drawn, and that its city is found in the gazetteer of that country, but
// for those demoNotPlaced names with the reason.
func TestMapGazetteer(t *testing.T) {
	gaz := readGazetteer(t)
	topo := readTopology(t)
	files, err := fs.Glob(demo.Sheets, "sheets/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo sheets: %v", err)
	}
	notFound := map[string]bool{}
	cities := 0
	for _, f := range files {
		raw, _ := demo.Sheets.ReadFile(f)
		s, err := protocol.ParseSheet(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !slices.Contains(topo.Region.Codes, s.Country) || topo.Region.NotDrawn[s.Country] != "" {
			t.Errorf("%s: country %s is not drawn on the map", path.Base(f), s.Country)
		}
		if s.City == "" {
			continue
		}
		cities++
		key := s.Country + "/" + s.City
		if len(findPlaces(gaz, s.Country, s.City)) == 0 {
			notFound[key] = true
			if demoNotPlaced[key] == "" {
				t.Errorf("%s: the gazetteer has no %q in %s; say why in demoNotPlaced, or fix the data", path.Base(f), s.City, s.Country)
			}
		}
	}
	for key := range demoNotPlaced {
		if !notFound[key] {
			t.Errorf("demoNotPlaced lists %s, which is now found or no longer in the demo", key)
		}
	}
	if cities < 10 {
		t.Fatalf("only %d demo sheets give a city", cities)
	}
	// A list of places is placed at each: Palermo, Termini Imerese, Mazara del Vallo.
	if got := findPlaces(gaz, "IT", "Palermo, Termini Imerese, Mazara del Vallo"); len(got) != 3 {
		t.Errorf("a list of three Sicilian towns finds %v", got)
	}
	// The aliases of web/mapdata/aliases.txt find their place.
	for _, c := range [][3]string{{"IT", "Milano", "Milan"}, {"IT", "Venezia", "Venice"}, {"SE", "Gothenburg", "Göteborg"}} {
		alias, name := findPlaces(gaz, c[0], c[1]), findPlaces(gaz, c[0], c[2])
		if len(alias) != 1 || len(name) != 1 || alias[0].lat != name[0].lat || alias[0].lon != name[0].lon {
			t.Errorf("%s/%s finds %v, %s finds %v", c[0], c[1], alias, c[2], name)
		}
	}
	// Diacritics and their variants match: Constanța (comma below) is
	// GeoNames' Constanţa (cedilla).
	if got := findPlaces(gaz, "RO", "Constanța"); len(got) != 1 || math.Abs(got[0].lat-44.18) > 0.1 {
		t.Errorf("Constanța finds %v", got)
	}
}

// TestVendoredLibraries checks each vendored library has its licence and
// that none of their code reaches the network or builds code or markup
// from strings.
func TestVendoredLibraries(t *testing.T) {
	dirs, err := fs.ReadDir(staticFS, "static/vendor")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := regexp.MustCompile(`\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts|\bimport\(|\beval\(|new Function\(|innerHTML|outerHTML|document\.write`)
	libs := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		libs++
		dir := "static/vendor/" + d.Name()
		if _, err := fs.Stat(staticFS, dir+"/LICENSE.txt"); err != nil {
			t.Errorf("%s has no LICENSE.txt", dir)
		}
		err := fs.WalkDir(staticFS, dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || (path.Ext(p) != ".js" && path.Ext(p) != ".mjs") {
				return err
			}
			src, _ := staticFS.ReadFile(p)
			if loc := forbidden.FindIndex(src); loc != nil {
				t.Errorf("%s has %q", p, src[loc[0]:loc[1]])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if libs < 3 {
		t.Errorf("static/vendor holds %d libraries, want d3-array, d3-geo and topojson-client", libs)
	}
}
