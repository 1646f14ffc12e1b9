package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Reduction of world-atlas's countries-50m.json to the map's region.
const (
	atlasFile = "countries-50m.json"
	// tolerance is the Douglas–Peucker tolerance in degrees: about 2 km,
	// under a pixel on a map of Europe 1,000 pixels wide.
	tolerance = 0.02
	// quanta is the number of quantisation steps across the region's
	// longitudes and latitudes (TopoJSON transform).
	quanta = 100000
)

type transform struct {
	Scale     [2]float64 `json:"scale"`
	Translate [2]float64 `json:"translate"`
}

type geometry struct {
	Type       string            `json:"type"`
	ID         string            `json:"id,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
	Arcs       json.RawMessage   `json:"arcs,omitempty"`
}

type topology struct {
	Type      string `json:"type"`
	Transform transform
	Objects   map[string]struct {
		Geometries []geometry `json:"geometries"`
	} `json:"objects"`
	Arcs [][][]float64 `json:"arcs"`
}

// regionInfo is the foreign member "region" of countries.json: what the
// map covers, which codes it cannot draw and why, and where the shapes
// come from.
type regionInfo struct {
	Codes    []string          `json:"codes"`
	NotDrawn map[string]string `json:"not_drawn"`
	Source   string            `json:"source"`
}

type outGeometry struct {
	Type       string            `json:"type"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	Arcs       any               `json:"arcs"`
}

type outTopology struct {
	Type      string     `json:"type"`
	Region    regionInfo `json:"region"`
	Transform transform  `json:"transform"`
	Objects   struct {
		Countries struct {
			Type       string        `json:"type"`
			Geometries []outGeometry `json:"geometries"`
		} `json:"countries"`
	} `json:"objects"`
	Arcs [][][2]int64 `json:"arcs"`
}

// country is one shape of the region: polygons of rings of arc indices
// (TopoJSON's: ^i is arc i reversed).
type country struct {
	code, name string
	polygons   [][][]int
}

// numericToAlpha2 reads i18n-iso-countries's codes.json: [alpha-2,
// alpha-3, numeric, ...] rows.
func numericToAlpha2(dir string) (map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "codes.json"))
	if err != nil {
		return nil, err
	}
	var rows [][]string
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("codes.json: %w", err)
	}
	m := map[string]string{}
	for _, r := range rows {
		if len(r) >= 3 {
			m[r[2]] = r[0]
		}
	}
	return m, nil
}

// regionCountries picks the region's shapes out of the atlas, merging
// shapes filed under one code.
func regionCountries(t *topology, alpha2 map[string]string) ([]*country, error) {
	want := map[string]bool{}
	for _, c := range region {
		want[c] = notDrawn[c] == ""
	}
	byCode := map[string]*country{}
	for _, g := range t.Objects["countries"].Geometries {
		code := alpha2[g.ID]
		if g.ID == "" {
			code = unnumbered[g.Properties["name"]]
		}
		if !want[code] {
			continue
		}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return nil, fmt.Errorf("%s: %w", code, err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return nil, fmt.Errorf("%s: %w", code, err)
			}
		default:
			return nil, fmt.Errorf("%s: geometry type %q", code, g.Type)
		}
		c := byCode[code]
		if c == nil {
			c = &country{code: code}
			byCode[code] = c
		}
		if g.ID != "" {
			c.name = g.Properties["name"]
		}
		c.polygons = append(c.polygons, polys...)
	}
	var out []*country
	for _, code := range region {
		if c := byCode[code]; c != nil {
			out = append(out, c)
		} else if want[code] {
			return nil, fmt.Errorf("no shape for %s in %s: give a reason in notDrawn", code, atlasFile)
		}
	}
	return out, nil
}

