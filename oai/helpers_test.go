package oai

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The namespaces as the protocol documents them, spelled out here rather
// than taken from the package, so a typo there fails the tests.
const (
	tnsOAI   = "http://www.openarchives.org/OAI/2.0/"
	tnsXSI   = "http://www.w3.org/2001/XMLSchema-instance"
	tnsOAIDC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
	tnsDC    = "http://purl.org/dc/elements/1.1/"
	tnsXML   = "http://www.w3.org/XML/1998/namespace"
	tnsKhan  = "urn:khantara:factsheet:1"
)

// The two moments at which the fixture applies its batches, and the
// fixed clock of responseDate.
var (
	batch1 = time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC)
	batch2 = time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC)
	nowT   = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
)

// fixture is a store holding the demo catalogue of two publishers, served
// over loopback HTTP.
type fixture struct {
	t       testing.TB
	st      *store.Store
	srv     *httptest.Server
	baseURL string
	pubs    [2]peer.ID
	// items maps every item identifier to what the fixture expects of it.
	items map[string]*item
	// announce seals an announcement of publisher i with its next
	// sequence number; apply stores a batch at a moment, every record
	// applied (newExpFixture adds to the store with them).
	announce func(i int, a *protocol.Announcement) *protocol.Signed
	apply    func(at time.Time, signed []*protocol.Signed)
}

type item struct {
	pub     peer.ID
	sheet   *protocol.FactSheet // nil for a deleted item
	seq     uint64
	stamp   time.Time // expected datestamp
	deleted bool
}

// profileName is the profile of publisher 0; publisher 1 has none.
const profileName = "Comune di Prova – Ufficio Integrazione"

// trickyID is a practice whose texts need escaping.
const trickyID = "escaping-test"

// newFixture applies, in batch 1: every demo sheet (alternating between two
// publishers), a sheet with markup-like text and publisher 0's profile; in
// batch 2: a new version of one practice, retractions of three others and
// (through sheets held back from batch 1) a few new practices.
func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	var mu sync.Mutex
	clock := batch1
	st, err := store.Open(t.TempDir(), store.WithMemTableSize(4<<20), store.WithCacheSize(4<<20),
		store.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, items: map[string]*item{}}
	keys := [2]crypto.PrivKey{testKey(t, 1), testKey(t, 2)}
	for i, k := range keys {
		f.pubs[i], _ = peer.IDFromPrivateKey(k)
	}
	seqs := [2]uint64{}
	announce := func(i int, a *protocol.Announcement) *protocol.Signed {
		t.Helper()
		seqs[i]++
		a.V, a.Seq = protocol.Version, seqs[i]
		a.Time = time.Date(2026, 2, 1, 0, 0, int(a.Seq), 0, time.UTC)
		s, err := protocol.Seal(a, keys[i])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	apply := func(at time.Time, signed []*protocol.Signed) {
		t.Helper()
		mu.Lock()
		clock = at
		mu.Unlock()
		in := make([]store.Incoming, len(signed))
		for i, s := range signed {
			in[i] = store.Incoming{Signed: s, From: "test"}
		}
		res, err := st.Apply(context.Background(), in...)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Outcome != store.Applied {
				t.Fatalf("announcement %d of the batch at %v: %v", i, at, r.Outcome)
			}
		}
	}
	publish := func(i int, s *protocol.FactSheet, at time.Time) *protocol.Signed {
		signed := announce(i, &protocol.Announcement{Kind: protocol.KindPractice, Practice: s})
		f.items[identifierOf(f.pubs[i], s.ID)] = &item{pub: f.pubs[i], sheet: s, seq: signed.Announcement().Seq, stamp: at.Truncate(time.Second)}
		return signed
	}

	sheets := demoSheets(t)
	tricky := *sheets[0]
	tricky.ID = trickyID
	tricky.Title = `Markup <b>&amp; "quotes" ]]> & 'apostrophes'`
	tricky.Summary = "Lines\nand\ttabs, <script>alert(1)</script>"
	tricky.Translations = map[string]protocol.Translation{"fr": {Title: "Balises <i> & «guillemets»"}}

	var b1, b2 []*protocol.Signed
	held := len(sheets) - 5 // the last five arrive in batch 2
	for n, s := range sheets {
		if n < held {
			b1 = append(b1, publish(n%2, s, batch1))
		} else {
			b2 = append(b2, publish(n%2, s, batch2))
		}
	}
	b1 = append(b1, publish(1, &tricky, batch1))
	b1 = append(b1, announce(0, &protocol.Announcement{Kind: protocol.KindProfile,
		Profile: &protocol.Profile{Name: profileName, Country: "IT", Level: "municipality", Website: "https://prova.example.org",
			Languages: []string{"it", "en"}, Description: "Ufficio di prova."}}))
	apply(batch1, b1)

	// Batch 2: a new version of sheet 2 (publisher 0), retractions of
	// sheets 0 and 4 (publisher 0) and 3 (publisher 1).
	updated := *sheets[2]
	updated.Title = "Updated: " + updated.Title
	b2 = append(b2, publish(0, &updated, batch2))
	for _, n := range []int{0, 4, 3} {
		i := n % 2
		signed := announce(i, &protocol.Announcement{Kind: protocol.KindRetract,
			Retract: &protocol.Retraction{ID: sheets[n].ID, Reason: "Test retraction."}})
		b2 = append(b2, signed)
		f.items[identifierOf(f.pubs[i], sheets[n].ID)] = &item{pub: f.pubs[i], seq: signed.Announcement().Seq, stamp: batch2, deleted: true}
	}
	apply(batch2, b2)

	f.announce, f.apply = announce, apply

	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.baseURL = f.srv.URL + "/oai"
	cfg.BaseURL = f.baseURL
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return nowT }
	}
	h := NewHandler(st, cfg)
	mux.Handle("/oai", h)
	mux.Handle("/oai/", h)
	return f
}

