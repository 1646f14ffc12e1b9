package export

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// demoAlpha3 are the ISO 3166-1 alpha-3 codes of the countries in the
// demo catalogue and the edge sheet, written out independently.
var demoAlpha3 = map[string]string{
	"AT": "AUT", "BE": "BEL", "CZ": "CZE", "DE": "DEU", "ES": "ESP", "FI": "FIN",
	"FR": "FRA", "GB": "GBR", "GR": "GRC", "HU": "HUN", "IE": "IRL", "IT": "ITA",
	"NL": "NLD", "PL": "POL", "RO": "ROU", "SE": "SWE",
}

// demoLang are the EU Language authority codes of the languages in the
// demo catalogue and the edge sheet.
var demoLang = map[string]string{
	"en": "ENG", "it": "ITA", "es": "SPA", "de": "DEU", "fr": "FRA", "pl": "POL", "el": "ELL",
	"fi": "FIN", "sv": "SWE", "nl": "NLD", "cs": "CES", "hu": "HUN", "ro": "RON", "pt": "POR",
}

var wantContext = map[string]any{
	"dcat":  "http://www.w3.org/ns/dcat#",
	"dct":   "http://purl.org/dc/terms/",
	"foaf":  "http://xmlns.com/foaf/0.1/",
	"xsd":   "http://www.w3.org/2001/XMLSchema#",
	"vcard": "http://www.w3.org/2006/vcard/ns#",
	"prov":  "http://www.w3.org/ns/prov#",
}

func exportDCAT(t *testing.T, f *fixture, cat Catalog) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	n, err := DCAT(&buf, StorePractices(f.st), cat)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("output is not JSON:\n%.2000s", buf.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return n, doc
}

// checkPrefixes walks a JSON-LD document and reports every member name
// that is neither a keyword nor a compact IRI with a declared prefix, and
// every compact-IRI @type with an undeclared prefix.
func checkPrefixes(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if k == "@context" {
				continue
			}
			if !strings.HasPrefix(k, "@") {
				prefix, _, ok := strings.Cut(k, ":")
				if _, known := wantContext[prefix]; !ok || !known {
					t.Errorf("%s: member %q is not a known compact IRI", path, k)
				}
			}
			if k == "@type" {
				prefix, _, _ := strings.Cut(sub.(string), ":")
				if _, known := wantContext[prefix]; !known {
					t.Errorf("%s: @type %q has no known prefix", path, sub)
				}
			}
			if k == "@id" && !strings.HasPrefix(sub.(string), "http") && !strings.HasPrefix(sub.(string), "urn:") && !strings.HasPrefix(sub.(string), "mailto:") {
				t.Errorf("%s: @id %q is not an absolute IRI", path, sub)
			}
			checkPrefixes(t, path+"."+k, sub)
		}
	case []any:
		for i, sub := range v {
			checkPrefixes(t, fmt.Sprintf("%s[%d]", path, i), sub)
		}
	}
}

func langValues(v any) map[string]string {
	out := map[string]string{}
	for _, e := range v.([]any) {
		m := e.(map[string]any)
		out[m["@language"].(string)] = m["@value"].(string)
	}
	return out
}

func ids(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		out = append(out, v["@id"].(string))
	case []any:
		for _, e := range v {
			out = append(out, e.(map[string]any)["@id"].(string))
		}
	}
	return out
}