// writeCountries writes the region's countries as TopoJSON, keyed by
// alpha-2 code, simplified and quantised anew.
func writeCountries(atlasDir, codesDir, source, out string) error {
	raw, err := os.ReadFile(filepath.Join(atlasDir, atlasFile))
	if err != nil {
		return err
	}
	var t topology
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("%s: %w", atlasFile, err)
	}
	alpha2, err := numericToAlpha2(codesDir)
	if err != nil {
		return err
	}
	countries, err := regionCountries(&t, alpha2)
	if err != nil {
		return err
	}
	arcs := absoluteArcs(&t)
	// Renumber the arcs the region uses, in order of first use.
	renum := map[int]int{}
	var used [][][2]float64
	for _, c := range countries {
		for _, poly := range c.polygons {
			for _, ring := range poly {
				for i, a := range ring {
					idx, rev := a, false
					if a < 0 {
						idx, rev = ^a, true
					}
					n, ok := renum[idx]
					if !ok {
						n = len(used)
						renum[idx] = n
						used = append(used, arcs[idx])
					}
					if rev {
						n = ^n
					}
					ring[i] = n
				}
			}
		}
	}
	simplified := simplifyArcs(used, countries)
	tr, qarcs := quantise(simplified)
	o := outTopology{
		Type: "Topology",
		Region: regionInfo{Codes: region, NotDrawn: notDrawn,
			Source: "Natural Earth 1:50m Admin 0 countries (public domain) from " + source},
		Transform: tr,
		Arcs:      qarcs,
	}
	geoms := make([]outGeometry, 0, len(countries))
	for _, c := range countries {
		g := outGeometry{Type: "MultiPolygon", ID: c.code, Properties: map[string]string{"name": c.name}, Arcs: c.polygons}
		if len(c.polygons) == 1 {
			g.Type, g.Arcs = "Polygon", c.polygons[0]
		}
		geoms = append(geoms, g)
	}
	o.Objects.Countries.Type = "GeometryCollection"
	o.Objects.Countries.Geometries = geoms
	body, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return os.WriteFile(out, body, 0o644)
}

// absoluteArcs decodes the atlas's delta-encoded, quantised arcs to
// longitudes and latitudes.
func absoluteArcs(t *topology) [][][2]float64 {
	out := make([][][2]float64, len(t.Arcs))
	for i, arc := range t.Arcs {
		var x, y float64
		pts := make([][2]float64, len(arc))
		for j, p := range arc {
			x += p[0]
			y += p[1]
			pts[j] = [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]}
		}
		out[i] = pts
	}
	return out
}

// simplifyArcs simplifies each arc with Douglas–Peucker, keeping its ends
// (shared with the neighbouring arcs, so borders stay shared). A ring
// that would have fewer than four points keeps its arcs whole.
func simplifyArcs(arcs [][][2]float64, countries []*country) [][][2]float64 {
	out := make([][][2]float64, len(arcs))
	for i, a := range arcs {
		out[i] = douglasPeucker(a, tolerance)
	}
	for _, c := range countries {
		for _, poly := range c.polygons {
			for _, ring := range poly {
				n := 1
				for _, a := range ring {
					n += len(out[arcIndex(a)]) - 1
				}
				if n < 4 {
					for _, a := range ring {
						out[arcIndex(a)] = arcs[arcIndex(a)]
					}
				}
			}
		}
	}
	return out
}

func arcIndex(a int) int {
	if a < 0 {
		return ^a
	}
	return a
}

// douglasPeucker keeps the points of pts that lie farther than tol from
// the chord of the points kept around them.
func douglasPeucker(pts [][2]float64, tol float64) [][2]float64 {
	if len(pts) < 3 {
		return pts
	}
	keep := make([]bool, len(pts))
	keep[0], keep[len(pts)-1] = true, true
	var rec func(lo, hi int)
	rec = func(lo, hi int) {
		best, at := 0.0, -1
		for i := lo + 1; i < hi; i++ {
			if d := segmentDistance(pts[i], pts[lo], pts[hi]); d > best {
				best, at = d, i
			}
		}
		if at >= 0 && best > tol {
			keep[at] = true
			rec(lo, at)
			rec(at, hi)
		}
	}
	rec(0, len(pts)-1)
	var out [][2]float64
	for i, p := range pts {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out
}

// segmentDistance is the distance from p to the segment a–b, in degrees.
func segmentDistance(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

// quantise delta-encodes arcs on a grid of quanta steps across their
// bounding box, dropping points that fall on the previous one (an arc
// keeps at least two).
func quantise(arcs [][][2]float64) (transform, [][][2]int64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, a := range arcs {
		for _, p := range a {
			x0, y0 = math.Min(x0, p[0]), math.Min(y0, p[1])
			x1, y1 = math.Max(x1, p[0]), math.Max(y1, p[1])
		}
	}
	kx, ky := (x1-x0)/(quanta-1), (y1-y0)/(quanta-1)
	tr := transform{Scale: [2]float64{kx, ky}, Translate: [2]float64{x0, y0}}
	out := make([][][2]int64, len(arcs))
	for i, a := range arcs {
		var px, py int64
		for j, p := range a {
			qx, qy := int64(math.Round((p[0]-x0)/kx)), int64(math.Round((p[1]-y0)/ky))
			if j > 0 && qx == px && qy == py && j < len(a)-1 {
				continue
			}
			if j == 0 {
				out[i] = append(out[i], [2]int64{qx, qy})
			} else {
				out[i] = append(out[i], [2]int64{qx - px, qy - py})
			}
			px, py = qx, qy
		}
	}
	return tr, out
}
