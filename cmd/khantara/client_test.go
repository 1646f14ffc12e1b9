package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	khome "github.com/khantara/khantara/home"

	"github.com/khantara/khantara/api"
	"github.com/urfave/cli/v2"
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
	writeTestFile(t, filepath.Join(home, khome.APIFile), strings.TrimPrefix(srv.URL, "http://"))
	writeTestFile(t, filepath.Join(home, khome.APITokenFile), "secret\n")
	return &fakeDaemon{home: home, srv: srv}
}

func (d *fakeDaemon) client(t testing.TB) *api.Client {
	t.Helper()
	c, err := api.NewClient(d.home)
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

func exitCodeOf(err error) int { return exitCode(err) }

// TestExitCodes checks the exit codes main gives the client's errors: 3
// when no daemon runs (however wrapped), 1 for an API error answer.
func TestExitCodes(t *testing.T) {
	_, noDaemon := api.NewClient(t.TempDir())
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 409, api.Error{Error: "already retracted"})
	}))
	_, answered := d.client(t).Retract(t.Context(), "x", "")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"no daemon", noDaemon, exitNoDaemon},
		{"no daemon, wrapped", fmt.Errorf("import stopped at a.yaml: %w", noDaemon), exitNoDaemon},
		{"api error", answered, exitFailed},
		{"usage", cli.Exit("bad flag", exitUsage), exitUsage},
		{"other", errors.New("boom"), exitFailed},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}
