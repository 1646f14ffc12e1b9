package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// TestExportExperiencesEndToEnd is a network researcher's session on a
// real daemon holding the demo catalogue and the demo's experience
// records (signed here by another organisation's key and submitted):
// the adaptation graph as GraphML and as a CSV edge list filtered by
// country, JSON Lines of experience records with every envelope
// verified, and an OAI-PMH harvest of the experiences set while the
// default harvest stays practices only.
func TestExportExperiencesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(90 * time.Second)
	home := t.TempDir()
	d := startDaemon(t, bin, "node1", home, deadline)
	with := func(args ...string) []string { return append(append([]string{}, args...), "--home", home) }
	sheets, err := demo.ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	country := map[string]string{}
	for _, s := range sheets {
		country[s.ID] = s.Country
	}
	expect(t, bin, 0, nil, with("import", "../../demo/sheets")...)
	waitFor(t, deadline, "the index to hold the catalogue", []*daemon{d}, func() bool {
		var res search.Result
		out, _, code := runBin(t, bin, with("search", "--json", "--limit", "1")...)
		return code == 0 && json.Unmarshal([]byte(out), &res) == nil && res.Total == len(sheets)
	})

	// Another organisation's key writes the demo's records about the
	// daemon's practices (answers, which only the practice's publisher
	// writes, are left out).
	owner, err := protocol.DecodeID(d.status.PeerID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{77}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	exps, err := demo.Experiences()
	if err != nil {
		t.Fatal(err)
	}
	posted, adaptations, inIT := 0, 0, 0
	for _, x := range exps {
		if x.Record.Type == protocol.ExperienceAnswer {
			continue
		}
		e := *x.Record
		e.About.Publisher = owner
		if !e.Practice.IsZero() {
			e.Practice.Publisher = owner
		}
		posted++
		sg, err := protocol.Seal(&protocol.Announcement{V: protocol.Version, Seq: uint64(posted), Time: time.Now().UTC().Add(-time.Minute),
			Kind: protocol.KindExperience, Experience: &e}, key)
		if err != nil {
			t.Fatal(err)
		}
		if code, body := d.post(t, "/api/v1/records", string(sg.Envelope())); code != http.StatusOK {
			t.Fatalf("submit %s: %d %s", x.Name, code, body)
		}
		if e.Type == protocol.ExperienceAdaptation {
			adaptations++
			if country[e.About.ID] == "IT" {
				inIT++
			}
		}
	}
	if adaptations == 0 || inIT == 0 || inIT == adaptations {
		t.Fatalf("the demo has %d adaptations, %d of Italian practices: the filter below would prove nothing", adaptations, inIT)
	}

	dir := t.TempDir()
	gml := filepath.Join(dir, "adaptations.graphml")
	expect(t, bin, 0, nil, with("export", "-o", gml)...)
	raw, err := os.ReadFile(gml)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Nodes []struct {
			ID string `xml:"id,attr"`
		} `xml:"graph>node"`
		Edges []struct {
			Source string `xml:"source,attr"`
		} `xml:"graph>edge"`
	}
	if err := xml.Unmarshal(raw, &g); err != nil || len(g.Edges) != adaptations {
		t.Fatalf("GraphML: %v, %d edges, want %d", err, len(g.Edges), adaptations)
	}
	for _, e := range g.Edges {
		if !strings.HasPrefix(e.Source, "practice."+owner.String()+".") {
			t.Errorf("edge from %s, not from one of the daemon's practices", e.Source)
		}
	}

	out := expect(t, bin, 0, nil, with("export", "--format", "adaptations-csv", "--country", "IT")...)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != inIT+1 {
		t.Fatalf("adaptations-csv --country IT: %v, %d rows, want %d", err, len(rows)-1, inIT)
	}

	out = expect(t, bin, 0, nil, with("export", "--format", "jsonl", "--kind", "experience")...)
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); lines++ {
		var l struct {
			Kind     string `json:"kind"`
			Envelope []byte `json:"envelope"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Kind != "experience" {
			t.Fatalf("line %d: %v, kind %q", lines+1, err, l.Kind)
		}
		if _, err := protocol.Open(l.Envelope); err != nil {
			t.Fatalf("line %d: the envelope does not verify: %v", lines+1, err)
		}
	}
	if lines != posted {
		t.Fatalf("JSONL of experience records: %d lines, want %d", lines, posted)
	}

	harvest := func(query string) string {
		resp, err := http.Get("http://" + d.api + "/oai?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if b := harvest("verb=ListIdentifiers&metadataPrefix=oai_dc&set=experiences"); strings.Count(b, "<identifier>") != posted {
		t.Fatalf("the experiences set lists %d identifiers, want %d:\n%.400s", strings.Count(b, "<identifier>"), posted, b)
	}
	if b := harvest("verb=ListIdentifiers&metadataPrefix=oai_dc"); strings.Contains(b, ":_exp/") || strings.Contains(b, ":_endorse/") {
		t.Fatal("a harvest without a set lists experience records")
	}
}
