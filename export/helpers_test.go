package export

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.yaml.in/yaml/v3"
)

// edgeSheet exercises what the demo catalogue lacks: formula-like cells,
// quotes, commas and semicolons, CRLF, a tab, zero and false values, and
// Greek and Polish translations.
const edgeSheet = `
id: edge-cases-test
title: "=SUM(A1:A3)+HYPERLINK(\"http://evil.example\")"
language: de
summary: |
  Zeile eins, mit "Anführungszeichen", Kommas; und Grüße.
  Linia druga: Łódź, miło, ελληνικά, "quoted", done.
translations:
  el:
    title: Ελληνικός τίτλος
    summary: "-μείον στην αρχή"
  pl:
    title: Tytuł z Łodzi
    objective: Cel po polsku, z przecinkiem.
country: DE
region: Thüringen
city: Erfurt
organiser: "@Evil Org, Ltd."
start_year: 2020
end_year: 2022
duration_years: 2.5
context: "-5"
challenges: "-5 and more"
objective: "+cmd|' /C calc'!A0"
dimensions: [cultural, legal_political]
issues: [language, housing]
funding:
  amount_eur: 1500000
  period_years: 0.5
  sources: [eu, local]
partners:
  types: [civil_society]
  names: ["-5", "Verein \"Brücke\", e.V.", "-Dash Org"]
beneficiaries: 0
part_of_national_programme: false
transferability:
  replicable: false
  lessons: "\ttab-led lesson"
outcomes: "@mention first"
other_information: "line one\r\nline two"
links:
  - title: First
    url: https://edge.example/a?x=1;y=2
  - url: https://edge.example/b
tags: [edge, housing, unicode]
contact:
  organisation: Edge Org
  unit: Edge Unit
  email: edge@edge.example
  website: https://edge.example
`

// sheetDoc is one fact sheet: parsed for sealing, and as the plain YAML
// document, from which tests derive expected values independently of
// protocol's types.
type sheetDoc struct {
	sheet *protocol.FactSheet
	raw   map[string]any
}

func loadSheet(tb testing.TB, name string, data []byte) sheetDoc {
	tb.Helper()
	s, err := protocol.ParseSheet(data)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return sheetDoc{sheet: s, raw: raw}
}

// demoDocs reads the 43 demo sheets.
func demoDocs(tb testing.TB) []sheetDoc {
	tb.Helper()
	files, err := filepath.Glob("../demo/sheets/*.yaml")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no demo sheets: %v", err)
	}
	slices.Sort(files)
	docs := make([]sheetDoc, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		docs[i] = loadSheet(tb, f, b)
	}
	return docs
}

func testKey(tb testing.TB, seed byte) (crypto.PrivKey, peer.ID) {
	tb.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return k, id
}

var t0 = time.Date(2026, 3, 2, 9, 12, 30, 0, time.UTC)

func seal(tb testing.TB, k crypto.PrivKey, seq uint64, a *protocol.Announcement) *protocol.Signed {
	tb.Helper()
	a.V, a.Seq, a.Time = protocol.Version, seq, t0.Add(time.Duration(seq)*time.Minute)
	s, err := protocol.Seal(a, k)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// fixture is a store holding two publishers' practices: A (with a
// profile) publishes every demo sheet and the edge sheet and retracts one
// more practice; B (without a profile) publishes two demo sheets,
// delivered by A.
type fixture struct {
	st         *store.Store
	a, b       peer.ID
	aName      string
	docs       map[string]sheetDoc // by key(publisher, id), practices only
	retractKey string
}

func key(pub peer.ID, id string) string { return pub.String() + "/" + id }

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ka, a := testKey(tb, 1)
	kb, b := testKey(tb, 2)
	f := &fixture{a: a, b: b, aName: "Comune di Prova – Ufficio Immigrazione", docs: map[string]sheetDoc{}}

	st, err := store.Open(tb.TempDir(), store.WithMemTableSize(8<<20), store.WithCacheSize(8<<20))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	f.st = st

	var in []store.Incoming
	seq := uint64(0)
	docs := append(demoDocs(tb), loadSheet(tb, "edge", []byte(edgeSheet)))
	for _, d := range docs {
		seq++
		sg := seal(tb, ka, seq, &protocol.Announcement{Kind: protocol.KindPractice, Practice: d.sheet})
		in = append(in, store.Incoming{Signed: sg})
		f.docs[key(a, d.sheet.ID)] = d
	}
	gone := *docs[0].sheet
	gone.ID = "to-be-retracted"
	f.retractKey = key(a, gone.ID)
	for _, ann := range []*protocol.Announcement{
		{Kind: protocol.KindProfile, Profile: &protocol.Profile{Name: f.aName, Country: "IT", Level: "municipality", Website: "https://prova.example"}},
		{Kind: protocol.KindPractice, Practice: &gone},
		{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: gone.ID, Reason: "ended"}},
	} {
		seq++
		in = append(in, store.Incoming{Signed: seal(tb, ka, seq, ann)})
	}
	for i, d := range docs[5:7] {
		sg := seal(tb, kb, uint64(i+1), &protocol.Announcement{Kind: protocol.KindPractice, Practice: d.sheet})
		in = append(in, store.Incoming{Signed: sg, From: a.String()})
		f.docs[key(b, d.sheet.ID)] = d
	}
	if _, err := st.Apply(context.Background(), in...); err != nil {
		tb.Fatal(err)
	}
	return f
}

// record returns the stored record of a practice.
func (f *fixture) record(tb testing.TB, k string) *store.Record {
	tb.Helper()
	pub, id, _ := strings.Cut(k, "/")
	p, err := peer.Decode(pub)
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := f.st.Get(p, id)
	if err != nil {
		tb.Fatalf("%s: %v", k, err)
	}
	return rec
}

// get walks a YAML document along keys; nil when absent.
func get(doc map[string]any, keys ...string) any {
	var v any = doc
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str renders a scalar of a YAML document as the tests expect it in text
// formats: strings as they are, integers and decimals plainly.
func str(doc map[string]any, keys ...string) string {
	switch v := get(doc, keys...).(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		panic(fmt.Sprintf("%v: unexpected %T", keys, v))
	}
}

// strs returns a YAML sequence of strings.
func strs(doc map[string]any, keys ...string) []string {
	vs, _ := get(doc, keys...).([]any)
	var out []string
	for _, v := range vs {
		out = append(out, v.(string))
	}
	return out
}

// sortedKeys returns the keys of a YAML mapping, sorted.
func sortedKeys(doc map[string]any, keys ...string) []string {
	m, _ := get(doc, keys...).(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// linkURLs returns the url of every link.
func linkURLs(doc map[string]any) []string {
	var out []string
	links, _ := get(doc, "links").([]any)
	for _, l := range links {
		out = append(out, l.(map[string]any)["url"].(string))
	}
	return out
}
