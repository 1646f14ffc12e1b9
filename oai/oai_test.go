package oai

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIdentify(t *testing.T) {
	f := newFixture(t, Config{NodeID: "12D3KooWnode", RepositoryName: "Khantara test node"})
	// Concurrent first requests share the earliestDatestamp cache.
	var wg sync.WaitGroup
	rs := make([]*tResponse, 4)
	for i := range rs {
		wg.Go(func() { rs[i] = f.query("verb", "Identify") })
	}
	wg.Wait()
	for _, r := range append(rs, f.post("verb", "Identify")) {
		id := r.Identify
		if id == nil {
			t.Fatalf("no Identify: %+v", r.Errors)
		}
		want := tIdentify{
			RepositoryName: "Khantara test node", BaseURL: f.baseURL, ProtocolVersion: "2.0",
			AdminEmail: []string{DefaultAdminEmail}, EarliestDatestamp: stamp(batch1),
			DeletedRecord: "persistent", Granularity: "YYYY-MM-DDThh:mm:ssZ",
		}
		got := *id
		got.Descriptions = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Identify\n got %+v\nwant %+v", got, want)
		}
		if len(id.Descriptions) != 1 || id.Descriptions[0].Repository == nil ||
			id.Descriptions[0].Repository.Node != "12D3KooWnode" ||
			id.Descriptions[0].Repository.IdentifierFormat != "oai:khantara:<publisher ID>:<practice id, or experience slot>" {
			t.Errorf("description %+v", id.Descriptions)
		}
		if r.Request.attr("verb") != "Identify" || len(r.Request.Attrs) != 1 {
			t.Errorf("request echo %+v", r.Request.Attrs)
		}
	}
}

