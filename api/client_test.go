package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/khantara/khantara/home"
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
	dir := t.TempDir()
	writeTestFile(t, home.Layout{Root: dir}.API(), strings.TrimPrefix(srv.URL, "http://"))
	writeTestFile(t, home.Layout{Root: dir}.APIToken(), "secret\n")
	return &fakeDaemon{home: dir, srv: srv}
}

func (d *fakeDaemon) client(t testing.TB) *Client {
	t.Helper()
	c, err := NewClient(d.home)
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

func TestClientNoDaemon(t *testing.T) {
	t.Run("no api file", func(t *testing.T) {
		dir := t.TempDir()
		_, err := NewClient(dir)
		if !errors.Is(err, ErrDaemonNotRunning) || !strings.Contains(err.Error(), "no daemon is running for "+dir) ||
			!strings.Contains(err.Error(), "khantara daemon --home "+dir) {
			t.Fatalf("err = %v, want ErrDaemonNotRunning", err)
		}
	})
	t.Run("stale api file", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		dir := t.TempDir()
		writeTestFile(t, home.Layout{Root: dir}.API(), addr)
		c, err := NewClient(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Status(context.Background())
		if !errors.Is(err, ErrDaemonNotRunning) {
			t.Fatalf("status against a closed port: %v, want ErrDaemonNotRunning", err)
		}
	})
	t.Run("garbage api file", func(t *testing.T) {
		dir := t.TempDir()
		writeTestFile(t, home.Layout{Root: dir}.API(), "not an address")
		_, err := NewClient(dir)
		if err == nil || !strings.Contains(err.Error(), "not HOST:PORT") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestClientUnspecifiedAddress(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, home.Layout{Root: dir}.API(), "0.0.0.0:7118\n")
	c, err := NewClient(dir)
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
			answerJSON(w, 200, PracticeList{Practices: []Practice{{ID: "a"}, {ID: "b"}}, Next: "c2"})
		case "c2":
			answerJSON(w, 200, PracticeList{Practices: []Practice{{ID: "c"}}})
		default:
			t.Errorf("after %q", r.URL.Query().Get("after"))
		}
	}))
	ps, err := d.client(t).Practices(context.Background(), ListQuery{Publisher: "P", Retracted: true})
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
		answerJSON(w, 200, PracticeList{Practices: []Practice{{ID: "a"}}, Next: "same"})
	}))
	if _, err := d.client(t).Practices(context.Background(), ListQuery{}); err == nil || !strings.Contains(err.Error(), "repeats") {
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
			answerJSON(w, 409, Error{Error: `practice "x" is already retracted`})
		}, 409, `practice "x" is already retracted`},
		{"unauthorized", func(w http.ResponseWriter, r *http.Request) {
			answerJSON(w, 401, Error{Error: "missing or wrong API token"})
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
			_, err := d.client(t).Retract(context.Background(), "x", "")
			var ae *ResponseError
			if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want status %d and %q", err, tc.status, tc.want)
			}
			if errors.Is(err, ErrDaemonNotRunning) {
				t.Fatalf("an API answer matches ErrDaemonNotRunning: %v", err)
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
			answerJSON(w, 401, Error{Error: "missing or wrong API token"})
			return
		}
		answerJSON(w, 200, Published{Publisher: "P", ID: "x", Seq: 7})
	}))
	c := d.client(t)
	ctx := context.Background()

	p, err := c.Retract(ctx, "x", "ended")
	if err != nil || p.Seq != 7 {
		t.Fatalf("retract: %+v, %v", p, err)
	}
	if got.method != "POST" || got.path != "/api/v1/practices/x/retract" || got.auth != "Bearer secret" || got.body != `{"reason":"ended"}` {
		t.Fatalf("retract sent %+v", got)
	}
	if _, err := c.Publish(ctx, []byte("id: x\n"), true); err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/api/v1/practices?dry_run=1" || got.body != "id: x\n" {
		t.Fatalf("publish sent %+v", got)
	}
	if _, err := c.PutProfile(ctx, []byte("name: N\n")); err != nil {
		t.Fatal(err)
	}
	if got.method != "PUT" || got.path != "/api/v1/profile" || got.auth != "Bearer secret" {
		t.Fatalf("putProfile sent %+v", got)
	}
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if got.auth != "" {
		t.Fatalf("a read sent the token: %+v", got)
	}

	os.Remove(home.Layout{Root: d.home}.APIToken())
	if _, err := c.Retract(ctx, "x", ""); err == nil || !strings.Contains(err.Error(), "no API token at "+home.Layout{Root: d.home}.APIToken()) {
		t.Fatalf("retract without a token file: %v", err)
	}
}
