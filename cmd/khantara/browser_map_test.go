package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/khantara/khantara/search"
)

// TestBrowserMap drives the map view in a headless Chromium against a
// real daemon holding the demo catalogue: the counts per country and per
// place (from the API's facets, not written here), the data table and the
// legend with its count of practices placed each way, the point of a
// sheet's location (drawn there, not at its city), a click on a country
// and Enter on a place (each filters the search), the arc hook with arcs the test builds from the API's places
// and the served gazetteer, the arcs of a demo federation's adaptations
// (checkDemoArcs, a browser of its own), and no request beyond the
// daemon. It saves a screenshot at desktop width and one at 360 px.
func TestBrowserMap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs a daemon and a browser")
	}
	chrome := findChromium(t)
	bin := buildKhantara(t)
	deadline := time.Now().Add(60 * time.Second)
	sheets, _ := filepath.Glob("../../demo/sheets/*.yaml")
	home := t.TempDir()
	d := startDaemon(t, bin, "node", home, deadline)
	expect(t, bin, 0, nil, "import", "../../demo/sheets", "--home", home)
	var all search.Result
	waitFor(t, deadline, "the index to hold the catalogue", []*daemon{d}, func() bool {
		return d.do(http.MethodGet, "/api/v1/search?limit=1", "", &all) == nil && all.Total == len(sheets)
	})
	if len(all.Facets["country"]) < 5 || len(all.Facets["city"]) < 5 || len(all.Facets["place"]) < 5 {
		t.Fatalf("the demo catalogue has %d countries, %d cities and %d places; the test needs more",
			len(all.Facets["country"]), len(all.Facets["city"]), len(all.Facets["place"]))
	}
	b := startBrowser(t, chrome, "http://"+d.api)
	shots := t.TempDir()

	t.Run("counts", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/map", "map")
		checkMapCounts(t, b, all)
		b.saveShot(t, shots, "map-desktop")
	})

	t.Run("location", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/map", "map")
		checkMapLocation(t, b, d, all)
	})

	t.Run("click a country", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/map", "map")
		cc := all.Facets["country"][0]
		x, y := b.pointIn(t, fmt.Sprintf(`#map path.country[data-code="%s"]`, cc.Value))
		b.interact(t, "click "+cc.Value, "search", chromedp.MouseClickXY(x, y))
		if h := b.hash(t); h != "#/search?country="+cc.Value {
			t.Errorf("the click went to %q, want the search of country %s", h, cc.Value)
		}
		if got := firstInt(t, b.text(t, "#result-count")); got != cc.Count {
			t.Errorf("the search of %s shows %d practices, the API %d", cc.Value, got, cc.Count)
		}
		// The map in the navigation is now the map of that search.
		b.interact(t, "follow the navigation's map", "map", chromedp.Click(chromedp.CSS(`a[data-nav="map"]`)))
		if h := b.hash(t); h != "#/map?country="+cc.Value {
			t.Errorf("the navigation's map went to %q, want the map of country %s", h, cc.Value)
		}
		if paths := b.attrs(t, "#map path.country.has", "data-code"); !slices.Equal(paths, []string{cc.Value}) {
			t.Errorf("the map of country=%s colours %v", cc.Value, paths)
		}
	})

	t.Run("enter on a place", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/map?country=DE", "map")
		var de search.Result
		if err := d.do(http.MethodGet, "/api/v1/search?limit=1&country=DE", "", &de); err != nil {
			t.Fatal(err)
		}
		if paths := b.attrs(t, "#map path.country.has", "data-code"); !slices.Equal(paths, []string{"DE"}) {
			t.Errorf("the map of country=DE colours %v, want [DE]", paths)
		}
		city := de.Facets["place"][0]
		key := city.Value
		b.interact(t, "press Enter on "+key, "search",
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('#map circle.point[data-key=%s]').focus()`, jsString(key))),
			chromedp.KeyEvent("\r"))
		if got := firstInt(t, b.text(t, "#result-count")); got != city.Count {
			t.Errorf("the search of %s shows %d practices, the API %d", key, got, city.Count)
		}
		if h := b.hash(t); !strings.Contains(h, "place=") {
			t.Errorf("Enter on %s went to %q, not a search by place", key, h)
		}
	})

	t.Run("arcs", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/map", "map")
		arcs := testArcs(t, d, all)
		js := fmt.Sprintf(`import('/assets/map.js').then(m => m.drawArcs(document.querySelector('#map svg'), %s))`, jsValue(arcs))
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
		if err != nil || n != len(arcs) {
			t.Fatalf("drawArcs drew %d arcs (%v), want %d", n, err, len(arcs))
		}
		got := b.attrs(t, "#map path.arc", "data-from", "data-to")
		var want []string
		for _, a := range arcs {
			want = append(want, a.From.Country+"/"+a.From.City, a.To.Country+"/"+a.To.City)
		}
		if !slices.Equal(got, want) {
			t.Errorf("arcs %v, want %v", got, want)
		}
		if d := b.attrs(t, "#map path.arc", "d"); len(d) != len(arcs) || slices.Contains(d, "") {
			t.Errorf("arc paths %q: want %d drawn", d, len(arcs))
		}
		b.saveShot(t, shots, "map-arcs")
	})

	t.Run("demo arcs", func(t *testing.T) {
		checkDemoArcs(t, chrome, shots)
	})

	t.Run("narrow", func(t *testing.T) {
		b.begin(t)
		b.do(t, "narrow the window", chromedp.EmulateViewport(360, 800))
		b.load(t, "#/map", "map")
		checkMapCounts(t, b, all)
		if w := evalJS[float64](t, b, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("the map view is %v px wide in a 360 px window", w)
		}
		if w := evalJS[float64](t, b, `document.querySelector('#map svg').getBoundingClientRect().width`); w < 300 || w > 360 {
			t.Errorf("the map is %v px wide in a 360 px window", w)
		}
		b.saveShot(t, shots, "map-360")
		b.do(t, "widen the window", chromedp.EmulateViewport(1280, 900))
	})
}

// checkMapCounts compares the map with the API's facets: one coloured,
// focusable country per country facet value, named with its count; one
// table row per country with its count; the legend's reasons adding up to
// the total; each place's count at least its city facet count.
func checkMapCounts(t *testing.T, b *browser, all search.Result) {
	t.Helper()
	want := map[string]int{}
	for _, fv := range all.Facets["country"] {
		want[fv.Value] = fv.Count
	}
	drawn := map[string]bool{}
	for _, c := range b.attrs(t, "#map path.country", "data-code") {
		drawn[c] = true
	}
	kv := b.attrs(t, "#map path.country.has", "data-code", "aria-label", "tabindex")
	got := map[string]int{}
	for i := 0; i+2 < len(kv); i += 3 {
		got[kv[i]] = firstInt(t, strings.SplitN(kv[i+1], ":", 2)[1])
		if kv[i+2] != "0" {
			t.Errorf("country %s is not focusable (tabindex %q)", kv[i], kv[i+2])
		}
	}
	for cc, n := range want {
		if drawn[cc] && got[cc] != n {
			t.Errorf("country %s: the map says %d practices, the API %d", cc, got[cc], n)
		}
		row := fmt.Sprintf(`#map-table tr[data-country="%s"] td`, cc)
		if cells := evalJS[[]string](t, b, fmt.Sprintf(`Array.from(document.querySelectorAll(%s), td => td.innerText)`, jsString(row))); len(cells) != 3 || firstInt(t, cells[0]) != n {
			t.Errorf("table row of %s: %q, want %d practices first", cc, cells, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the map colours %d countries, the API has %d", len(got), len(want))
	}
	sum := 0
	legend := map[string]int{}
	for _, reason := range []string{"location", "city", "no-city", "not-in-gazetteer", "country-not-drawn", "off-map"} {
		legend[reason] = firstInt(t, b.text(t, fmt.Sprintf(`#map-placement li[data-reason="%s"]`, reason)))
		sum += legend[reason]
	}
	if sum != all.Total {
		t.Errorf("the legend accounts for %d practices, the catalogue has %d", sum, all.Total)
	}
	// The API's place facet says how many sheets give a location, and how
	// many of those give a city too (counted by location, not city).
	located := 0
	for _, fv := range all.Facets["place"] {
		if fv.Value[2] == '@' {
			located += fv.Count
		}
	}
	if legend["location"]+legend["off-map"] < located || legend["location"] == 0 && located > 0 {
		t.Errorf("the legend places %d practices at their location (%d off the map), the API has %d with a location",
			legend["location"], legend["off-map"], located)
	}
	if legend["location"]+legend["city"]+legend["off-map"]+legend["not-in-gazetteer"] != placeTotal(all) {
		t.Errorf("the legend places %d by location, %d by city, %d off the map and misses %d; the place facet counts %d",
			legend["location"], legend["city"], legend["off-map"], legend["not-in-gazetteer"], placeTotal(all))
	}
	points := b.attrs(t, "#map circle.point", "data-key", "data-count", "role")
	if len(points) < 3*5 {
		t.Fatalf("the map shows %d places, want at least 5", len(points)/3)
	}
	count := map[string]int{}
	for i := 0; i+2 < len(points); i += 3 {
		count[points[i]], _ = strconv.Atoi(points[i+1])
		if points[i+2] != "link" {
			t.Errorf("place %s has role %q, want link", points[i], points[i+2])
		}
	}
	for _, fv := range all.Facets["place"] {
		if n, ok := count[fv.Value]; ok && n < fv.Count {
			t.Errorf("place %s shows %d practices, the API counts %d there", fv.Value, n, fv.Count)
		}
	}
}

// placeTotal is the number of practices the API's place facet counts.
func placeTotal(all search.Result) int {
	n := 0
	for _, fv := range all.Facets["place"] {
		n += fv.Count
	}
	return n
}

// checkMapLocation checks the points of sheets that give a location: one
// circle per location value of the place facet, ringed (class located),
// where the projection puts the location, not its sheet's city; its
// label names the coordinates; Enter on it searches that place and finds
// the practices the API counts there.
func checkMapLocation(t *testing.T, b *browser, d *daemon, all search.Result) {
	t.Helper()
	var loc search.FacetValue
	for _, fv := range all.Facets["place"] {
		if fv.Value[2] == '@' {
			loc = fv
			break
		}
	}
	if loc.Value == "" {
		t.Fatal("no demo sheet gives a location (demo/sheets/re-lab-venezia.yaml should)")
	}
	sel := fmt.Sprintf(`#map circle.point[data-key=%s]`, jsString(loc.Value))
	got := b.attrs(t, sel, "class", "data-by", "data-count", "aria-label")
	coords := strings.Replace(loc.Value[3:], ",", ", ", 1)
	if len(got) != 4 || got[0] != "point located" || got[1] != "location" || got[2] != strconv.Itoa(loc.Count) ||
		!strings.Contains(got[3], "Location "+coords) {
		t.Fatalf("the point of %s: %q", loc.Value, got)
	}
	if n := len(b.attrs(t, `#map circle.point.located`, "data-key")); n != 1 {
		t.Errorf("%d ringed points, want the one location of the demo", n)
	}
	// Drawn where the projection puts the location: compare with map.js's
	// own projection of it, through drawMap of a one-point map.
	lat, lon, _ := strings.Cut(loc.Value[3:], ",")
	js := fmt.Sprintf(`import('/assets/map.js').then(async m => {
		const data = await m.loadMapData();
		const svg = m.drawMap(data, {title: 't', countries: {}, points: [{key: 'k', lat: %s, lon: %s, count: 1, label: 'k', hash: '#', by: 'location'}], classOf: () => 'q0', onActivate: () => {}});
		const c = svg.querySelector('circle.point');
		return [c.getAttribute('cx'), c.getAttribute('cy')];
	})`, lat, lon)
	want, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if xy := b.attrs(t, sel, "cx", "cy"); !slices.Equal(xy, want) {
		t.Errorf("the point of %s is at %v, its location projects to %v", loc.Value, xy, want)
	}
	// The sheet's city is not also a point of its own practice.
	var placed search.Result
	if err := d.do(http.MethodGet, "/api/v1/search?limit=1&place="+url.QueryEscape(loc.Value), "", &placed); err != nil || placed.Total != loc.Count {
		t.Fatalf("search of place %s: %d, %v", loc.Value, placed.Total, err)
	}
	b.interact(t, "press Enter on "+loc.Value, "search",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).focus()`, jsString(sel))),
		chromedp.KeyEvent("\r"))
	if got := firstInt(t, b.text(t, "#result-count")); got != loc.Count {
		t.Errorf("the search of %s shows %d practices, the API %d", loc.Value, got, loc.Count)
	}
}

// mapEnd is one end of an arc, as drawArcs takes it.
type mapEnd struct {
	Country string  `json:"country"`
	City    string  `json:"city"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
}

// mapArc is one arc, as drawArcs takes it.
type mapArc struct {
	From mapEnd `json:"from"`
	To   mapEnd `json:"to"`
}

// testArcs builds arcs between the first three cities of the API's city
// facet that the gazetteer the daemon serves names exactly.
func testArcs(t *testing.T, d *daemon, all search.Result) []mapArc {
	t.Helper()
	res, err := d.client.Get("http://" + d.api + "/assets/map/places.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	coords := readGazetteer(t, res.Body)
	var ends []mapEnd
	for _, fv := range all.Facets["city"] {
		cc, city, _ := strings.Cut(fv.Value, "/")
		if c, ok := coords[cc+"/"+city]; ok {
			ends = append(ends, mapEnd{Country: cc, City: city, Lat: c[0], Lon: c[1]})
		}
	}
	if len(ends) < 3 {
		t.Fatalf("only %d of the catalogue's cities are in the gazetteer", len(ends))
	}
	return []mapArc{{ends[0], ends[1]}, {ends[0], ends[2]}, {ends[1], ends[2]}}
}

// readGazetteer reads places.txt: "CC/name" to latitude and longitude.
func readGazetteer(t *testing.T, r io.Reader) map[string][2]float64 {
	t.Helper()
	out := map[string][2]float64{}
	cc := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "="):
			cc = line[1:]
		default:
			f := strings.Split(line, "\t")
			lat, err1 := strconv.ParseFloat(f[1], 64)
			lon, err2 := strconv.ParseFloat(f[2], 64)
			if len(f) != 3 || err1 != nil || err2 != nil {
				t.Fatalf("gazetteer line %q", line)
			}
			if _, dup := out[cc+"/"+f[0]]; !dup {
				out[cc+"/"+f[0]] = [2]float64{lat, lon}
			}
		}
	}
	if err := sc.Err(); err != nil || len(out) < 1000 {
		t.Fatalf("read the gazetteer: %d places, %v", len(out), err)
	}
	return out
}

// pointIn returns a point of the viewport inside the shape sel, where a
// click reaches that shape.
func (b *browser) pointIn(t *testing.T, sel string) (float64, float64) {
	t.Helper()
	xy := evalJS[[]float64](t, b, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el) return [];
		el.scrollIntoView({block: 'center'});
		const r = el.getBoundingClientRect();
		for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
			const x = r.left + r.width * i / 20, y = r.top + r.height * j / 20;
			if (document.elementFromPoint(x, y) === el) return [x, y];
		}
		return [];
	})()`, jsString(sel)))
	if len(xy) != 2 {
		t.Fatalf("found no point of %s that a click reaches", sel)
	}
	return xy[0], xy[1]
}

// saveShot saves a screenshot of the whole page in dir and, when
// KHANTARA_SCREENSHOTS names a folder, there too.
func (b *browser) saveShot(t *testing.T, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // quality 100: a PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, d := range []string{dir, b.shots} {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}
}