func TestListMetadataFormats(t *testing.T) {
	f := newFixture(t, Config{})
	live := f.ids(func(it *item) bool { return !it.deleted })[0]
	gone := f.ids(func(it *item) bool { return it.deleted })[0]
	for _, args := range [][]string{nil, {"identifier", live}, {"identifier", gone}} {
		r := f.query(append([]string{"verb", "ListMetadataFormats"}, args...)...)
		if r.Formats == nil {
			t.Fatalf("%v: %+v", args, r.Errors)
		}
		got := map[string][2]string{}
		for _, m := range r.Formats.Formats {
			got[m.Prefix] = [2]string{m.Namespace, m.Schema}
		}
		want := map[string][2]string{
			"oai_dc":   {tnsOAIDC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"},
			"khantara": {tnsKhan, f.baseURL + "/factsheet-1.xsd"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: formats %v", args, got)
		}
	}
	r := f.query("verb", "ListMetadataFormats", "identifier", identifierOf(f.pubs[0], "no-such-practice"))
	if len(r.Errors) != 1 || r.Errors[0].Code != "idDoesNotExist" || r.Request.attr("identifier") == "" {
		t.Errorf("unknown identifier: %+v, request %+v", r.Errors, r.Request)
	}
}

func TestListSets(t *testing.T) {
	f := newFixture(t, Config{})
	r := f.query("verb", "ListSets")
	if r.ListSets == nil {
		t.Fatalf("%+v", r.Errors)
	}
	var specs []string
	for _, s := range r.ListSets.Sets {
		specs = append(specs, s.Spec)
		switch s.Spec {
		case "publisher:" + f.pubs[0].String():
			if s.Name != profileName || len(s.Descriptions) != 1 || s.Descriptions[0].DC == nil ||
				!slices.Equal(s.Descriptions[0].DC.values("title"), []string{profileName}) ||
				!slices.Equal(s.Descriptions[0].DC.values("coverage"), []string{"IT"}) {
				t.Errorf("set of publisher 0: %+v", s)
			}
		case "publisher:" + f.pubs[1].String():
			if s.Name != f.pubs[1].String() || len(s.Descriptions) != 0 {
				t.Errorf("set of publisher 1 (no profile): %+v", s)
			}
		}
	}
	want := sortedCopy([]string{"publisher", "publisher:" + f.pubs[0].String(), "publisher:" + f.pubs[1].String()})
	if !slices.Equal(sortedCopy(specs), want) {
		t.Errorf("sets %v, want %v", specs, want)
	}
}

// TestHarvest walks whole lists page by page and checks that they hold
// every item exactly once, deleted ones as such.
func TestHarvest(t *testing.T) {
	f := newFixture(t, Config{PageSize: 10})
	inBatch2 := func(it *item) bool { return it.stamp.Equal(batch2) }
	tests := []struct {
		name string
		args []string
		want []string
		// complete says whether every token carries completeListSize.
		complete bool
	}{
		{"all", nil, f.ids(nil), true},
		{"set publisher", []string{"set", "publisher"}, f.ids(nil), true},
		{"set of publisher 1", []string{"set", "publisher:" + f.pubs[1].String()},
			f.ids(func(it *item) bool { return it.pub == f.pubs[1] }), true},
		{"from batch 2", []string{"from", stamp(batch2)}, f.ids(inBatch2), false},
		{"until batch 1", []string{"until", stamp(batch1)}, f.ids(func(it *item) bool { return !inBatch2(it) }), false},
	}
	for _, verb := range []string{"ListIdentifiers", "ListRecords"} {
		for _, prefix := range []string{"oai_dc", "khantara"} {
			for _, tt := range tests {
				t.Run(verb+"/"+prefix+"/"+tt.name, func(t *testing.T) {
					f.t = t
					recs, toks := f.walk(verb, append([]string{"metadataPrefix", prefix}, tt.args...)...)
					got := identifiersOf(recs)
					if dup := duplicates(got); len(dup) > 0 {
						t.Errorf("items listed twice: %v", dup)
					}
					if !slices.Equal(sortedCopy(got), tt.want) {
						t.Errorf("harvested %d items, want %d:\n got %v\nwant %v", len(got), len(tt.want), sortedCopy(got), tt.want)
					}
					if pages := (len(tt.want) + 9) / 10; len(toks) != pages {
						t.Errorf("%d pages, want %d", len(toks), pages)
					}
					checkTokens(t, toks, len(tt.want), tt.complete)
					for _, rec := range recs {
						checkRecord(t, f, rec, verb == "ListRecords", prefix)
					}
				})
			}
		}
	}
}

var yearsPattern = regexp.MustCompile(`^[0-9]{4}(/([0-9]{4}|\.\.))?$`)

// uniq returns s without repeated values, in first-seen order.
func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func duplicates(ids []string) []string {
	seen := map[string]bool{}
	var dup []string
	for _, id := range ids {
		if seen[id] {
			dup = append(dup, id)
		}
		seen[id] = true
	}
	return dup
}

// checkTokens checks the tokens of a harvest of n items in pages of 10:
// cursor counts what came before, the last token is empty and the list
// size is given on the last page (and on all when complete).
func checkTokens(t *testing.T, toks []*tToken, n int, complete bool) {
	t.Helper()
	if len(toks) == 1 {
		if toks[0] != nil {
			t.Errorf("a list in one response has a token: %+v", toks[0])
		}
		return
	}
	for i, tok := range toks {
		last := i == len(toks)-1
		switch {
		case tok == nil:
			t.Fatalf("page %d of %d has no resumptionToken", i, len(toks))
		case last != (tok.Value == ""):
			t.Errorf("page %d of %d has token %q", i, len(toks), tok.Value)
		case tok.Cursor != strconv.Itoa(10*i):
			t.Errorf("page %d: cursor %q", i, tok.Cursor)
		case (complete || last) && tok.CompleteListSize != strconv.Itoa(n):
			t.Errorf("page %d: completeListSize %q, want %d", i, tok.CompleteListSize, n)
		case !complete && !last && tok.CompleteListSize != "":
			t.Errorf("page %d: completeListSize %q, want none", i, tok.CompleteListSize)
		}
	}
}

// checkRecord checks a header (and record) against the fixture.
func checkRecord(t *testing.T, f *fixture, rec tRecord, full bool, prefix string) {
	t.Helper()
	h := rec.Header
	it := f.items[h.Identifier]
	if it == nil {
		t.Fatalf("unknown identifier %q", h.Identifier)
	}
	if h.Datestamp != stamp(it.stamp) {
		t.Errorf("%s: datestamp %s, want %s", h.Identifier, h.Datestamp, stamp(it.stamp))
	}
	if !slices.Equal(h.SetSpecs, []string{"publisher:" + it.pub.String()}) {
		t.Errorf("%s: setSpecs %v", h.Identifier, h.SetSpecs)
	}
	if (h.Status == "deleted") != it.deleted || (h.Status != "" && h.Status != "deleted") {
		t.Errorf("%s: status %q, deleted %v", h.Identifier, h.Status, it.deleted)
	}
	if !full {
		return
	}
	m := rec.Metadata
	switch {
	case it.deleted && m != nil:
		t.Errorf("%s: a deleted record has metadata", h.Identifier)
	case it.deleted:
	case m == nil:
		t.Errorf("%s: no metadata", h.Identifier)
	case prefix == "oai_dc" && (m.DC == nil || m.FactSheet != nil):
		t.Errorf("%s: metadata is not oai_dc alone", h.Identifier)
	case prefix == "oai_dc":
		if got := m.DC.values("identifier"); !slices.Equal(got, []string{h.Identifier}) {
			t.Errorf("%s: dc:identifier %v", h.Identifier, got)
		}
		seen := map[string]bool{}
		for _, e := range m.DC.Elements {
			k := e.XMLName.Local + "|" + e.Lang + "|" + e.Value
			if seen[k] {
				t.Errorf("%s: dc:%s %q repeated", h.Identifier, e.XMLName.Local, e.Value)
			}
			seen[k] = true
		}
		if cov := m.DC.values("coverage"); !yearsPattern.MatchString(cov[len(cov)-1]) {
			t.Errorf("%s: the last dc:coverage %q is not a period", h.Identifier, cov[len(cov)-1])
		}
	case m.FactSheet == nil || m.DC != nil:
		t.Errorf("%s: metadata is not khantara alone", h.Identifier)
	default:
		checkFactSheet(t, m.FactSheet, it)
	}
}

// checkFactSheet checks the documented mapping of the khantara format:
// every JSON member becomes an element of the same name; arrays a wrapper
// with one child per value; translations a wrapper of translation
// elements keyed by their language attribute.
func checkFactSheet(t *testing.T, n *tNode, it *item) {
	t.Helper()
	attrs := map[string]string{}
	for _, a := range n.Attrs {
		if a.Name.Space == "" {
			attrs[a.Name.Local] = a.Value
		}
	}
	if attrs["publisher"] != it.pub.String() || attrs["seq"] != strconv.FormatUint(it.seq, 10) {
		t.Errorf("%s: factsheet attributes %v", it.sheet.ID, attrs)
	}
	if _, err := time.Parse(time.RFC3339, attrs["announced"]); err != nil {
		t.Errorf("%s: announced %q: %v", it.sheet.ID, attrs["announced"], err)
	}
	raw, err := json.Marshal(it.sheet)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	got := xmlToJSON(t, n, "")
	if !reflect.DeepEqual(got, any(want)) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s: khantara record differs from the sheet\n got %s\nwant %s", it.sheet.ID, gj, wj)
	}
}

// xmlToJSON turns a khantara element back into the JSON value the
// documented mapping says it came from.
func xmlToJSON(t *testing.T, n *tNode, name string) any {
	t.Helper()
	if n.XMLName.Space != tnsKhan {
		t.Errorf("element %q is in namespace %q", n.XMLName.Local, n.XMLName.Space)
	}
	switch name {
	case "dimensions", "issues", "target_groups", "sources", "types", "names", "links", "tags":
		var out []any
		for i := range n.Children {
			out = append(out, xmlToJSON(t, &n.Children[i], n.Children[i].XMLName.Local))
		}
		return out
	case "translations":
		out := map[string]any{}
		for i := range n.Children {
			c := &n.Children[i]
			var lang string
			for _, a := range c.Attrs {
				if a.Name.Local == "language" {
					lang = a.Value
				}
			}
			out[lang] = xmlToJSON(t, c, "translation")
		}
		return out
	case "start_year", "end_year", "duration_years", "beneficiaries", "amount_eur", "period_years", "lat", "lon":
		v, err := strconv.ParseFloat(n.Text, 64)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return v
	case "ongoing", "part_of_national_programme", "replicable":
		v, err := strconv.ParseBool(n.Text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return v
	}
	if len(n.Children) == 0 && name != "" && name != "translation" && name != "link" &&
		name != "funding" && name != "partners" && name != "transferability" && name != "contact" {
		return n.Text
	}
	out := map[string]any{}
	for i := range n.Children {
		c := &n.Children[i]
		if _, dup := out[c.XMLName.Local]; dup {
			t.Errorf("element %q repeated in %q", c.XMLName.Local, name)
		}
		out[c.XMLName.Local] = xmlToJSON(t, c, c.XMLName.Local)
	}
	return out
}

func TestGetRecord(t *testing.T) {
	f := newFixture(t, Config{})
	sheets := demoSheets(t)
	get := func(id, prefix string) tRecord {
		t.Helper()
		r := f.query("verb", "GetRecord", "identifier", id, "metadataPrefix", prefix)
		if r.GetRecord == nil {
			t.Fatalf("GetRecord %s %s: %+v", id, prefix, r.Errors)
		}
		if r.Request.attr("identifier") != id || r.Request.attr("metadataPrefix") != prefix || r.Request.attr("verb") != "GetRecord" {
			t.Errorf("request echo %+v", r.Request.Attrs)
		}
		checkRecord(t, f, r.GetRecord.Record, true, prefix)
		return r.GetRecord.Record
	}

	t.Run("oai_dc", func(t *testing.T) {
		// Publisher 1 has no profile; this sheet has a translation and an end year.
		s := sheets[1]
		if s.ID != "active-parents-hamburg" || len(s.Translations) != 1 || s.EndYear == 0 {
			t.Fatalf("the demo sheets changed: %s", s.ID)
		}
		id := identifierOf(f.pubs[1], s.ID)
		dc := get(id, "oai_dc").Metadata.DC
		if dc.SchemaLocation != tnsOAIDC+" http://www.openarchives.org/OAI/2.0/oai_dc.xsd" {
			t.Errorf("schemaLocation %q", dc.SchemaLocation)
		}
		for _, e := range dc.Elements {
			if e.XMLName.Space != tnsDC {
				t.Errorf("element %v is not Dublin Core", e.XMLName)
			}
		}
		tr := s.Translations["de"]
		want := map[string][]string{
			"title":       {"[en] " + s.Title, "[de] " + tr.Title},
			"creator":     {s.Organiser},
			"publisher":   {s.Organiser},
			"contributor": nil,
			"date":        {"2008"},
			"type":        {"Text", "practice"},
			"identifier":  {id},
			"language":    {"en", "de"},
			"coverage":    {"DE", "Hamburg", "2008/2009"}, // region and city are both Hamburg
			"subject":     uniq(slices.Concat(s.Dimensions, s.Issues, s.Tags)),
			"description": {"[en] " + s.Summary, "[en] " + s.Objective, "[de] " + tr.Summary},
			"relation":    nil,
			"rights":      nil,
		}
		for name, w := range want {
			if got := dc.values(name); !slices.Equal(got, w) {
				t.Errorf("dc:%s\n got %q\nwant %q", name, got, w)
			}
		}
	})
	t.Run("oai_dc publisher from profile", func(t *testing.T) {
		updated := f.items[identifierOf(f.pubs[0], sheets[2].ID)]
		dc := get(identifierOf(f.pubs[0], sheets[2].ID), "oai_dc").Metadata.DC
		if got := dc.values("publisher"); !slices.Equal(got, []string{profileName}) {
			t.Errorf("dc:publisher %q", got)
		}
		if got := dc.values("title")[0]; !strings.HasSuffix(got, " "+updated.sheet.Title) || !strings.Contains(got, "Updated: ") {
			t.Errorf("the new version is not served: title %q", got)
		}
	})
	t.Run("khantara", func(t *testing.T) {
		for _, id := range f.ids(func(it *item) bool { return !it.deleted }) {
			get(id, "khantara") // checkRecord compares every field
		}
	})
	t.Run("escaping", func(t *testing.T) {
		id := identifierOf(f.pubs[1], trickyID)
		it := f.items[id]
		dc := get(id, "oai_dc").Metadata.DC
		if got := dc.values("title"); got[0] != "["+it.sheet.Language+"] "+it.sheet.Title || got[1] != "[fr] Balises <i> & «guillemets»" {
			t.Errorf("titles %q", got)
		}
		get(id, "khantara")
	})
	t.Run("deleted", func(t *testing.T) {
		for _, prefix := range []string{"oai_dc", "khantara"} {
			rec := get(identifierOf(f.pubs[1], sheets[3].ID), prefix)
			if rec.Header.Status != "deleted" || rec.Metadata != nil || rec.Header.Datestamp != stamp(batch2) {
				t.Errorf("deleted record %+v", rec)
			}
		}
	})
}

func TestSelectiveHarvest(t *testing.T) {
	f := newFixture(t, Config{})
	inBatch2 := func(it *item) bool { return it.stamp.Equal(batch2) }
	all := f.ids(nil)
	b1 := f.ids(func(it *item) bool { return !inBatch2(it) })
	b2 := f.ids(inBatch2)
	tests := []struct {
		name string
		args []string
		want []string // nil: noRecordsMatch
	}{
		{"from batch 2", []string{"from", stamp(batch2)}, b2},
		{"from just after batch 1", []string{"from", stamp(batch1.Add(time.Second))}, b2},
		{"from batch 1 (fraction of a second before its datestamp)", []string{"from", stamp(batch1)}, all},
		{"until batch 1", []string{"until", stamp(batch1)}, b1},
		{"until just before batch 2", []string{"until", stamp(batch2.Add(-time.Second))}, b1},
		{"until batch 2", []string{"until", stamp(batch2)}, all},
		{"from and until batch 2", []string{"from", stamp(batch2), "until", stamp(batch2)}, b2},
		{"between the batches", []string{"from", stamp(batch1.Add(time.Second)), "until", stamp(batch2.Add(-time.Second))}, nil},
		{"from the day of batch 2", []string{"from", day(batch2)}, b2},
		{"until the day of batch 1", []string{"until", day(batch1)}, b1},
		{"the day of batch 1", []string{"from", day(batch1), "until", day(batch1)}, b1},
		{"the day before batch 1", []string{"until", day(batch1.AddDate(0, 0, -1))}, nil},
		{"after everything", []string{"from", "2030-01-01"}, nil},
		{"set of publisher 0 from batch 2", []string{"set", "publisher:" + f.pubs[0].String(), "from", stamp(batch2)},
			f.ids(func(it *item) bool { return inBatch2(it) && it.pub == f.pubs[0] })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			r := f.query(append([]string{"verb", "ListIdentifiers", "metadataPrefix", "oai_dc"}, tt.args...)...)
			for i := 0; i+1 < len(tt.args); i += 2 {
				if got := r.Request.attr(tt.args[i]); got != tt.args[i+1] {
					t.Errorf("request echoes %s=%q", tt.args[i], got)
				}
			}
			if tt.want == nil {
				if len(r.Errors) != 1 || r.Errors[0].Code != "noRecordsMatch" {
					t.Errorf("want noRecordsMatch, got %+v", r.Errors)
				}
				return
			}
			if r.ListIdentifiers == nil {
				t.Fatalf("%+v", r.Errors)
			}
			var got []string
			for _, h := range r.ListIdentifiers.Headers {
				got = append(got, h.Identifier)
			}
			if !slices.Equal(sortedCopy(got), tt.want) {
				t.Errorf("got %d items %v\nwant %d %v", len(got), sortedCopy(got), len(tt.want), tt.want)
			}
		})
	}
}
