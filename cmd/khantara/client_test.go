package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
)

// fakeDaemon serves canned answers of the API contract and writes its
// address to HOME/api, as the daemon does.
type fakeDaemon struct {
	home string
	srv  *httptest.Server
}

// newFakeDaemon starts a server with h in a new home directory holding an
// API token "secret".
func newFakeDaemon(t testing.TB, h http.Handler) *fakeDaemon {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	home := t.TempDir()
	writeTestFile(t, filepath.Join(home, apiFile), strings.TrimPrefix(srv.URL, "http://"))
	writeTestFile(t, filepath.Join(home, apiTokenFile), "secret\n")
	return &fakeDaemon{home: home, srv: srv}
}

func (d *fakeDaemon) client(t testing.TB) *apiClient {
	t.Helper()
	c, err := newClient(d.home)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeTestFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func answerJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func exitCodeOf(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

func TestClientNoDaemon(t *testing.T) {
	t.Run("no api file", func(t *testing.T) {
		home := t.TempDir()
		_, err := newClient(home)
		if exitCodeOf(err) != exitNoDaemon || !strings.Contains(err.Error(), "no daemon is running for "+home) ||
			!strings.Contains(err.Error(), "khantara daemon --home "+home) {
			t.Fatalf("err = %v (exit %d)", err, exitCodeOf(err))
		}
	})
	t.Run("stale api file", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		home := t.TempDir()
		writeTestFile(t, filepath.Join(home, apiFile), addr)
		c, err := newClient(home)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.status(context.Background())
		if exitCodeOf(err) != exitNoDaemon {
			t.Fatalf("status against a closed port: %v (exit %d), want exit %d", err, exitCodeOf(err), exitNoDaemon)
		}
	})
	t.Run("garbage api file", func(t *testing.T) {
		home := t.TempDir()
		writeTestFile(t, filepath.Join(home, apiFile), "not an address")
		_, err := newClient(home)
		if err == nil || !strings.Contains(err.Error(), "not HOST:PORT") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestClientUnspecifiedAddress(t *testing.T) {
	home := t.TempDir()
	writeTestFile(t, filepath.Join(home, apiFile), "0.0.0.0:7118\n")
	c, err := newClient(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "http://127.0.0.1:7118" {
		t.Fatalf("base = %q, want loopback", c.base)
	}
}

func TestClientPaging(t *testing.T) {
	var queries []string
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/practices" {
			t.Errorf("path %q", r.URL.Path)
		}
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("after") {
		case "":
			answerJSON(w, 200, node.APIPracticeList{Practices: []node.APIPractice{{ID: "a"}, {ID: "b"}}, Next: "c2"})
		case "c2":
			answerJSON(w, 200, node.APIPracticeList{Practices: []node.APIPractice{{ID: "c"}}})
		default:
			t.Errorf("after %q", r.URL.Query().Get("after"))
		}
	}))
	ps, err := d.client(t).practices(context.Background(), listQuery{Publisher: "P", Retracted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[2].ID != "c" {
		t.Fatalf("got %+v", ps)
	}
	want := []string{"publisher=P&retracted=1", "after=c2&publisher=P&retracted=1"}
	if strings.Join(queries, " ") != strings.Join(want, " ") {
		t.Fatalf("queries %q, want %q", queries, want)
	}
}

func TestClientPagingLoop(t *testing.T) {
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, node.APIPracticeList{Practices: []node.APIPractice{{ID: "a"}}, Next: "same"})
	}))
	if _, err := d.client(t).practices(context.Background(), listQuery{}); err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("err = %v, want the repeated cursor named", err)
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name   string
		handle http.HandlerFunc
		status int
		want   string
	}{
		{"api error", func(w http.ResponseWriter, r *http.Request) {
			answerJSON(w, 409, node.APIError{Error: `practice "x" is already retracted`})
		}, 409, `practice "x" is already retracted`},
		{"unauthorized", func(w http.ResponseWriter, r *http.Request) {
			answerJSON(w, 401, node.APIError{Error: "missing or wrong API token"})
		}, 401, "api.token"},
		{"plain 404", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "404 page not found", 404)
		}, 404, "does not serve POST /api/v1/practices/x/retract"},
		{"plain 500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", 500)
		}, 500, "500 Internal Server Error: boom"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://example.com/", http.StatusFound)
		}, 302, "redirect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDaemon(t, tc.handle)
			_, err := d.client(t).retract(context.Background(), "x", "")
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want status %d and %q", err, tc.status, tc.want)
			}
			if exitCodeOf(err) != exitFailed {
				t.Fatalf("exit code %d, want %d", exitCodeOf(err), exitFailed)
			}
		})
	}
}

func TestClientWrites(t *testing.T) {
	var got struct {
		method, path, auth, body string
	}
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.path, got.auth, got.body = r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), string(b)
		if r.Method != http.MethodGet && got.auth != "Bearer secret" {
			answerJSON(w, 401, node.APIError{Error: "missing or wrong API token"})
			return
		}
		answerJSON(w, 200, node.APIPublished{Publisher: "P", ID: "x", Seq: 7})
	}))
	c := d.client(t)
	ctx := context.Background()

	p, err := c.retract(ctx, "x", "ended")
	if err != nil || p.Seq != 7 {
		t.Fatalf("retract: %+v, %v", p, err)
	}
	if got.method != "POST" || got.path != "/api/v1/practices/x/retract" || got.auth != "Bearer secret" || got.body != `{"reason":"ended"}` {
		t.Fatalf("retract sent %+v", got)
	}
	if _, err := c.publish(ctx, []byte("id: x\n"), true); err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/api/v1/practices?dry_run=1" || got.body != "id: x\n" {
		t.Fatalf("publish sent %+v", got)
	}
	if _, err := c.putProfile(ctx, []byte("name: N\n")); err != nil {
		t.Fatal(err)
	}
	if got.method != "PUT" || got.path != "/api/v1/profile" || got.auth != "Bearer secret" {
		t.Fatalf("putProfile sent %+v", got)
	}
	if _, err := c.status(ctx); err != nil {
		t.Fatal(err)
	}
	if got.auth != "" {
		t.Fatalf("a read sent the token: %+v", got)
	}

	os.Remove(filepath.Join(d.home, apiTokenFile))
	if _, err := c.retract(ctx, "x", ""); err == nil || !strings.Contains(err.Error(), "no API token at "+filepath.Join(d.home, apiTokenFile)) {
		t.Fatalf("retract without a token file: %v", err)
	}
}

