package node

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
