package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestAPIExportExperiences exports a node's experience records over real
// HTTP: the adaptation graph as CSV and GraphML, JSONL of experience
// records and of both kinds, each whole and through a query's filters
// (which select the practices the records are about), every envelope
// verified; bad format and kind values are 400 naming the parameter.
func TestAPIExportExperiences(t *testing.T) {
	n := newTestNet(t, 23).add(func(c *node.Config) { c.NoSearch = false })
	c := newTestClient(t, n)
	sheets := demoSheets(t)[:6]
	for _, s := range sheets {
		publish(t, n, s)
	}
	k := testKey(t, 201)
	elsewhere, _ := peer.IDFromPrivateKey(testKey(t, 202))
	about := func(i int) protocol.About { return protocol.About{Publisher: n.ID(), ID: sheets[i].ID} }
	exps := []*protocol.Experience{
		{Type: protocol.ExperienceAdaptation, ID: "adapt-zero", About: about(0), Language: "en", Title: "Zero", Country: "FR", StartYear: 2020, Changes: "A."},
		{Type: protocol.ExperienceAdaptation, ID: "adapt-one", About: about(1), Language: "en", Title: "One", Country: "DE", StartYear: 2021, Changes: "B."},
		{Type: protocol.ExperienceLesson, ID: "lesson-zero", About: about(0), Language: "en", Title: "Learned", Text: "Much."},
		{Type: protocol.ExperienceAdaptation, ID: "adapt-far", About: protocol.About{Publisher: elsewhere, ID: "far-away"}, Language: "en",
			Title: "Far", Country: "IT", StartYear: 2019, Changes: "C."},
	}
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	for i, e := range exps {
		sg := seal(t, &protocol.Announcement{V: protocol.Version, Seq: uint64(i + 1), Time: now, Kind: protocol.KindExperience, Experience: e}, k)
		if code, body := c.postEnvelope(sg.Envelope(), true); code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", e.ID, code, body)
		}
	}
	if err := n.Search().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	country := sheets[0].Country
	inCountry := map[string]bool{}
	practicesIn := 0
	for _, s := range sheets {
		if s.Country == country {
			inCountry[s.ID] = true
			practicesIn++
		}
	}
	wantAbout := func(filter bool, types ...protocol.ExperienceType) int {
		m := 0
		for _, e := range exps {
			if (!filter || e.About.Publisher == n.ID() && inCountry[e.About.ID]) && (len(types) == 0 || e.Type == types[0]) {
				m++
			}
		}
		return m
	}

	get := func(query string) []byte {
		t.Helper()
		code, body := c.do("GET", "/api/v1/export?"+query, "", false)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		return body
	}
	for _, filter := range []bool{false, true} {
		q := ""
		if filter {
			q = "&country=" + country
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(get("format=adaptations-csv"+q), []byte("\uFEFF")))).ReadAll()
		if want := wantAbout(filter, protocol.ExperienceAdaptation); err != nil || len(rows) != want+1 || want == 0 {
			t.Errorf("adaptations-csv%s: %v, %d rows, want %d adaptations", q, err, len(rows)-1, want)
		}
		var g struct {
			Edges []struct {
				Source string `xml:"source,attr"`
			} `xml:"graph>edge"`
		}
		if err := xml.Unmarshal(get("format=graphml"+q), &g); err != nil || len(g.Edges) != wantAbout(filter, protocol.ExperienceAdaptation) {
			t.Errorf("graphml%s: %v, %d edges", q, err, len(g.Edges))
		}
		if got := verifiedLines(t, get("format=jsonl&kind=experience"+q)); got["experience"] != wantAbout(filter) || got["practice"] != 0 {
			t.Errorf("jsonl kind=experience%s: %v, want %d experience records", q, got, wantAbout(filter))
		}
		wantPractices := len(sheets)
		if filter {
			wantPractices = practicesIn
		}
		if got := verifiedLines(t, get("format=jsonl&kind=all"+q)); got["experience"] != wantAbout(filter) || got["practice"] != wantPractices {
			t.Errorf("jsonl kind=all%s: %v, want %d practices and %d experience records", q, got, wantPractices, wantAbout(filter))
		}
		if got := verifiedLines(t, get("format=jsonl"+q)); got["experience"] != 0 || got["practice"] != wantPractices {
			t.Errorf("jsonl%s: %v, want practices only", q, got)
		}
	}
	code, _ := c.do("GET", "/api/v1/export?format=graphml", "", false)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	for query, want := range map[string]string{
		"format=graphml&kind=all": "kind", "format=jsonl&kind=lesson": "kind", "format=gml": "format",
		"format=jsonl&kind=all&kind=practice": "kind",
	} {
		if e := c.fail("GET", "/api/v1/export?"+query, "", false, http.StatusBadRequest); !strings.HasPrefix(e.Error, want) {
			t.Errorf("%s: error %q does not start with %q", query, e.Error, want)
		}
	}
}

// verifiedLines counts a JSONL export's lines by kind, after opening
// every envelope with protocol.Open and checking it signs the line's
// kind, publisher and slot.
func verifiedLines(t *testing.T, body []byte) map[string]int {
	t.Helper()
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Kind, Publisher, Slot string
			Envelope              []byte
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		sg, err := protocol.Open(l.Envelope)
		if err != nil || string(sg.Announcement().Kind) != l.Kind || sg.Announcement().Publisher.String() != l.Publisher || sg.Slot() != l.Slot {
			t.Fatalf("line %s %s: %v", l.Publisher, l.Slot, err)
		}
		counts[l.Kind]++
	}
	return counts
}
