package node

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestAPIRefusals(t *testing.T) {
	n := newTestNet(t, 1).add()
	const token = "0123456789abcdef"
	srv := httptest.NewServer(n.APIHandler(token))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	sheet, err := os.ReadFile("../demo/sheets/cric-roubaix.yaml")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		method, path string
		body         string
		header       map[string]string
		host         string // Host header; the server's address when empty
		code         int
	}{
		{"no token", "POST", "/api/v1/practices", string(sheet), nil, "", 401},
		{"wrong token", "POST", "/api/v1/practices", string(sheet), map[string]string{"Authorization": "Bearer " + token + "0"}, "", 401},
		{"not bearer", "POST", "/api/v1/practices", string(sheet), map[string]string{"Authorization": token}, "", 401},
		{"retract without token", "POST", "/api/v1/practices/cric-roubaix/retract", "", nil, "", 401},
		{"foreign origin", "GET", "/api/v1/status", "", map[string]string{"Origin": "http://evil.example"}, "", 403},
		{"foreign origin with token", "POST", "/api/v1/practices", string(sheet), map[string]string{"Authorization": "Bearer " + token, "Origin": "https://" + host}, "", 403},
		{"wrong host", "GET", "/api/v1/status", "", nil, "evil.example:80", 403},
		{"wrong host, right port", "GET", "/api/v1/status", "", nil, "evil.example:" + host[strings.LastIndex(host, ":")+1:], 403},
		{"invalid sheet", "POST", "/api/v1/practices", "id: x\n", map[string]string{"Authorization": "Bearer " + token}, "", 400},
		{"unknown practice", "GET", "/api/v1/practices/" + n.ID().String() + "/nope", "", nil, "", 404},
		{"bad publisher", "GET", "/api/v1/practices/nobody/nope", "", nil, "", 400},
		{"retract unknown", "POST", "/api/v1/practices/nope/retract", "", map[string]string{"Authorization": "Bearer " + token}, "", 404},
		// What is refused above is accepted when right, so that the
		// refusals cannot pass by refusing everything.
		{"same origin", "GET", "/api/v1/status", "", map[string]string{"Origin": "http://" + host}, "", 200},
		{"localhost", "GET", "/api/v1/status", "", nil, "localhost" + host[strings.LastIndex(host, ":"):], 200},
		{"publish", "POST", "/api/v1/practices", string(sheet), map[string]string{"Authorization": "Bearer " + token}, "", 200},
		{"read", "GET", "/api/v1/practices/" + n.ID().String() + "/cric-roubaix", "", nil, "", 200},
		{"retract", "POST", "/api/v1/practices/cric-roubaix/retract", `{"reason": "ended"}`, map[string]string{"Authorization": "Bearer " + token}, "", 200},
		{"retract again", "POST", "/api/v1/practices/cric-roubaix/retract", "", map[string]string{"Authorization": "Bearer " + token}, "", 409},
		{"retract the profile slot", "POST", "/api/v1/practices/_profile/retract", "", map[string]string{"Authorization": "Bearer " + token}, "", 404},
		{"profile without token", "PUT", "/api/v1/profile", testProfile, nil, "", 401},
		{"profile with wrong token", "PUT", "/api/v1/profile", testProfile, map[string]string{"Authorization": "Bearer nope"}, "", 401},
		{"invalid profile", "PUT", "/api/v1/profile", "name: x\nlevel: town\n", map[string]string{"Authorization": "Bearer " + token}, "", 400},
		{"no own profile yet", "GET", "/api/v1/profile", "", nil, "", 404},
		{"profile of a bad publisher", "GET", "/api/v1/profile?publisher=nobody", "", nil, "", 400},
		{"profile of an unknown publisher", "GET", "/api/v1/profile?publisher=" + testKeyID(t, 99), "", nil, "", 404},
		{"set profile", "PUT", "/api/v1/profile", testProfile, map[string]string{"Authorization": "Bearer " + token}, "", 200},
		{"own profile", "GET", "/api/v1/profile", "", nil, "", 200},
		{"bad dry_run", "POST", "/api/v1/practices?dry_run=maybe", string(sheet), map[string]string{"Authorization": "Bearer " + token}, "", 400},
		{"dry run without token", "POST", "/api/v1/practices?dry_run=1", string(sheet), nil, "", 401},
		{"list, bad publisher", "GET", "/api/v1/practices?publisher=nobody", "", nil, "", 400},
		{"list, misspelt parameter", "GET", "/api/v1/practices?publsher=x", "", nil, "", 400},
		{"list, mine and another publisher", "GET", "/api/v1/practices?mine=1&publisher=" + testKeyID(t, 99), "", nil, "", 400},
		{"list, limit 0", "GET", "/api/v1/practices?limit=0", "", nil, "", 400},
		{"list, limit too large", "GET", "/api/v1/practices?limit=1001", "", nil, "", 400},
		{"list, limit not a number", "GET", "/api/v1/practices?limit=ten", "", nil, "", 400},
		{"list, after not base64", "GET", "/api/v1/practices?after=%21%21", "", nil, "", 400},
		{"list, after not a cursor", "GET", "/api/v1/practices?after=enp6", "", nil, "", 400},
		{"list, after of an unknown record", "GET", "/api/v1/practices?after=" + cursorOf(n.ID().String(), "nope"), "", nil, "", 400},
		{"list, max limit", "GET", "/api/v1/practices?limit=1000&retracted=true", "", nil, "", 200},
		{"unknown route", "GET", "/api/v1/nope", "", nil, "", 404},
		{"unknown route outside the API", "GET", "/nope", "", nil, "", 404},
		{"web page, wrong host", "GET", "/", "", nil, "evil.example:80", 403},
		{"trailing slash", "GET", "/api/v1/practices/", "", nil, "", 404},
		{"wrong method", "DELETE", "/api/v1/status", "", nil, "", 405},
		{"too deep a path", "GET", "/api/v1/practices/cric-roubaix/retract/x", "", nil, "", 404},
		{"put practices", "PUT", "/api/v1/practices", string(sheet), map[string]string{"Authorization": "Bearer " + token}, "", 405},
		{"metrics, foreign origin", "GET", "/metrics", "", map[string]string{"Origin": "http://evil.example"}, "", 403},
		{"metrics, wrong host", "GET", "/metrics", "", nil, "evil.example:80", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, raw)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body is not a JSON object: %v: %s", err, raw)
			}
			if msg, _ := body["error"].(string); (msg != "") != (tc.code != 200) {
				t.Errorf("error %q in a %d answer: %s", msg, tc.code, raw)
			}
			if allow := resp.Header.Get("Allow"); (allow != "") != (tc.code == 405) {
				t.Errorf("Allow %q in a %d answer", allow, tc.code)
			}
		})
	}
}