func TestDCAT(t *testing.T) {
	f := newFixture(t)
	issued := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	n, doc := exportDCAT(t, f, Catalog{NodeID: f.a, Homepage: "https://khantara.example", Issued: issued, Profiles: StoreProfiles(f.st)})
	if n != len(f.docs) {
		t.Fatalf("wrote %d practices, want %d", n, len(f.docs))
	}
	ctx, _ := doc["@context"].(map[string]any)
	for p, iri := range wantContext {
		if ctx[p] != iri {
			t.Errorf("@context %s = %v, want %s", p, ctx[p], iri)
		}
	}
	checkPrefixes(t, "catalog", doc)

	// The catalogue.
	if doc["@type"] != "dcat:Catalog" {
		t.Errorf("@type = %v", doc["@type"])
	}
	if pub := doc["dct:publisher"].(map[string]any); pub["foaf:name"] != f.aName || pub["@id"] != "urn:khantara:"+f.a.String() {
		t.Errorf("catalogue publisher = %v", pub)
	}
	if got := doc["dct:title"].(map[string]any); got["@value"] != DefaultCatalogTitle || got["@language"] != "en" {
		t.Errorf("catalogue title = %v", got)
	}
	if got := ids(doc["dct:language"]); !slices.Equal(got, []string{"http://publications.europa.eu/resource/authority/language/ENG"}) {
		t.Errorf("catalogue language = %v", got)
	}
	if got := doc["dct:issued"].(map[string]any); got["@value"] != "2026-11-23T10:00:00Z" || got["@type"] != "xsd:dateTime" {
		t.Errorf("dct:issued = %v", got)
	}
	if got := ids(doc["foaf:homepage"]); !slices.Equal(got, []string{"https://khantara.example"}) {
		t.Errorf("homepage = %v", got)
	}

	// One dataset per practice.
	datasets := doc["dcat:dataset"].([]any)
	if len(datasets) != n {
		t.Fatalf("%d datasets for %d practices", len(datasets), n)
	}
	spatial := map[string]bool{}
	seen := map[string]bool{}
	for _, e := range datasets {
		ds := e.(map[string]any)
		urn := ds["dct:identifier"].(string)
		rest, ok := strings.CutPrefix(urn, "urn:khantara:")
		pub, id, _ := strings.Cut(rest, ":")
		k := key2(pub, id)
		d, known := f.docs[k]
		if !ok || !known || seen[k] {
			t.Fatalf("unexpected or repeated dataset %q", urn)
		}
		seen[k] = true
		raw := d.raw
		if ds["@id"] != urn || ds["@type"] != "dcat:Dataset" {
			t.Errorf("%s: @id %v, @type %v", k, ds["@id"], ds["@type"])
		}

		// Titles and descriptions in every language of the sheet.
		titles, descs := langValues(ds["dct:title"]), langValues(ds["dct:description"])
		lang := str(raw, "language")
		wantTitles := map[string]string{lang: str(raw, "title")}
		wantDescs := map[string]string{lang: cmp.Or(str(raw, "summary"), str(raw, "objective"))}
		wantLangs := []string{demoLang[lang]}
		for _, tag := range sortedKeys(raw, "translations") {
			wantTitles[tag] = str(raw, "translations", tag, "title")
			if desc := cmp.Or(str(raw, "translations", tag, "summary"), str(raw, "translations", tag, "objective")); desc != "" {
				wantDescs[tag] = desc
			}
			wantLangs = append(wantLangs, demoLang[tag])
		}
		if fmt.Sprint(titles) != fmt.Sprint(wantTitles) {
			t.Errorf("%s: titles %v, want %v", k, titles, wantTitles)
		}
		if fmt.Sprint(descs) != fmt.Sprint(wantDescs) {
			t.Errorf("%s: descriptions %q, want %q", k, descs, wantDescs)
		}
		var gotLangs []string
		for _, l := range ids(ds["dct:language"]) {
			gotLangs = append(gotLangs, strings.TrimPrefix(l, "http://publications.europa.eu/resource/authority/language/"))
		}
		if !slices.Equal(gotLangs, wantLangs) {
			t.Errorf("%s: languages %v, want %v", k, gotLangs, wantLangs)
		}

		// Where and when.
		country := str(raw, "country")
		wantSpatial := "http://publications.europa.eu/resource/authority/country/" + demoAlpha3[country]
		if got := ids(ds["dct:spatial"]); demoAlpha3[country] == "" || !slices.Equal(got, []string{wantSpatial}) {
			t.Errorf("%s: spatial %v, want %s", k, got, wantSpatial)
		}
		spatial[country] = true
		period := ds["dct:temporal"].(map[string]any)
		if period["@type"] != "dct:PeriodOfTime" {
			t.Errorf("%s: temporal type %v", k, period["@type"])
		}
		for member, field := range map[string]string{"dcat:startDate": "start_year", "dcat:endDate": "end_year"} {
			want := str(raw, field)
			got, has := period[member].(map[string]any)
			switch {
			case want == "" && has:
				t.Errorf("%s: %s %v, sheet has no %s", k, member, got, field)
			case want != "" && (!has || got["@value"] != want || got["@type"] != "xsd:gYear"):
				t.Errorf("%s: %s %v, want %s as xsd:gYear", k, member, got, want)
			}
		}

		// Who.
		pubAgent := ds["dct:publisher"].(map[string]any)
		wantName := str(raw, "organiser")
		if pub == f.a.String() {
			wantName = f.aName
		}
		if pubAgent["@type"] != "foaf:Agent" || pubAgent["foaf:name"] != wantName {
			t.Errorf("%s: publisher %v, want foaf:Agent %q", k, pubAgent, wantName)
		}
		if got := ids(ds["prov:wasAttributedTo"]); !slices.Equal(got, []string{"urn:khantara:" + pub}) {
			t.Errorf("%s: prov:wasAttributedTo %v, want the publisher's own key", k, got)
		}

		// Keywords, modified, landing page, distribution.
		kw := ds["dcat:keyword"].([]any)
		for _, want := range slices.Concat(strs(raw, "tags"), strs(raw, "dimensions"), strs(raw, "issues")) {
			if !slices.Contains(kw, any(want)) {
				t.Errorf("%s: keyword %q missing from %v", k, want, kw)
			}
		}
		rec := f.record(t, k)
		if got := ds["dct:modified"].(map[string]any); got["@value"] != rec.Announcement().Time.UTC().Format(time.RFC3339Nano) || got["@type"] != "xsd:dateTime" {
			t.Errorf("%s: modified %v", k, got)
		}
		wantLanding := str(raw, "contact", "website")
		if urls := linkURLs(raw); len(urls) > 0 {
			wantLanding = urls[0]
		}
		if got := ids(ds["dcat:landingPage"]); wantLanding != "" && !slices.Equal(got, []string{wantLanding}) {
			t.Errorf("%s: landing page %v, want %s", k, got, wantLanding)
		}
		dist := ds["dcat:distribution"].([]any)[0].(map[string]any)
		if dist["@type"] != "dcat:Distribution" || !slices.Equal(ids(dist["dcat:mediaType"]), []string{"https://www.iana.org/assignments/media-types/application/json"}) {
			t.Errorf("%s: distribution %v", k, dist)
		}
		if _, has := dist["dcat:accessURL"]; has {
			t.Errorf("%s: accessURL without an API URL", k)
		}
	}
	for c := range demoAlpha3 {
		if !spatial[c] {
			t.Errorf("no dataset in %s: the fixture should cover every demo country", c)
		}
	}
}

