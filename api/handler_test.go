package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestAPIRefusals(t *testing.T) {
	n := newTestNet(t, 1).add()
	const token = "0123456789abcdef"
	srv := httptest.NewServer(NewHandler(n, token))
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
		{"long foreign origin", "GET", "/api/v1/status", "", map[string]string{"Origin": "http://" + strings.Repeat("e", 100_000)}, "", 403},
		{"long wrong host", "GET", "/api/v1/status", "", nil, strings.Repeat("h", 100_000) + ":80", 403},
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
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.code, raw)
			}
			if strings.HasPrefix(tc.name, "long") && len(raw) > 512 {
				t.Errorf("a %d-byte answer: a refusal must not echo what was sent", len(raw))
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
	srv := httptest.NewServer(NewHandler(n, "t"))
	t.Cleanup(srv.Close)
	publish(t, n, demoSheets(t)[0])

	var st Status
	apiGetJSON(t, srv.URL+"/api/v1/status", &st)
	if st.PeerID != n.ID().String() || st.Practices != 1 || st.Publishers != 1 || len(st.Digest) != 32 {
		t.Errorf("status %+v", st)
	}
	if len(st.Addrs) == 0 || !strings.HasSuffix(st.Addrs[0], "/p2p/"+n.ID().String()) {
		t.Errorf("addrs %v do not end in /p2p/<peer ID>", st.Addrs)
	}
	id := demoSheets(t)[0].ID
	var rec Record
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

func TestLoadToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "api.token")
	tok, err := LoadToken(path)
	if err != nil || len(tok) != 64 {
		t.Fatalf("new token %q, %v", tok, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", fi.Mode(), err)
	}
	if again, err := LoadToken(path); err != nil || again != tok {
		t.Fatalf("reloaded %q, %v; want %q", again, err, tok)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadToken(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
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

// testClient calls one node's API over real loopback HTTP.
type testClient struct {
	t     testing.TB
	srv   *httptest.Server
	token string
}

func newTestClient(t testing.TB, n *node.Node) *testClient {
	t.Helper()
	c := &testClient{t: t, token: "test-token"}
	c.srv = httptest.NewServer(NewHandler(n, c.token))
	t.Cleanup(c.srv.Close)
	return c
}

// do sends a request, with the token when auth is set, and returns the
// status code and the body.
func (c *testClient) do(method, path, body string, auth bool) (int, []byte) {
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
func (c *testClient) ok(method, path, body string, auth bool, v any) {
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
func (c *testClient) fail(method, path, body string, auth bool, code int) Error {
	c.t.Helper()
	got, raw := c.do(method, path, body, auth)
	var e Error
	if err := json.Unmarshal(raw, &e); err != nil || got != code || e.Error == "" {
		c.t.Fatalf("%s %s: %d %s, want %d and a JSON error (%v)", method, path, got, raw, code, err)
	}
	return e
}

// walk lists path page by page with limit=1, following next to the end.
func (c *testClient) walk(path string) []Practice {
	c.t.Helper()
	var all []Practice
	after := ""
	for range 100 {
		var page PracticeList
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

func ids(ps []Practice) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Publisher[len(p.Publisher)-4:]+"/"+p.ID+"/"+string(p.Kind))
	}
	return out
}

func TestAPIDryRun(t *testing.T) {
	n := newTestNet(t, 4).add()
	c := newTestClient(t, n)
	sheet, err := os.ReadFile("../demo/sheets/cric-roubaix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pub Published
	c.ok("POST", "/api/v1/practices?dry_run=1", string(sheet), true, &pub)
	if pub != (Published{Publisher: n.ID().String(), ID: "cric-roubaix", DryRun: true}) {
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
	var real Published
	c.ok("POST", "/api/v1/practices?dry_run=0", string(sheet), true, &real)
	if real.Seq != 1 || real.DryRun || real.Hash == "" {
		t.Errorf("publish answered %+v", real)
	}
}

func TestAPIMethodNotAllowed(t *testing.T) {
	n := newTestNet(t, 5).add()
	c := newTestClient(t, n)
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
	c := newTestClient(t, n)
	sheet := demoSheets(t)[0]
	publish(t, n, sheet)
	var rec Record
	c.ok("GET", "/api/v1/practices/"+n.ID().String()+"/"+sheet.ID, "", false, &rec)
	if !rec.SignatureVerified {
		t.Fatal("an intact record does not verify")
	}

	ann := &protocol.Announcement{V: protocol.Version, Publisher: n.ID(), Seq: 2, Time: time.Now().UTC().Truncate(time.Second), Kind: protocol.KindPractice, Practice: sheet}
	signed, err := protocol.Seal(ann, keyOf(t, n))
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
	var bad Record
	c.ok("GET", "/api/v1/practices/"+n.ID().String()+"/"+sheet.ID, "", false, &bad)
	if bad.SignatureVerified || bad.Seq != 2 || bad.Hash != damaged.Hash().String() || bad.Practice == nil {
		t.Errorf("damaged record shown as %+v", bad.Listing)
	}
}