func TestAPIStatusAndRecord(t *testing.T) {
	n := newTestNet(t, 2).add()
	srv := httptest.NewServer(n.APIHandler("t"))
	t.Cleanup(srv.Close)
	publish(t, n, demoSheets(t)[0])

	var st APIStatus
	apiGetJSON(t, srv.URL+"/api/v1/status", &st)
	if st.PeerID != n.ID().String() || st.Practices != 1 || st.Publishers != 1 || len(st.Digest) != 32 {
		t.Errorf("status %+v", st)
	}
	if len(st.Addrs) == 0 || !strings.HasSuffix(st.Addrs[0], "/p2p/"+n.ID().String()) {
		t.Errorf("addrs %v do not end in /p2p/<peer ID>", st.Addrs)
	}
	id := demoSheets(t)[0].ID
	var rec APIRecord
	apiGetJSON(t, srv.URL+"/api/v1/practices/"+n.ID().String()+"/"+id, &rec)
	if rec.ID != id || rec.Seq != 1 || rec.Kind != "practice" || rec.Title == "" || rec.ReceivedAt.IsZero() {
		t.Errorf("record %+v", rec)
	}
}

func apiGetJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, raw)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAPIToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "api.token")
	tok, err := LoadAPIToken(path)
	if err != nil || len(tok) != 64 {
		t.Fatalf("new token %q, %v", tok, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", fi.Mode(), err)
	}
	if again, err := LoadAPIToken(path); err != nil || again != tok {
		t.Fatalf("reloaded %q, %v; want %q", again, err, tok)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadAPIToken(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable token accepted: %v", err)
	}
}

const testProfile = `name: Ville de Roubaix
country: FR
level: municipality
website: https://www.ville-roubaix.fr
languages: [fr]
`

// testKeyID is the peer ID of testKey(seed).
func testKeyID(t testing.TB, seed uint64) string {
	t.Helper()
	id, err := peer.IDFromPrivateKey(testKey(t, seed))
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// cursorOf builds an after= value the way the API encodes its cursors.
func cursorOf(pub, slot string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pub + "/" + slot))
}

