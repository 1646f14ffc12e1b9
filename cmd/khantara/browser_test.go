package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/search"
)

const (
	// browserWait bounds every wait for the page: a view to be ready, a
	// text to appear.
	browserWait = 10 * time.Second
	// browserAction bounds one command sent to the browser.
	browserAction = 10 * time.Second
	// webPageSize is the number of cards on one page of results.
	webPageSize = 20
)

// TestBrowser drives the daemon's web page in a headless Chromium, against
// two real daemons holding the demo catalogue: search, facets, a practice
// and its translation, charts and the network panel. Expected answers come
// from the JSON API. Every request the page makes must stay on the daemon's
// address, and no console error, exception or CSP violation may show.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs two daemons and a browser")
	}
	chrome := findChromium(t)
	bin := buildKhantara(t)
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	sheets, _ := filepath.Glob("../../demo/sheets/*.yaml")
	if len(sheets) <= webPageSize {
		t.Fatalf("need more than %d demo sheets to page through, found %d", webPageSize, len(sheets))
	}
	n := len(sheets)

	home1 := t.TempDir()
	d1 := startDaemon(t, bin, "node1", home1, deadline)
	d2 := startDaemon(t, bin, "node2", t.TempDir(), deadline, d1.status.Addrs...)
	ds := []*daemon{d1, d2}
	expect(t, bin, 0, nil, "import", "../../demo/sheets", "--home", home1)
	waitFor(t, deadline, "node1's index to hold the catalogue", ds, func() bool {
		var res search.Result
		return d1.do(http.MethodGet, "/api/v1/search?limit=1", "", &res) == nil && res.Total == n
	})
	waitFor(t, deadline, "node2 to sync the catalogue", ds, func() bool {
		st, err := d2.getStatus()
		return err == nil && st.Practices == uint64(n)
	})
	t.Logf("two daemons with %d practices after %v", n, time.Since(start).Round(time.Millisecond))

	b := startBrowser(t, chrome, "http://"+d1.api)
	apiGet := func(t *testing.T, path string, out any) {
		t.Helper()
		if err := d1.do(http.MethodGet, path, "", out); err != nil {
			t.Fatal(err)
		}
	}
	searchAPI := func(t *testing.T, query string) search.Result {
		t.Helper()
		var res search.Result
		apiGet(t, "/api/v1/search?limit=1000&"+query, &res)
		return res
	}

	t.Run("search", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/", "search")
		if got := firstInt(t, b.text(t, "#result-count")); got != n {
			t.Errorf("#result-count says %d, the catalogue has %d", got, n)
		}
		first := b.attrs(t, "ol#results > li.card", "data-id")
		if len(first) != webPageSize {
			t.Errorf("the first page has %d cards, want %d", len(first), webPageSize)
		}
		b.checkCardLinks(t)
		info := b.text(t, "#page-info")
		b.interact(t, "click #next", "search", chromedp.Click(chromedp.CSS("#next")))
		second := b.attrs(t, "ol#results > li.card", "data-id")
		if len(second) != min(webPageSize, n-webPageSize) || slices.ContainsFunc(second, func(id string) bool { return slices.Contains(first, id) }) {
			t.Errorf("page 2 has cards %v, want %d others than page 1's %v", second, min(webPageSize, n-webPageSize), first)
		}
		if b.text(t, "#page-info") == info {
			t.Errorf("#page-info still says %q on page 2", info)
		}
		b.interact(t, "click #prev", "search", chromedp.Click(chromedp.CSS("#prev")))
		if back := b.attrs(t, "ol#results > li.card", "data-id"); !slices.Equal(back, first) {
			t.Errorf("back on page 1 the cards are %v, were %v", back, first)
		}

		want := searchAPI(t, "q=integrazione")
		b.interact(t, "search for integrazione", "search",
			b.clear("#q"),
			chromedp.SendKeys(chromedp.CSS("#q"), "integrazione"),
			chromedp.Click(chromedp.CSS(submitButton)))
		if got := firstInt(t, b.text(t, "#result-count")); got != want.Total {
			t.Errorf("#result-count says %d for integrazione, the API %d", got, want.Total)
		}
		ids := b.attrs(t, "ol#results > li.card", "data-id")
		if !slices.Contains(ids, "al-khantara-sicilia") {
			t.Errorf("the cards for integrazione %v lack al-khantara-sicilia", ids)
		}
		if len(ids) != min(webPageSize, want.Total) {
			t.Errorf("%d cards for integrazione, want %d", len(ids), min(webPageSize, want.Total))
		}
		if h := b.hash(t); !strings.Contains(h, "q=integrazione") {
			t.Errorf("the hash %q does not hold the query", h)
		}
		b.checkCardLinks(t)

		year := map[string]int{}
		for _, h := range want.Hits {
			year[h.ID] = h.StartYear
		}
		b.interact(t, "sort by year", "search", chromedp.SetValue(chromedp.CSS("select#sort"), "year"))
		sorted := b.attrs(t, "ol#results > li.card", "data-id")
		if !slices.IsSortedFunc(sorted, func(x, y string) int { return year[x] - year[y] }) || len(sorted) != len(ids) {
			t.Errorf("sorted by year, the cards are %v; their start years %v", sorted, year)
		}
		if h := b.hash(t); !strings.Contains(h, "sort=year") || !strings.Contains(h, "q=integrazione") {
			t.Errorf("the hash %q lacks sort=year or the query", h)
		}
		b.screenshot(t, "search")
	})

	t.Run("facets", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/search?q=integrazione", "search")
		if v := evalJS[string](t, b, `document.querySelector("#q").value`); v != "integrazione" {
			t.Errorf("input#q holds %q after loading #/search?q=integrazione", v)
		}
		b.interact(t, "clear the query", "search",
			b.clear("#q"),
			chromedp.Click(chromedp.CSS(submitButton)))
		if got := firstInt(t, b.text(t, "#result-count")); got != n {
			t.Errorf("#result-count says %d without a query, want %d", got, n)
		}

		b.checkFacet(t, "country", "IT", searchAPI(t, ""))
		b.interact(t, "check country=IT", "search", chromedp.Click(chromedp.CSS(facetBox("country", "IT"))))
		b.checkFacet(t, "funding_source", "eu", searchAPI(t, "country=IT"))
		b.interact(t, "check funding_source=eu", "search", chromedp.Click(chromedp.CSS(facetBox("funding_source", "eu"))))
		for _, f := range [][2]string{{"country", "IT"}, {"funding_source", "eu"}} {
			if !evalJS[bool](t, b, fmt.Sprintf(`!!document.querySelector(%s)?.checked`, jsString(facetBox(f[0], f[1])))) {
				t.Errorf("the %s=%s box is not checked after the search", f[0], f[1])
			}
		}

		want := searchAPI(t, "country=IT&funding_source=eu")
		if want.Total == 0 || want.Total > webPageSize {
			t.Fatalf("the demo catalogue should have 1 to %d EU-funded practices in Italy, the API finds %d", webPageSize, want.Total)
		}
		if got := firstInt(t, b.text(t, "#result-count")); got != want.Total {
			t.Errorf("#result-count says %d for IT + eu, the API %d", got, want.Total)
		}
		var wantIDs []string
		for _, h := range want.Hits {
			wantIDs = append(wantIDs, h.ID)
		}
		got := b.attrs(t, "ol#results > li.card", "data-id")
		slices.Sort(wantIDs)
		slices.Sort(got)
		if !slices.Equal(got, wantIDs) {
			t.Errorf("the cards for IT + eu are %v, the API finds %v", got, wantIDs)
		}
		if h := b.hash(t); !strings.Contains(h, "country=IT") || !strings.Contains(h, "funding_source=eu") {
			t.Errorf("the hash %q lacks country=IT or funding_source=eu", h)
		}
		b.screenshot(t, "facets")
	})

	t.Run("practice", func(t *testing.T) {
		b.begin(t)
		const id = "al-khantara-sicilia"
		pub := d1.status.PeerID
		var rec api.Record
		apiGet(t, "/api/v1/practices/"+pub+"/"+id, &rec)
		if rec.Practice == nil || rec.Practice.Language != "it" || rec.Practice.Translations["en"].Title == "" {
			t.Fatalf("%s should be an Italian sheet with an English translation: %+v", id, rec.Practice)
		}
		en := rec.Practice.Translations["en"]

		b.load(t, "#/search?q=integrazione", "search")
		b.interact(t, "click the card of "+id, "practice",
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`ol#results > li.card[data-id=%q] h3 a`, id))))
		if h, want := b.hash(t), "#/practice/"+pub+"/"+id; h != want {
			t.Errorf("the hash is %q, want %q", h, want)
		}
		if got := b.attrs(t, "article#practice", "data-publisher", "data-id"); !slices.Equal(got, []string{pub, id}) {
			t.Errorf("article#practice has data-publisher, data-id %q, want %q", got, []string{pub, id})
		}
		if got := b.text(t, "h1#title"); got != normalSpace(rec.Practice.Title) {
			t.Errorf("#title is %q, want the Italian title %q", got, rec.Practice.Title)
		}
		tabs := b.attrs(t, "#languages button[role=tab]", "data-lang", "aria-selected")
		if want := []string{"it", "true", "en", "false"}; !sameTabs(tabs, want) {
			t.Errorf("the language tabs (data-lang, aria-selected) are %q, want %q in some order", tabs, want)
		}

		b.do(t, "click the English tab", chromedp.Click(chromedp.CSS(`#languages button[role=tab][data-lang="en"]`)))
		b.waitText(t, "h1#title", normalSpace(en.Title))
		if got := b.attrs(t, `#languages button[role=tab][data-lang="en"]`, "aria-selected"); !slices.Equal(got, []string{"true"}) {
			t.Errorf("the English tab has aria-selected %q after the click", got)
		}

		prov := func(field string) string {
			return b.text(t, fmt.Sprintf(`section#provenance dd[data-field=%q]`, field))
		}
		if s := strings.ToLower(prov("signature")); !strings.Contains(s, "verified") || strings.Contains(s, "not verified") || strings.Contains(s, "unverified") {
			t.Errorf("the signature field says %q, want verified", s)
		}
		if got := firstInt(t, prov("seq")); uint64(got) != rec.Seq {
			t.Errorf("the seq field says %d, the API %d", got, rec.Seq)
		}
		if got := prov("publisher"); !strings.Contains(got, pub) {
			t.Errorf("the publisher field says %q, want %s", got, pub)
		}
		if got := prov("from"); rec.From != "" && !strings.Contains(got, rec.From) {
			t.Errorf("the from field says %q, the API %s", got, rec.From)
		}
		b.screenshot(t, "practice-en")
	})

	t.Run("charts", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/", "search")
		b.interact(t, "click the charts link", "charts", chromedp.Click(chromedp.CSS(`a[data-nav="charts"]`)))
		b.checkCharts(t, d1, "")
		b.screenshot(t, "charts")

		b.interact(t, "open #/charts?country=IT", "charts", b.setHash("#/charts?country=IT"))
		if bars := b.bars(t, "country"); len(bars) != 1 || bars["IT"] == "" {
			t.Errorf("the country chart for country=IT has bars %v, want IT alone", bars)
		}
		b.checkCharts(t, d1, "country=IT")
		b.screenshot(t, "charts-IT")
	})

	t.Run("network", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/", "search")
		b.interact(t, "click the network link", "network", chromedp.Click(chromedp.CSS(`a[data-nav="network"]`)))
		if evalJS[int](t, b, `document.querySelectorAll("section#network").length`) != 1 {
			t.Error("no section#network")
		}
		if got := b.text(t, "#peer-id"); !strings.Contains(got, d1.status.PeerID) {
			t.Errorf("#peer-id says %q, want %s", got, d1.status.PeerID)
		}
		var peers []api.Peer
		apiGet(t, "/api/v1/peers", &peers)
		rows := b.attrs(t, "table#peers tbody tr[data-peer]", "data-peer")
		if !slices.Contains(rows, d2.status.PeerID) || len(rows) != len(peers) {
			t.Errorf("table#peers has rows for %v; the API lists %d peers, node2 is %s", rows, len(peers), d2.status.PeerID)
		}
		if got := b.text(t, "#counts"); !regexp.MustCompile(`(^|\D)` + strconv.Itoa(n) + `(\D|$)`).MatchString(got) {
			t.Errorf("#counts says %q, without the %d practices", got, n)
		}
		st, err := d1.getStatus()
		if err != nil {
			t.Fatal(err)
		}
		rejected := 0
		for _, c := range st.Gossip.Rejected {
			rejected += int(c)
		}
		if got := firstInt(t, b.text(t, "#equivocations")); got != int(st.Equivocations) {
			t.Errorf("#equivocations says %d, the API %d", got, st.Equivocations)
		}
		if got := firstInt(t, b.text(t, "#rejected")); got != rejected {
			t.Errorf("#rejected says %d, the API %d", got, rejected)
		}
		if st.Reach == nil {
			t.Fatal("the API's status has no reach section")
		}
		if got := b.text(t, "#reachability"); !strings.HasPrefix(got, st.Reach.Reachability+" (") {
			t.Errorf("#reachability says %q, the API %q", got, st.Reach.Reachability)
		}
		if got := b.attrs(t, "#dht", "data-mode"); len(got) != 1 || got[0] != st.Reach.DHT.Mode {
			t.Errorf("#dht has mode %v, the API %q", got, st.Reach.DHT.Mode)
		}
		if got := b.text(t, "#connections"); !strings.Contains(got, "direct") || !strings.Contains(got, "relayed") {
			t.Errorf("#connections says %q", got)
		}
		b.screenshot(t, "network")
	})

	t.Run("requests", func(t *testing.T) {
		b.begin(t)
		b.mu.Lock()
		local, csp := b.local, b.csp
		b.mu.Unlock()
		if local == 0 {
			t.Fatal("the browser reported no request to the daemon: the request check saw nothing")
		}
		t.Logf("%d requests to %s/ (a request elsewhere fails the subtest that made it)", local, b.base)
		checkCSP(t, "the page as the browser got it", csp)
		resp, err := http.Get(b.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET / answers %s with Content-Type %q, want text/html", resp.Status, ct)
		}
		checkCSP(t, "GET /", resp.Header.Get("Content-Security-Policy"))
	})
}

// submitButton selects the submit button of the search form.
const submitButton = `form#search-form button:not([type=button]):not([type=reset]), form#search-form input[type=submit]`

// facetBox selects the check box of one facet value.
func facetBox(facet, value string) string {
	return fmt.Sprintf(`aside#facets fieldset[data-facet=%q] input[type=checkbox][data-facet=%q][value=%q]`, facet, facet, value)
}