func testKey(t testing.TB, seed byte) crypto.PrivKey {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// demoSheets is the demo catalogue, in ID order (the order of its files).
func demoSheets(t testing.TB) []*protocol.FactSheet {
	t.Helper()
	sheets, err := demo.ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	return sheets
}

// ids returns the fixture's item identifiers that pass keep, sorted.
func (f *fixture) ids(keep func(*item) bool) []string {
	var out []string
	for id, it := range f.items {
		if keep == nil || keep(it) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// The response as a harvester decodes it, namespaces checked.

type tResponse struct {
	XMLName        xml.Name   `xml:"http://www.openarchives.org/OAI/2.0/ OAI-PMH"`
	SchemaLocation string     `xml:"http://www.w3.org/2001/XMLSchema-instance schemaLocation,attr"`
	ResponseDate   string     `xml:"http://www.openarchives.org/OAI/2.0/ responseDate"`
	Request        tRequest   `xml:"http://www.openarchives.org/OAI/2.0/ request"`
	Errors         []tError   `xml:"http://www.openarchives.org/OAI/2.0/ error"`
	Identify       *tIdentify `xml:"http://www.openarchives.org/OAI/2.0/ Identify"`
	Formats        *struct {
		Formats []struct {
			Prefix    string `xml:"http://www.openarchives.org/OAI/2.0/ metadataPrefix"`
			Schema    string `xml:"http://www.openarchives.org/OAI/2.0/ schema"`
			Namespace string `xml:"http://www.openarchives.org/OAI/2.0/ metadataNamespace"`
		} `xml:"http://www.openarchives.org/OAI/2.0/ metadataFormat"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ ListMetadataFormats"`
	ListSets *struct {
		Sets []struct {
			Spec         string `xml:"http://www.openarchives.org/OAI/2.0/ setSpec"`
			Name         string `xml:"http://www.openarchives.org/OAI/2.0/ setName"`
			Descriptions []struct {
				DC *tDC `xml:"http://www.openarchives.org/OAI/2.0/oai_dc/ dc"`
			} `xml:"http://www.openarchives.org/OAI/2.0/ setDescription"`
		} `xml:"http://www.openarchives.org/OAI/2.0/ set"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ ListSets"`
	GetRecord *struct {
		Record tRecord `xml:"http://www.openarchives.org/OAI/2.0/ record"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ GetRecord"`
	ListIdentifiers *struct {
		Headers []tHeader `xml:"http://www.openarchives.org/OAI/2.0/ header"`
		Token   *tToken   `xml:"http://www.openarchives.org/OAI/2.0/ resumptionToken"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ ListIdentifiers"`
	ListRecords *struct {
		Records []tRecord `xml:"http://www.openarchives.org/OAI/2.0/ record"`
		Token   *tToken   `xml:"http://www.openarchives.org/OAI/2.0/ resumptionToken"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ ListRecords"`
}

type tRequest struct {
	Attrs []xml.Attr `xml:",any,attr"`
	URL   string     `xml:",chardata"`
}

func (r tRequest) attr(name string) string {
	for _, a := range r.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

type tError struct {
	Code    string `xml:"code,attr"`
	Message string `xml:",chardata"`
}

type tIdentify struct {
	RepositoryName    string   `xml:"http://www.openarchives.org/OAI/2.0/ repositoryName"`
	BaseURL           string   `xml:"http://www.openarchives.org/OAI/2.0/ baseURL"`
	ProtocolVersion   string   `xml:"http://www.openarchives.org/OAI/2.0/ protocolVersion"`
	AdminEmail        []string `xml:"http://www.openarchives.org/OAI/2.0/ adminEmail"`
	EarliestDatestamp string   `xml:"http://www.openarchives.org/OAI/2.0/ earliestDatestamp"`
	DeletedRecord     string   `xml:"http://www.openarchives.org/OAI/2.0/ deletedRecord"`
	Granularity       string   `xml:"http://www.openarchives.org/OAI/2.0/ granularity"`
	Descriptions      []struct {
		Repository *struct {
			Node             string `xml:"urn:khantara:factsheet:1 node"`
			IdentifierFormat string `xml:"urn:khantara:factsheet:1 identifierFormat"`
		} `xml:"urn:khantara:factsheet:1 repository"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ description"`
}

type tRecord struct {
	Header   tHeader `xml:"http://www.openarchives.org/OAI/2.0/ header"`
	Metadata *struct {
		DC         *tDC   `xml:"http://www.openarchives.org/OAI/2.0/oai_dc/ dc"`
		FactSheet  *tNode `xml:"urn:khantara:factsheet:1 factsheet"`
		Experience *tNode `xml:"urn:khantara:factsheet:1 experience"`
	} `xml:"http://www.openarchives.org/OAI/2.0/ metadata"`
}

type tHeader struct {
	Status     string   `xml:"status,attr"`
	Identifier string   `xml:"http://www.openarchives.org/OAI/2.0/ identifier"`
	Datestamp  string   `xml:"http://www.openarchives.org/OAI/2.0/ datestamp"`
	SetSpecs   []string `xml:"http://www.openarchives.org/OAI/2.0/ setSpec"`
}

type tToken struct {
	CompleteListSize string `xml:"completeListSize,attr"`
	Cursor           string `xml:"cursor,attr"`
	Value            string `xml:",chardata"`
}

type tDC struct {
	SchemaLocation string `xml:"http://www.w3.org/2001/XMLSchema-instance schemaLocation,attr"`
	Elements       []struct {
		XMLName xml.Name
		Lang    string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

// values returns the values of dc:<name>, each prefixed with "[lang] " when
// it has an xml:lang.
func (d *tDC) values(name string) []string {
	var out []string
	for _, e := range d.Elements {
		if e.XMLName.Space == tnsDC && e.XMLName.Local == name {
			v := e.Value
			if e.Lang != "" {
				v = "[" + e.Lang + "] " + v
			}
			out = append(out, v)
		}
	}
	return out
}

// tNode is any element, kept whole.
type tNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []tNode    `xml:",any"`
}

// get sends a GET with the raw query and decodes the answer.
func (f *fixture) get(rawQuery string) *tResponse {
	f.t.Helper()
	resp, err := http.Get(f.baseURL + "?" + rawQuery)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.decode(resp)
}

// query sends a GET with the arguments, given as name, value pairs.
func (f *fixture) query(args ...string) *tResponse {
	f.t.Helper()
	return f.get(form(args...).Encode())
}

// postRaw sends the raw query as an application/x-www-form-urlencoded body.
func (f *fixture) postRaw(body string) *tResponse {
	f.t.Helper()
	resp, err := http.Post(f.baseURL, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	return f.decode(resp)
}

// post sends the arguments as an application/x-www-form-urlencoded body.
func (f *fixture) post(args ...string) *tResponse {
	f.t.Helper()
	resp, err := http.PostForm(f.baseURL, form(args...))
	if err != nil {
		f.t.Fatal(err)
	}
	return f.decode(resp)
}

func form(args ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(args); i += 2 {
		v.Add(args[i], args[i+1])
	}
	return v
}

// decode checks what every response must be: HTTP 200, text/xml in
// UTF-8, well-formed XML with one OAI-PMH root in its namespace, a
// responseDate, a request element with the base URL, and exactly one of
// an error list or a verb's answer.
func (f *fixture) decode(resp *http.Response) *tResponse {
	f.t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		f.t.Fatalf("Content-Type %q", ct)
	}
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		f.t.Fatalf("no XML declaration: %.80s", body)
	}
	checkWellFormed(f.t, body)
	var r tResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		f.t.Fatalf("decode: %v\n%s", err, body)
	}
	if r.SchemaLocation != tnsOAI+" http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd" {
		f.t.Errorf("schemaLocation %q", r.SchemaLocation)
	}
	if got := r.ResponseDate; got != nowT.Format("2006-01-02T15:04:05Z") {
		f.t.Errorf("responseDate %q", got)
	}
	if r.Request.URL != f.baseURL {
		f.t.Errorf("request element %q, want the base URL %q", r.Request.URL, f.baseURL)
	}
	answers := 0
	for _, present := range []bool{len(r.Errors) > 0, r.Identify != nil, r.Formats != nil, r.ListSets != nil,
		r.GetRecord != nil, r.ListIdentifiers != nil, r.ListRecords != nil} {
		if present {
			answers++
		}
	}
	if answers != 1 {
		f.t.Fatalf("response has %d answers, want 1:\n%s", answers, body)
	}
	return &r
}

// checkWellFormed reads every token of the document: one root element,
// nothing but white space and processing instructions outside it, every
// prefix bound.
func checkWellFormed(t testing.TB, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			// An unbound prefix is left as the namespace by the decoder.
			for _, n := range append([]xml.Name{tok.Name}, attrNames(tok.Attr)...) {
				if n.Space != "" && !strings.Contains(n.Space, ":") && n.Space != "xmlns" {
					t.Fatalf("unbound prefix %q on %q", n.Space, n.Local)
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				t.Fatalf("text outside the root element: %q", tok)
			}
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("document has %d root elements", roots)
	}
}

func attrNames(as []xml.Attr) []xml.Name {
	out := make([]xml.Name, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

// walk harvests a whole list, following resumption tokens, and returns
// its headers (with, for ListRecords, the records) in order and the
// responses' tokens.
func (f *fixture) walk(verb string, args ...string) ([]tRecord, []*tToken) {
	f.t.Helper()
	var recs []tRecord
	var toks []*tToken
	r := f.query(append([]string{"verb", verb}, args...)...)
	for i := 0; ; i++ {
		if len(r.Errors) > 0 {
			f.t.Fatalf("page %d of %s %v: %+v", i, verb, args, r.Errors)
		}
		var tok *tToken
		if verb == "ListRecords" {
			recs = append(recs, r.ListRecords.Records...)
			tok = r.ListRecords.Token
		} else {
			for _, h := range r.ListIdentifiers.Headers {
				recs = append(recs, tRecord{Header: h})
			}
			tok = r.ListIdentifiers.Token
		}
		toks = append(toks, tok)
		if tok == nil || tok.Value == "" {
			return recs, toks
		}
		if i > 1000 {
			f.t.Fatal("the list does not end")
		}
		r = f.query("verb", verb, "resumptionToken", tok.Value)
		if got := r.Request.attr("resumptionToken"); got != tok.Value {
			f.t.Fatalf("request echoes token %q, want %q", got, tok.Value)
		}
	}
}

func identifiersOf(recs []tRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Header.Identifier
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// must returns v, failing the test if err is set: must(f())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