// apiClient calls one node's API over real loopback HTTP.
type apiClient struct {
	t     testing.TB
	srv   *httptest.Server
	token string
}

func newAPIClient(t testing.TB, n *Node) *apiClient {
	t.Helper()
	c := &apiClient{t: t, token: "test-token"}
	c.srv = httptest.NewServer(n.APIHandler(c.token))
	t.Cleanup(c.srv.Close)
	return c
}

// do sends a request, with the token when auth is set, and returns the
// status code and the body.
func (c *apiClient) do(method, path, body string, auth bool) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// ok sends a request that must succeed and decodes the answer into v.
func (c *apiClient) ok(method, path, body string, auth bool, v any) {
	c.t.Helper()
	code, raw := c.do(method, path, body, auth)
	if code != http.StatusOK {
		c.t.Fatalf("%s %s: %d: %s", method, path, code, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
}

// fail sends a request that must fail with code and returns its error.
func (c *apiClient) fail(method, path, body string, auth bool, code int) APIError {
	c.t.Helper()
	got, raw := c.do(method, path, body, auth)
	var e APIError
	if err := json.Unmarshal(raw, &e); err != nil || got != code || e.Error == "" {
		c.t.Fatalf("%s %s: %d %s, want %d and a JSON error (%v)", method, path, got, raw, code, err)
	}
	return e
}

// walk lists path page by page with limit=1, following next to the end.
func (c *apiClient) walk(path string) []APIPractice {
	c.t.Helper()
	var all []APIPractice
	after := ""
	for range 100 {
		var page APIPracticeList
		c.ok("GET", path+"&limit=1"+after, "", false, &page)
		if len(page.Practices) != 1 {
			c.t.Fatalf("page of %d practices with limit=1 (after %q): %+v", len(page.Practices), after, page)
		}
		all = append(all, page.Practices...)
		if page.Next == "" {
			return all
		}
		after = "&after=" + url.QueryEscape(page.Next)
	}
	c.t.Fatalf("listing %s does not end", path)
	return nil
}

func ids(ps []APIPractice) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Publisher[len(p.Publisher)-4:]+"/"+p.ID+"/"+string(p.Kind))
	}
	return out
}

