package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
)

// TestResearchEndToEnd drives a researcher's work on a real daemon
// holding the demo catalogue: search, filters, statistics, the three
// export formats, a retraction leaving the index, reindex and an OAI-PMH
// harvest. Expected answers come from reading the sheets, not the index.
func TestResearchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(90 * time.Second)
	home := t.TempDir()
	d := startDaemon(t, bin, "node1", home, deadline)
	with := func(args ...string) []string { return append(append([]string{}, args...), "--home", home) }

	files, _ := filepath.Glob("../../demo/sheets/*.yaml")
	sheets := map[string]*protocol.FactSheet{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := protocol.ParseSheet(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sheets[s.ID] = s
	}
	expect(t, bin, 0, nil, with("import", "../../demo/sheets")...)

	searchJSON := func(args ...string) search.Result {
		t.Helper()
		var res search.Result
		out := expect(t, bin, 0, nil, with(append([]string{"search", "--json", "--limit", "1000"}, args...)...)...)
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("search --json %v: %v\n%s", args, err, out)
		}
		return res
	}
	waitFor(t, deadline, "the index to hold the catalogue", []*daemon{d}, func() bool {
		return searchJSON().Total == len(sheets)
	})

	// A filter with a known answer: EU-funded practices in Italy.
	var want []string
	for id, s := range sheets {
		if s.Country == "IT" && s.Funding != nil && slices.Contains(s.Funding.Sources, "eu") {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	res := searchJSON("--country", "IT", "--funding-source", "eu")
	var got []string
	for _, h := range res.Hits {
		got = append(got, h.ID)
	}
	slices.Sort(got)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("IT + eu: got %v, want %v", got, want)
	}

	// Italian text, stemmed: "integrazione" also finds "integrare".
	res = searchJSON("integrazione")
	if res.Total == 0 || !slices.ContainsFunc(res.Hits, func(h search.Hit) bool { return h.ID == "al-khantara-sicilia" }) {
		t.Fatalf("search integrazione: %d hits, al-khantara-sicilia not among them: %+v", res.Total, res.Hits)
	}
	expect(t, bin, 0, []string{"practices"}, with("search", "--facets", "--country", "it")...)
	_, errOut, code := runBin(t, bin, with("search", "--country", "Italy")...)
	if code != 2 || !strings.Contains(errOut, "--country") {
		t.Fatalf("search --country Italy: exit %d, stderr %q; want 2 naming --country", code, errOut)
	}
	oneLine(t, errOut)

	// Statistics by country equal a count of the sheets.
	var st search.Stats
	out := expect(t, bin, 0, nil, with("stats", "--by", "country", "--json")...)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, s := range sheets {
		counts[s.Country]++
	}
	for _, g := range st.Groups {
		if counts[g.Key] != g.Practices {
			t.Fatalf("stats: %s has %d practices, the sheets say %d", g.Key, g.Practices, counts[g.Key])
		}
		delete(counts, g.Key)
	}
	if len(counts) != 0 || st.Total.Practices != len(sheets) {
		t.Fatalf("stats missed countries %v or total %d != %d", counts, st.Total.Practices, len(sheets))
	}
	expect(t, bin, 0, []string{"IT"}, with("stats")...)

	// Exports: CSV to a file, JSON Lines to stdout, DCAT.
	csvPath := filepath.Join(t.TempDir(), "catalogue.csv")
	expect(t, bin, 0, nil, with("export", "--format", "csv", "-o", csvPath)...)
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != len(sheets)+1 {
		t.Fatalf("CSV: %v, %d rows for %d practices", err, len(rows), len(sheets))
	}
	out = expect(t, bin, 0, nil, with("export", "--format", "jsonl", "--country", "IT")...)
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); lines++ {
		var rec struct {
			Envelope []byte `json:"envelope"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("JSONL line %d: %v", lines+1, err)
		}
		if _, err := protocol.Open(rec.Envelope); err != nil {
			t.Fatalf("JSONL line %d: the envelope does not verify: %v", lines+1, err)
		}
	}
	italian := 0
	for _, s := range sheets {
		if s.Country == "IT" {
			italian++
		}
	}
	if lines != italian {
		t.Fatalf("JSONL export of IT: %d lines, want %d", lines, italian)
	}
	out = expect(t, bin, 0, nil, with("export", "--format", "dcat")...)
	var dcat map[string]any
	if err := json.Unmarshal([]byte(out), &dcat); err != nil || dcat["@context"] == nil {
		t.Fatalf("DCAT export is not JSON-LD: %v", err)
	}

	// A retracted practice is never found again; reindex agrees.
	expect(t, bin, 0, nil, with("retract", "al-khantara-sicilia")...)
	waitFor(t, deadline, "the retraction to leave the index", []*daemon{d}, func() bool {
		return searchJSON("integrazione").Total < res.Total
	})
	if slices.ContainsFunc(searchJSON().Hits, func(h search.Hit) bool { return h.ID == "al-khantara-sicilia" }) {
		t.Fatal("a retracted practice is still found")
	}
	expect(t, bin, 0, []string{"indexed 42"}, with("reindex")...)

	// OAI-PMH: Identify, and the retraction harvested as a deleted record.
	get := func(query string) []byte {
		resp, err := http.Get("http://" + d.api + "/oai?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
			t.Fatalf("OAI %s: %s %s", query, resp.Status, body)
		}
		dec := xml.NewDecoder(strings.NewReader(string(body)))
		for {
			if _, err := dec.Token(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("OAI %s: not well-formed XML: %v", query, err)
			}
		}
		return body
	}
	if b := get("verb=Identify"); !strings.Contains(string(b), "<deletedRecord>persistent</deletedRecord>") {
		t.Fatalf("Identify:\n%s", b)
	}
	if b := get("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:khantara:" + d.status.PeerID + ":al-khantara-sicilia"); !strings.Contains(string(b), `status="deleted"`) {
		t.Fatalf("the retracted practice is not a deleted record:\n%s", b)
	}
}