// catalogue answers GET /api/v1/practices?id= and /status from a fixed
// list of practices.
func catalogue(self string, ps ...node.APIPractice) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status":
			answerJSON(w, 200, node.APIStatus{PeerID: self})
		case "/api/v1/practices":
			out := node.APIPracticeList{Practices: []node.APIPractice{}}
			for _, p := range ps {
				if p.ID == r.URL.Query().Get("id") {
					out.Practices = append(out.Practices, p)
				}
			}
			answerJSON(w, 200, out)
		default:
			answerJSON(w, 404, node.APIError{Error: "no"})
		}
	}
}

func TestResolvePractice(t *testing.T) {
	const self, other, third = "12D3KooWSelf", "12D3KooWOther", "12D3KooWThird"
	tests := []struct {
		name    string
		arg     string
		have    []node.APIPractice
		pub     string
		code    int // exit code of the error; 0 for none
		errWant string
	}{
		{"publisher given", other + "/x", nil, other, 0, ""},
		{"only one", "x", []node.APIPractice{{Publisher: other, ID: "x"}}, other, 0, ""},
		{"own wins", "x", []node.APIPractice{{Publisher: other, ID: "x"}, {Publisher: self, ID: "x"}}, self, 0, ""},
		{"ambiguous", "x", []node.APIPractice{{Publisher: third, ID: "x"}, {Publisher: other, ID: "x"}}, "", exitFailed,
			"2 publishers have a practice x: " + other + ", " + third + "; name one: khantara show PUBLISHER/x"},
		{"unknown", "x", []node.APIPractice{{Publisher: other, ID: "y"}}, "", exitFailed, "no practice x is known here"},
		{"empty publisher", "/x", nil, "", exitUsage, "neither ID nor PUBLISHER/ID"},
		{"empty id", "p/", nil, "", exitUsage, "neither ID nor PUBLISHER/ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDaemon(t, catalogue(self, tc.have...))
			pub, id, err := resolvePractice(context.Background(), d.client(t), tc.arg)
			if tc.code != 0 {
				if err == nil || exitCodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.errWant) {
					t.Fatalf("err = %v (exit %d), want exit %d and %q", err, exitCodeOf(err), tc.code, tc.errWant)
				}
				return
			}
			if err != nil || pub != tc.pub || id != "x" {
				t.Fatalf("got %q %q %v, want %q x", pub, id, err, tc.pub)
			}
		})
	}
}

func TestPrintRecord(t *testing.T) {
	now := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	amount, yes := int64(8000), true
	sheet := &protocol.FactSheet{
		ID: "cric-roubaix", Title: "Conseil Roubaisien", Language: "en", Country: "FR", Region: "Hauts-de-France",
		City: "Roubaix", Organiser: "Ville de Roubaix", StartYear: 2011, Ongoing: true,
		Objective:  strings.Repeat("To give the communities a voice. ", 10),
		Dimensions: []string{"legal_political", "cultural"}, TargetGroups: []string{"third_country_nationals"},
		Funding:         &protocol.Funding{AmountEUR: &amount, PeriodYears: 1, Sources: []string{"local"}},
		Transferability: &protocol.Transferability{Replicable: &yes},
	}
	rec := node.APIRecord{
		APIPractice: node.APIPractice{Publisher: "12D3KooWPub", ID: "cric-roubaix", Seq: 3, Kind: protocol.KindPractice,
			Title: sheet.Title, ReceivedAt: now.Add(-5 * time.Minute)},
		Hash: "abcd", SignatureVerified: true, Practice: sheet,
		Profile: &protocol.Profile{Name: "Ville de Roubaix", Country: "FR"},
	}
	var b strings.Builder
	printRecord(&b, rec, now, 80)
	out := b.String()
	for _, want := range []string{
		"Conseil Roubaisien\n==================\n",
		"Region / city:     Hauts-de-France, Roubaix\n",
		"Years:             2011–ongoing\n",
		"Dimensions:        legal political, cultural\n",
		"Funding:           EUR 8,000 over 1 year; sources: local\n",
		"Replicable:        yes\n",
		"\nObjective\n  To give the communities a voice.",
		"Publisher:         12D3KooWPub (Ville de Roubaix, FR)\n",
		"Signature:         verified against the publisher's key\n",
		"(5 minutes ago), published here\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d characters: %q", n, line)
		}
	}

	rec.Kind, rec.Practice, rec.From = protocol.KindRetract, nil, "12D3KooWFrom"
	rec.Retraction = &protocol.Retraction{ID: "cric-roubaix", Reason: "ended in 2020"}
	rec.SignatureVerified = false
	b.Reset()
	printRecord(&b, rec, now, 80)
	out = b.String()
	for _, want := range []string{"cric-roubaix is retracted", "Reason:            ended in 2020", "NOT verified", "from peer 12D3KooWFrom"} {
		if !strings.Contains(out, want) {
			t.Errorf("retracted output lacks %q:\n%s", want, out)
		}
	}
}