// Two nodes publish, one retracts, both set profiles, then they sync: the
// listing, record, profile, peers, status and metrics routes of one of
// them must show all of it.
func TestAPIFederatedCatalogue(t *testing.T) {
	tn := newTestNet(t, 3)
	a, b := tn.add(), tn.add()
	ca, cb := newAPIClient(t, a), newAPIClient(t, b)
	sheets := demoSheets(t)
	for _, s := range sheets[:3] {
		publish(t, a, s)
	}
	shared := sheets[0].ID // published by both
	publish(t, b, sheets[0])
	publish(t, b, sheets[3])
	var pub APIPublished
	ca.ok("POST", "/api/v1/practices/"+sheets[1].ID+"/retract", `{"reason": "ended in 2020"}`, true, &pub)
	if pub.ID != sheets[1].ID || pub.Seq != 4 || pub.Publisher != a.ID().String() || len(pub.Hash) != 64 || pub.DryRun {
		t.Fatalf("retract answered %+v", pub)
	}
	ca.ok("PUT", "/api/v1/profile", testProfile, true, &pub)
	if pub.ID != protocol.ProfileSlot || pub.Seq != 5 {
		t.Fatalf("profile answered %+v", pub)
	}
	cb.ok("PUT", "/api/v1/profile", `{"name": "Comune di Milano", "country": "IT", "level": "municipality"}`, true, &pub)

	tn.connect(a, b)
	tn.eventually(20*time.Second, "a and b converge", func() bool { return converged(t, tn.nodes) })
	tn.eventually(10*time.Second, "a records its sync with b", func() bool {
		ss := a.SyncStatus()
		return len(ss) == 1 && ss[0].Peer == b.ID() && ss[0].Err == ""
	})

	t.Run("list", func(t *testing.T) {
		var all APIPracticeList
		ca.ok("GET", "/api/v1/practices?limit=1000", "", false, &all)
		if len(all.Practices) != 4 || all.Next != "" {
			t.Fatalf("full listing %v, next %q; want 4 practices and no next", ids(all.Practices), all.Next)
		}
		for _, p := range all.Practices {
			if p.Kind != protocol.KindPractice || p.Title == "" || p.Country == "" || p.Organiser == "" || p.Time.IsZero() || p.ReceivedAt.IsZero() {
				t.Errorf("listed %+v", p)
			}
			if (p.From == "") != (p.Publisher == a.ID().String()) {
				t.Errorf("from %q for a practice of %s", p.From, p.Publisher)
			}
		}
		if walked := ca.walk("/api/v1/practices?"); !slices.Equal(ids(walked), ids(all.Practices)) {
			t.Errorf("walking pages of 1 gave %v, want %v", ids(walked), ids(all.Practices))
		}
		withRetracted := ca.walk("/api/v1/practices?retracted=1")
		if len(withRetracted) != 5 {
			t.Errorf("with retracted: %v, want 5", ids(withRetracted))
		}
		var page APIPracticeList
		ca.ok("GET", "/api/v1/practices?limit=4", "", false, &page)
		if len(page.Practices) != 4 || page.Next != "" {
			t.Errorf("a page holding exactly the rest has next %q", page.Next)
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string // publisher (a or b) and ID of each result, in order
		}{
			{"mine=1", []string{"a/" + sheets[0].ID, "a/" + sheets[2].ID}},
			{"mine=1&retracted=1", []string{"a/" + sheets[0].ID, "a/" + sheets[1].ID, "a/" + sheets[2].ID}},
			{"publisher=" + b.ID().String(), []string{"b/" + sheets[0].ID, "b/" + sheets[3].ID}},
			{"mine=1&publisher=" + a.ID().String(), []string{"a/" + sheets[0].ID, "a/" + sheets[2].ID}},
			{"id=" + shared, sortedByPublisher(a, b, "a/"+shared, "b/"+shared)},
			{"id=" + shared + "&publisher=" + b.ID().String(), []string{"b/" + shared}},
			{"id=" + sheets[1].ID, nil},
			{"id=" + sheets[1].ID + "&retracted=1", []string{"a/" + sheets[1].ID}},
			{"id=" + protocol.ProfileSlot + "&retracted=1", nil},
			{"id=nothing-here", nil},
		}
		name := map[string]string{a.ID().String(): "a", b.ID().String(): "b"}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				var page APIPracticeList
				ca.ok("GET", "/api/v1/practices?"+tc.query, "", false, &page)
				var got []string
				for _, p := range page.Practices {
					got = append(got, name[p.Publisher]+"/"+p.ID)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				if len(tc.want) > 1 {
					if walked := ca.walk("/api/v1/practices?" + tc.query); len(walked) != len(tc.want) {
						t.Errorf("walking pages of 1 gave %v", ids(walked))
					}
				}
			})
		}
		// A cursor only resumes the listing it came from.
		var page APIPracticeList
		ca.ok("GET", "/api/v1/practices?mine=1&limit=1", "", false, &page)
		ca.fail("GET", "/api/v1/practices?publisher="+b.ID().String()+"&after="+page.Next, "", false, 400)
		ca.fail("GET", "/api/v1/practices?id="+shared+"&after="+cursorOf(a.ID().String(), sheets[2].ID), "", false, 400)
	})

	t.Run("record", func(t *testing.T) {
		var rec APIRecord
		ca.ok("GET", "/api/v1/practices/"+b.ID().String()+"/"+sheets[3].ID, "", false, &rec)
		if !rec.SignatureVerified || rec.Practice == nil || rec.Practice.ID != sheets[3].ID || rec.Retraction != nil ||
			rec.From != b.ID().String() || rec.Kind != protocol.KindPractice || rec.Seq != 2 {
			t.Errorf("record %+v", rec)
		}
		if rec.Profile == nil || rec.Profile.Name != "Comune di Milano" {
			t.Errorf("record's profile %+v, want b's", rec.Profile)
		}
		// The envelope is the signed original: it verifies on its own.
		s, err := protocol.Open(rec.Envelope)
		if err != nil || s.Hash().String() != rec.Hash || s.Announcement().Publisher != b.ID() {
			t.Errorf("envelope does not verify as %s: %v", rec.Hash, err)
		}

		var gone APIRecord
		ca.ok("GET", "/api/v1/practices/"+a.ID().String()+"/"+sheets[1].ID, "", false, &gone)
		if !gone.SignatureVerified || gone.Kind != protocol.KindRetract || gone.Practice != nil || gone.Title != "" ||
			gone.Retraction == nil || gone.Retraction.Reason != "ended in 2020" || gone.Profile == nil || gone.Profile.Name != "Ville de Roubaix" {
			t.Errorf("retracted record %+v", gone)
		}
		ca.fail("GET", "/api/v1/practices/"+b.ID().String()+"/"+sheets[1].ID, "", false, 404)
	})

	t.Run("profile", func(t *testing.T) {
		var own, other APIProfile
		ca.ok("GET", "/api/v1/profile", "", false, &own)
		if own.Publisher != a.ID().String() || own.Seq != 5 || own.Profile.Name != "Ville de Roubaix" || own.Profile.Level != "municipality" {
			t.Errorf("own profile %+v", own)
		}
		ca.ok("GET", "/api/v1/profile?publisher="+b.ID().String(), "", false, &other)
		if other.Publisher != b.ID().String() || other.Profile.Name != "Comune di Milano" {
			t.Errorf("b's profile %+v", other)
		}
	})

	t.Run("peers", func(t *testing.T) {
		var peers []APIPeer
		ca.ok("GET", "/api/v1/peers", "", false, &peers)
		if len(peers) != 1 {
			t.Fatalf("peers %+v, want b alone", peers)
		}
		p := peers[0]
		if p.ID != b.ID().String() || p.Organisation != "Comune di Milano" || p.Direction != "outbound" || len(p.Addrs) == 0 {
			t.Errorf("peer %+v", p)
		}
		if p.LastSync == nil || p.LastSync.Peer != p.ID || p.LastSync.At.IsZero() || p.LastSync.Error != "" || p.LastSync.BytesSent == 0 {
			t.Errorf("peer's last sync %+v", p.LastSync)
		}
		var fromB []APIPeer
		cb.ok("GET", "/api/v1/peers", "", false, &fromB)
		if len(fromB) != 1 || fromB[0].ID != a.ID().String() || fromB[0].Direction != "inbound" || fromB[0].Organisation != "Ville de Roubaix" {
			t.Errorf("b's peers %+v", fromB)
		}
	})

	t.Run("status", func(t *testing.T) {
		var st APIStatus
		ca.ok("GET", "/api/v1/status", "", false, &st)
		want := APIStatus{PeerID: a.ID().String(), Network: a.Config().Network, Organisation: "Ville de Roubaix", Peers: 1,
			Practices: 4, Retracted: 1, Profiles: 2, Publishers: 2}
		got := st
		got.Addrs, got.Digest, got.StartedAt, got.Gossip, got.Syncs = nil, "", time.Time{}, APIGossip{}, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("status %+v, want %+v", got, want)
		}
		if st.StartedAt.IsZero() || st.StartedAt.After(time.Now()) || time.Since(st.StartedAt) > time.Minute {
			t.Errorf("started_at %v", st.StartedAt)
		}
		fp := digest(t, b).Fingerprint()
		if st.Digest != hex.EncodeToString(fp[:]) {
			t.Errorf("digest %s differs from b's after convergence", st.Digest)
		}
		if st.Gossip.Rejected == nil || st.Gossip.Ignored == nil {
			t.Errorf("gossip %+v: the maps must be objects, never null", st.Gossip)
		}
		if len(st.Syncs) != 1 || st.Syncs[0].Peer != b.ID().String() || st.Syncs[0].Applied == 0 {
			t.Errorf("syncs %+v", st.Syncs)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := ca.srv.Client().Get(ca.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatalf("metrics do not parse: %v", err)
		}
		value := func(name string, labels ...string) (float64, bool) {
			f := fams[name]
			if f == nil {
				return 0, false
			}
		next:
			for _, m := range f.GetMetric() {
				for i := 0; i < len(labels); i += 2 {
					if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
						return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
					}) {
						continue next
					}
				}
				switch {
				case m.Gauge != nil:
					return m.GetGauge().GetValue(), true
				case m.Counter != nil:
					return m.GetCounter().GetValue(), true
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount()), true
				}
			}
			return 0, false
		}
		st := a.Stats()
		exact := []struct {
			name   string
			labels []string
			want   float64
		}{
			{"khantara_peers", nil, 1},
			{"khantara_catalogue_records", []string{"kind", "practice"}, 4},
			{"khantara_catalogue_records", []string{"kind", "retracted"}, 1},
			{"khantara_catalogue_records", []string{"kind", "profile"}, 2},
			{"khantara_publishers", nil, 2},
			{"khantara_equivocations", nil, 0},
			{"khantara_gossip_messages_total", []string{"verdict", "rejected", "reason", ReasonBadSignature}, 0},
			{"khantara_gossip_messages_total", []string{"verdict", "ignored", "reason", ReasonDuplicate}, float64(st.Ignored[ReasonDuplicate])},
			{"khantara_sync_failures_total", nil, float64(st.SyncFailures)},
		}
		for _, m := range exact {
			if got, ok := value(m.name, m.labels...); !ok || got != m.want {
				t.Errorf("%s%v = %v (present %v), want %v", m.name, m.labels, got, ok, m.want)
			}
		}
		atLeast := []struct {
			name   string
			labels []string
			min    float64
		}{
			{"khantara_gossip_messages_total", []string{"verdict", "accepted"}, 0},
			{"khantara_sync_rounds_total", nil, 1},
			{"khantara_sync_bytes_total", []string{"direction", "sent"}, 1},
			{"khantara_sync_bytes_total", []string{"direction", "received"}, 1},
			{"khantara_announcements_applied_total", nil, 3}, // b's 2 practices and profile
			{"khantara_start_time_seconds", nil, 1.7e9},
			{"khantara_api_request_duration_seconds", []string{"route", "GET /api/v1/practices", "method", "GET", "code", "200"}, 10},
			{"khantara_api_request_duration_seconds", []string{"route", "GET /api/v1/practices/{publisher}/{id}", "code", "404"}, 1},
			{"khantara_api_request_duration_seconds", []string{"route", "POST /api/v1/practices/{id}/retract", "method", "POST", "code", "200"}, 1},
			{"go_goroutines", nil, 1},
			{"process_start_time_seconds", nil, 1},
		}
		for _, m := range atLeast {
			if got, ok := value(m.name, m.labels...); !ok || got < m.min {
				t.Errorf("%s%v = %v (present %v), want at least %v", m.name, m.labels, got, ok, m.min)
			}
		}
		// Routes label patterns, never raw paths.
		for _, m := range fams["khantara_api_request_duration_seconds"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && strings.Contains(l.GetValue(), a.ID().String()) {
					t.Errorf("route label %q holds a raw path", l.GetValue())
				}
			}
		}
	})
}

