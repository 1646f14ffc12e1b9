package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/search"
)

// The research routes on a node with its index: search, stats, export,
// reindex and OAI-PMH answer; bad queries are 400 JSON errors naming the
// parameter; a node without an index says so (503) but still exports the
// whole catalogue from its store.
func TestAPISearchRoutes(t *testing.T) {
	tn := newTestNet(t, 5)
	n := tn.add(func(c *node.Config) { c.NoSearch = false })
	bare := tn.add()
	c, cb := newTestClient(t, n), newTestClient(t, bare)
	files, _ := filepath.Glob("../demo/sheets/*.yaml")
	for _, f := range files[:6] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var p Published
		c.ok("POST", "/api/v1/practices", string(b), true, &p)
		cb.ok("POST", "/api/v1/practices", string(b), true, &p)
	}
	if err := n.Search().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var res search.Result
	c.ok("GET", "/api/v1/search", "", false, &res)
	if res.Total != 6 || len(res.Hits) != 6 || len(res.Facets["country"]) == 0 {
		t.Fatalf("search of everything: total %d, %d hits, facets %v", res.Total, len(res.Hits), res.Facets)
	}
	var st search.Stats
	c.ok("GET", "/api/v1/stats?by=dimension", "", false, &st)
	if st.By != "dimension" || st.Total.Practices != 6 {
		t.Fatalf("stats: %+v", st)
	}
	for path, want := range map[string]string{
		"/api/v1/search?country=Italy":           "country",
		"/api/v1/search?contry=IT":               "contry",
		"/api/v1/stats?by=planet":                "planet",
		"/api/v1/export?format=xml":              "format",
		"/api/v1/export?format=csv&q=x&limit=-1": "limit",
	} {
		if e := c.fail("GET", path, "", false, 400); !strings.Contains(e.Error, want) {
			t.Errorf("%s: error %q does not name %q", path, e.Error, want)
		}
	}

	code, body := c.do("GET", "/api/v1/export?format=csv&country="+res.Hits[0].Country, "", false)
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if code != 200 || err != nil || len(rows) < 2 {
		t.Fatalf("filtered CSV export: %d %v, %d rows", code, err, len(rows))
	}
	for _, r := range rows[1:] {
		if !strings.Contains(strings.Join(r, ","), res.Hits[0].Country) {
			t.Errorf("row %v is not from %s", r[:4], res.Hits[0].Country)
		}
	}

	c.fail("POST", "/api/v1/reindex", "", false, http.StatusUnauthorized)
	var ri Reindexed
	c.ok("POST", "/api/v1/reindex", "", true, &ri)
	if ri.Indexed != 6 {
		t.Errorf("reindex: %+v", ri)
	}
	for _, path := range []string{"/oai?verb=Identify", "/oai/factsheet-1.xsd"} {
		if code, body := c.do("GET", path, "", false); code != 200 || !strings.Contains(string(body), "<?xml") {
			t.Errorf("%s: %d %.200s", path, code, body)
		}
	}

	// Without an index: 503 for search, but the whole catalogue exports.
	cb.fail("GET", "/api/v1/search?q=x", "", false, http.StatusServiceUnavailable)
	cb.fail("GET", "/api/v1/export?format=jsonl&country=IT", "", false, http.StatusServiceUnavailable)
	code, body = cb.do("GET", "/api/v1/export?format=jsonl", "", false)
	if code != 200 || strings.Count(string(body), "\n") != 6 {
		t.Errorf("export without an index: %d, %d lines", code, strings.Count(string(body), "\n"))
	}
}
