package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// webPractice is what the arcs test reads of a practice's record.
type webPractice struct {
	Kind     string `json:"kind"`
	Practice *struct {
		Country  string `json:"country"`
		City     string `json:"city"`
		Location *struct {
			Lat float64 `json:"lat"`
			Lon float64 `json:"lon"`
		} `json:"location"`
	} `json:"practice"`
}

// checkDemoArcs drives the map of a demo federation's node: one table
// row per adaptation the API lists, an arc (a path.arc, its ends in the
// countries the API names) for every adaptation to another country than
// its original's, none for one in the original's very place, as many
// arcs as rows marked drawn and the legend's counts; then the map of one
// country, whose rows are the adaptations of that country's practices;
// then a 360 px window. It saves screenshots of the map with its arcs.
func checkDemoArcs(t *testing.T, chrome, shots string) {
	w := startWebDemo(t, 2)
	b := startBrowser(t, chrome, w.base)
	b.begin(t)
	adaptations := w.adaptations(t)
	originals := map[string]webPractice{}
	for _, x := range adaptations {
		about := x.Experience.About.Publisher + "/" + x.Experience.About.ID
		if _, ok := originals[about]; !ok && x.AboutState == "held" {
			var p webPractice
			w.get(t, "/api/v1/practices/"+about, &p)
			originals[about] = p
		}
	}

	b.load(t, "#/map", "map")
	rows := map[string]string{}
	kv := b.attrs(t, "#arc-table tbody tr[data-key]", "data-key", "data-arc")
	for i := 0; i+1 < len(kv); i += 2 {
		rows[kv[i]] = kv[i+1]
	}
	arcs := map[string][2]string{}
	kv = b.attrs(t, "#map path.arc", "data-key", "data-from", "data-to")
	for i := 0; i+2 < len(kv); i += 3 {
		arcs[kv[i]] = [2]string{kv[i+1], kv[i+2]}
	}
	mustDraw := 0
	for _, x := range adaptations {
		key := x.Publisher + "/" + x.Slot
		e := x.Experience
		arc, ok := rows[key]
		if !ok {
			t.Errorf("the table lacks the adaptation %s", key)
			continue
		}
		o, held := originals[e.About.Publisher+"/"+e.About.ID]
		switch {
		case !held || o.Practice == nil:
			if arc != "not-held" {
				t.Errorf("%s: about a practice not held here, its row says %q", key, arc)
			}
		case o.Practice.Country != e.Country:
			mustDraw++
			ends, drawn := arcs[key]
			if arc != "drawn" || !drawn || !strings.HasPrefix(ends[0], o.Practice.Country+"/") || !strings.HasPrefix(ends[1], e.Country+"/") {
				t.Errorf("%s, from %s to %s: row %q, arc %v", key, o.Practice.Country, e.Country, arc, ends)
			}
		case o.Practice.City == e.City && o.Practice.Location == nil:
			if _, drawn := arcs[key]; arc != "same-place" || drawn {
				t.Errorf("%s, in the original's place (%s, %q): row %q, drawn %v", key, e.Country, e.City, arc, drawn)
			}
		}
	}
	if len(rows) != len(adaptations) {
		t.Errorf("the table has %d adaptations, the API %d", len(rows), len(adaptations))
	}
	if mustDraw == 0 {
		t.Fatal("no demo adaptation goes to another country than its original's: the test checks no arc")
	}
	drawnRows := 0
	for _, a := range rows {
		if a == "drawn" {
			drawnRows++
		}
	}
	if len(arcs) != drawnRows {
		t.Errorf("%d arcs drawn, %d rows say drawn", len(arcs), drawnRows)
	}
	if legend := b.attrs(t, "#map-arcs-legend", "data-drawn", "data-adaptations"); !slices.Equal(legend, []string{fmt.Sprint(len(arcs)), fmt.Sprint(len(adaptations))}) {
		t.Errorf("the legend counts %v, the map %d arcs of %d adaptations", legend, len(arcs), len(adaptations))
	}
	if d := b.attrs(t, "#map path.arc", "d"); slices.Contains(d, "") {
		t.Errorf("an arc has no path: %q", d)
	}
	b.saveShot(t, shots, "map-arcs-demo")

	// The map of one country has the adaptations of its practices only.
	cc := ""
	want := map[string]bool{}
	for _, x := range adaptations {
		o := originals[x.Experience.About.Publisher+"/"+x.Experience.About.ID]
		if o.Practice != nil && o.Practice.Country != x.Experience.Country {
			cc = o.Practice.Country
			break
		}
	}
	for _, x := range adaptations {
		if o := originals[x.Experience.About.Publisher+"/"+x.Experience.About.ID]; o.Practice != nil && o.Practice.Country == cc {
			want[x.Publisher+"/"+x.Slot] = true
		}
	}
	b.load(t, "#/map?country="+cc, "map")
	got := b.attrs(t, "#arc-table tbody tr[data-key]", "data-key")
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(maps.Keys(want))) {
		t.Errorf("the map of %s lists the adaptations %v, want %v", cc, got, slices.Sorted(maps.Keys(want)))
	}
	if n := len(b.attrs(t, "#map path.arc", "data-key")); n == 0 || n > len(want) {
		t.Errorf("the map of %s draws %d arcs for %d adaptations", cc, n, len(want))
	}
	b.saveShot(t, shots, "map-arcs-"+cc)

	b.do(t, "narrow the window", chromedp.EmulateViewport(360, 800))
	b.load(t, "#/map", "map")
	if got := evalJS[float64](t, b, `document.documentElement.scrollWidth`); got > 360 {
		t.Errorf("the map with its arcs and their table is %v px wide in a 360 px window", got)
	}
	b.saveShot(t, shots, "map-arcs-360")
}
