package oai

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/store"
)

func TestEmptyRepository(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.WithMemTableSize(4<<20), store.WithCacheSize(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := newServer(t, st, Config{AdminEmail: "oai@region.example.org"})
	f := &fixture{t: t, srv: srv, baseURL: srv.URL + "/oai"}

	r := f.query("verb", "Identify")
	if r.Identify.EarliestDatestamp != stamp(nowT) || r.Identify.AdminEmail[0] != "oai@region.example.org" {
		t.Errorf("Identify of an empty repository: %+v", r.Identify)
	}
	r = f.query("verb", "ListRecords", "metadataPrefix", "oai_dc")
	if len(r.Errors) != 1 || r.Errors[0].Code != "noRecordsMatch" {
		t.Errorf("ListRecords of an empty repository: %+v", r.Errors)
	}
	r = f.query("verb", "ListSets")
	if len(r.ListSets.Sets) != 1 || r.ListSets.Sets[0].Spec != "publisher" {
		t.Errorf("ListSets of an empty repository: %+v", r.ListSets)
	}
}

func newServer(t *testing.T, st *store.Store, cfg Config) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + "/oai"
	cfg.Now = func() time.Time { return nowT }
	mux.Handle("/oai", NewHandler(st, cfg))
	return srv
}

// TestPost harvests over POST as over GET.
func TestPost(t *testing.T) {
	f := newFixture(t, Config{PageSize: 10})
	r := f.post("verb", "ListIdentifiers", "metadataPrefix", "khantara", "set", "publisher:"+f.pubs[0].String())
	if r.ListIdentifiers == nil || r.Request.attr("set") != "publisher:"+f.pubs[0].String() {
		t.Fatalf("%+v", r.Errors)
	}
	var got []string
	for tok := ""; ; {
		var r *tResponse
		if tok == "" {
			r = f.post("verb", "ListRecords", "metadataPrefix", "oai_dc")
		} else {
			r = f.post("verb", "ListRecords", "resumptionToken", tok)
		}
		if r.ListRecords == nil {
			t.Fatalf("%+v", r.Errors)
		}
		got = append(got, identifiersOf(r.ListRecords.Records)...)
		if tok = r.ListRecords.Token.Value; tok == "" {
			break
		}
	}
	if !slices.Equal(sortedCopy(got), f.ids(nil)) {
		t.Errorf("POST harvest got %v", got)
	}
	id := f.ids(nil)[0]
	if r := f.post("verb", "GetRecord", "identifier", id, "metadataPrefix", "oai_dc"); r.GetRecord == nil || r.GetRecord.Record.Header.Identifier != id {
		t.Errorf("POST GetRecord: %+v", r.Errors)
	}
}

func TestHTTP(t *testing.T) {
	f := newFixture(t, Config{})
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodHead} {
		req, _ := http.NewRequest(method, f.baseURL+"?verb=Identify", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("%s: HTTP %d, Allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}

	resp, err := http.Get(f.baseURL + "/" + SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("schema: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkWellFormed(t, body)
	var schema struct {
		XMLName         xml.Name `xml:"http://www.w3.org/2001/XMLSchema schema"`
		TargetNamespace string   `xml:"targetNamespace,attr"`
	}
	if err := xml.Unmarshal(body, &schema); err != nil || schema.TargetNamespace != tnsKhan {
		t.Errorf("schema: %v, targetNamespace %q", err, schema.TargetNamespace)
	}
}

// TestToken round-trips a token whose store cursor holds the separator.
func TestToken(t *testing.T) {
	q := listQuery{records: true, prefix: "khantara", from: "2026-01-01", until: "2026-02-01", set: "publisher",
		cursor: 20, total: 0, after: "s\x05ab|c|d\x00|"}
	got, err := parseToken(q.token(), true)
	if err != nil || got != q {
		t.Errorf("parseToken(token(%+v)) = %+v, %v", q, got, err)
	}
	if _, err := parseToken(q.token(), false); err == nil {
		t.Error("a ListRecords token was accepted for ListIdentifiers")
	}
}