// TestDCATAPIURL names datasets by their API URL.
func TestDCATAPIURL(t *testing.T) {
	f := newFixture(t)
	_, doc := exportDCAT(t, f, Catalog{NodeID: f.a, APIURL: "https://node.example/", Title: "Katalog", Language: "de"})
	if got := doc["dct:title"].(map[string]any); got["@value"] != "Katalog" || got["@language"] != "de" {
		t.Errorf("title = %v", got)
	}
	if pub := doc["dct:publisher"].(map[string]any); pub["foaf:name"] != "Khantara node "+f.a.String() {
		t.Errorf("catalogue publisher without profiles = %v", pub)
	}
	for _, e := range doc["dcat:dataset"].([]any) {
		ds := e.(map[string]any)
		_, rest, _ := strings.Cut(ds["dct:identifier"].(string), "urn:khantara:")
		pub, id, _ := strings.Cut(rest, ":")
		want := "https://node.example/api/v1/practices/" + pub + "/" + id
		dist := ds["dcat:distribution"].([]any)[0].(map[string]any)
		if ds["@id"] != want || !slices.Equal(ids(dist["dcat:accessURL"]), []string{want}) || !slices.Equal(ids(dist["dcat:downloadURL"]), []string{want}) {
			t.Errorf("dataset %v: @id and distribution URLs should be %s: %v", ds["dct:identifier"], want, dist)
		}
		if pa := ds["dct:publisher"].(map[string]any); pa["foaf:name"] != str(f.docs[key2(pub, id)].raw, "organiser") {
			t.Errorf("without profiles the publisher is the organiser: %v", pa)
		}
	}
}

// TestDCATEdge checks the edge sheet's contact point and translations.
func TestDCATEdge(t *testing.T) {
	f := newFixture(t)
	_, doc := exportDCAT(t, f, Catalog{NodeID: f.a})
	var edge map[string]any
	for _, e := range doc["dcat:dataset"].([]any) {
		if ds := e.(map[string]any); strings.HasSuffix(ds["dct:identifier"].(string), ":edge-cases-test") {
			edge = ds
		}
	}
	if edge == nil {
		t.Fatal("no edge dataset")
	}
	cp := edge["dcat:contactPoint"].(map[string]any)
	if cp["@type"] != "vcard:Organization" || cp["vcard:fn"] != "Edge Org" || cp["vcard:organization-unit"] != "Edge Unit" ||
		!slices.Equal(ids(cp["vcard:hasEmail"]), []string{"mailto:edge@edge.example"}) || !slices.Equal(ids(cp["vcard:hasURL"]), []string{"https://edge.example"}) {
		t.Errorf("contact point = %v", cp)
	}
	if got := langValues(edge["dct:title"]); got["el"] != "Ελληνικός τίτλος" || got["pl"] != "Tytuł z Łodzi" {
		t.Errorf("titles = %v", got)
	}
	if got := langValues(edge["dct:description"]); got["pl"] != "Cel po polsku, z przecinkiem." {
		t.Errorf("descriptions = %v (pl has only an objective)", got)
	}
	kw := edge["dcat:keyword"].([]any)
	if fmt.Sprint(kw) != "[edge housing unicode cultural legal_political language]" {
		t.Errorf("keywords = %v (tags, then codes, once each)", kw)
	}
}

func TestDCATCatalogErrors(t *testing.T) {
	_, pub := testKey(t, 9)
	for _, tc := range []struct {
		name string
		cat  Catalog
		want string
	}{
		{"no node", Catalog{}, "NodeID is required"},
		{"bad node", Catalog{NodeID: peer.ID("nope")}, "NodeID is not a peer ID"},
		{"bad API URL", Catalog{NodeID: pub, APIURL: "127.0.0.1:7400"}, "APIURL"},
		{"bad homepage", Catalog{NodeID: pub, Homepage: "ftp://x.example"}, "Homepage"},
		{"bad language", Catalog{NodeID: pub, Language: "EN"}, "Language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := DCAT(&buf, func(func(*store.Record, error) bool) { t.Fatal("source read") }, tc.cat)
			if err == nil || !strings.Contains(err.Error(), tc.want) || n != 0 || buf.Len() != 0 {
				t.Fatalf("n=%d err=%v output %q, want an error about %s and no output", n, err, buf.String(), tc.want)
			}
		})
	}
}