// sortedByPublisher orders "a/..." and "b/..." as the API lists a's and
// b's records: by publisher.
func sortedByPublisher(a, b *Node, forA, forB string) []string {
	if protocol.ComparePublishers(a.ID(), b.ID()) < 0 {
		return []string{forA, forB}
	}
	return []string{forB, forA}
}

func TestAPIDryRun(t *testing.T) {
	n := newTestNet(t, 4).add()
	c := newAPIClient(t, n)
	sheet, err := os.ReadFile("../demo/sheets/cric-roubaix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pub APIPublished
	c.ok("POST", "/api/v1/practices?dry_run=1", string(sheet), true, &pub)
	if pub != (APIPublished{Publisher: n.ID().String(), ID: "cric-roubaix", DryRun: true}) {
		t.Errorf("dry run answered %+v", pub)
	}
	if _, err := n.Store().PublisherSummary(n.ID()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a dry run stored something: %v", err)
	}
	c.fail("GET", "/api/v1/practices/"+n.ID().String()+"/cric-roubaix", "", false, 404)

	// An invalid sheet: every problem, each with its path.
	bad := strings.Replace(string(sheet), "country: FR", "country: France", 1) + "fundng: {}\n"
	e := c.fail("POST", "/api/v1/practices?dry_run=1", bad, true, 400)
	paths := map[string]bool{}
	for _, p := range e.Problems {
		paths[p.Path] = true
		if p.Message == "" || p.Line == 0 {
			t.Errorf("problem %+v lacks a message or a line", p)
		}
	}
	if !paths["country"] || !paths["fundng"] || len(e.Problems) != 2 {
		t.Errorf("problems %+v, want country and fundng", e.Problems)
	}
	if !strings.Contains(e.Error, "country") || !strings.Contains(e.Error, "fundng") || strings.Contains(e.Error, "\n") {
		t.Errorf("error %q must name both fields on one line", e.Error)
	}

	// Publishing for real after a dry run takes sequence 1.
	var real APIPublished
	c.ok("POST", "/api/v1/practices?dry_run=0", string(sheet), true, &real)
	if real.Seq != 1 || real.DryRun || real.Hash == "" {
		t.Errorf("publish answered %+v", real)
	}
}

func TestAPIMethodNotAllowed(t *testing.T) {
	n := newTestNet(t, 5).add()
	c := newAPIClient(t, n)
	req, err := http.NewRequest("DELETE", c.srv.URL+"/api/v1/profile", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	allow := resp.Header.Get("Allow")
	if resp.StatusCode != 405 || !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") {
		t.Errorf("DELETE /api/v1/profile: %s, Allow %q", resp.Status, allow)
	}
	e := c.fail("POST", "/api/v1/status", "", true, 405)
	if !strings.Contains(e.Error, "POST") || !strings.Contains(e.Error, "GET") {
		t.Errorf("405 error %q should name the method refused and the one allowed", e.Error)
	}
}

// A stored envelope whose signature no longer verifies (damage on disk, a
// bug) must show as unverified: the API checks, it does not assume.
func TestAPIRecordReverifies(t *testing.T) {
	n := newTestNet(t, 6).add()
	c := newAPIClient(t, n)
	sheet := demoSheets(t)[0]
	publish(t, n, sheet)
	var rec APIRecord
	c.ok("GET", "/api/v1/practices/"+n.ID().String()+"/"+sheet.ID, "", false, &rec)
	if !rec.SignatureVerified {
		t.Fatal("an intact record does not verify")
	}

	ann := &protocol.Announcement{V: protocol.Version, Publisher: n.ID(), Seq: 2, Time: time.Now().UTC().Truncate(time.Second), Kind: protocol.KindPractice, Practice: sheet}
	signed, err := protocol.Seal(ann, n.key)
	if err != nil {
		t.Fatal(err)
	}
	env := slices.Clone(signed.Envelope())
	env[len(env)-1] ^= 1 // the last byte is the signature's
	damaged, err := protocol.DecodeStored(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.Open(env); !errors.Is(err, protocol.ErrBadSignature) {
		t.Fatalf("the damaged envelope opens: %v", err)
	}
	if _, err := n.Store().Apply(t.Context(), store.Incoming{Signed: damaged}); err != nil {
		t.Fatal(err)
	}
	var bad APIRecord
	c.ok("GET", "/api/v1/practices/"+n.ID().String()+"/"+sheet.ID, "", false, &bad)
	if bad.SignatureVerified || bad.Seq != 2 || bad.Hash != damaged.Hash().String() || bad.Practice == nil {
		t.Errorf("damaged record shown as %+v", bad.APIPractice)
	}
}
