package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// TestDemoFederation starts a three-node demo and checks it over the
// real APIs: every node holds the whole demo catalogue with one digest,
// every node's HOME/api points at its live API, every publisher's profile
// says it is demo data, a practice of node 1 reached node 3 through node 2,
// and shutting down removes each HOME/api.
func TestDemoFederation(t *testing.T) {
	pubs, err := demo.Publishers(3)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range pubs {
		total += len(p.Sheets)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	f, err := startDemo(ctx, dir, pubs, demoTestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.shutdown(context.Background()) })
	if err := f.publish(ctx); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	if err := f.converge(ctx, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}

	digests := map[string]bool{}
	for i, d := range f.nodes {
		if rel, err := filepath.Rel(dir, d.home); err != nil || strings.Contains(rel, "..") {
			t.Errorf("%s's home %s is outside the demo directory %s", d.name, d.home, dir)
		}
		if _, err := os.Stat(filepath.Join(d.home, "identity.key")); err != nil {
			t.Errorf("%s has no identity of its own: %v", d.name, err)
		}
		addr, err := os.ReadFile(filepath.Join(d.home, apiFile))
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		var st api.Status
		demoGetJSON(t, "http://"+string(addr)+"/api/v1/status", &st)
		if st.PeerID != d.n.ID().String() || st.Network != demoNetwork || st.Practices != uint64(total) {
			t.Errorf("%s's API at %s: peer %s, network %q, %d practices; want %s, %q, %d",
				d.name, addr, st.PeerID, st.Network, st.Practices, d.n.ID(), demoNetwork, total)
		}
		digests[st.Digest] = true
		for j, p := range f.nodes {
			rec, err := d.n.Store().Get(p.n.ID(), protocol.ProfileSlot)
			if err != nil {
				t.Fatalf("%s lacks the profile of %s: %v", d.name, p.name, err)
			}
			prof := rec.Announcement().Profile
			if prof.Name != pubs[j].Profile.Name || !strings.Contains(prof.Name, "not a real organisation") {
				t.Errorf("%s holds profile %q for %s", d.name, prof.Name, p.name)
			}
		}
		for _, e := range f.nodes[:i] {
			if e.n.ID() == d.n.ID() {
				t.Errorf("%s and %s share an identity", e.name, d.name)
			}
		}
	}
	if len(digests) != 1 {
		t.Errorf("the nodes' APIs report %d different digests", len(digests))
	}

	// The line topology: node 3 got node 1's practices from node 2.
	first, mid, last := f.nodes[0], f.nodes[1], f.nodes[2]
	var rec api.Record
	demoGetJSON(t, fmt.Sprintf("http://%s/api/v1/practices/%s/%s", last.api.Addr(), first.n.ID(), first.pub.Sheets[0].ID), &rec)
	if rec.Publisher != first.n.ID().String() || rec.From != mid.n.ID().String() {
		t.Errorf("on %s, %s came from %s (publisher %s); want %s, published by %s",
			last.name, rec.ID, rec.From, rec.Publisher, mid.n.ID(), first.n.ID())
	}
	if n := len(last.n.Host().Network().Peers()); n != 1 {
		t.Errorf("%s has %d peers, want only %s", last.name, n, mid.name)
	}

	if err := f.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	for _, d := range f.nodes {
		if _, err := os.Stat(filepath.Join(d.home, apiFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s's api file outlived the node: %v", d.name, err)
		}
	}
}

// TestDemoOnce runs `khantara demo --once` in-process: it converges and
// exits 0, keeps a --dir (with each node's store holding the whole
// catalogue and no api file left) and removes its temporary directory; it
// exits 1 with a one-line error when the nodes are not ready in time.
func TestDemoOnce(t *testing.T) {
	all, err := demo.ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "fed")
		out := demoRun(t, 0, "demo", "--once", "--nodes", "2", "--dir", dir)
		for _, want := range []string{fmt.Sprintf("Every node holds all %d practices and 2 profiles", len(all)), "node2-", "show ", "--once: the demo stops now."} {
			if !strings.Contains(out, want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		}
		homes, _ := filepath.Glob(filepath.Join(dir, "node*"))
		if len(homes) != 2 {
			t.Fatalf("want 2 homes in %s, got %v", dir, homes)
		}
		if _, err := os.Stat(filepath.Join(dir, demoTryFile)); err != nil {
			t.Error(err)
		}
		for _, h := range homes {
			if _, err := os.Stat(filepath.Join(h, apiFile)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s/api is left behind: %v", h, err)
			}
			s, err := store.Open(filepath.Join(h, "store"))
			if err != nil {
				t.Fatal(err)
			}
			c, _, err := s.Counts()
			s.Close()
			if err != nil || c.Practices != uint64(len(all)) || c.Profiles != 2 {
				t.Errorf("%s holds %+v (%v); want %d practices, 2 profiles", h, c, err, len(all))
			}
		}
	})
	t.Run("too slow", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		msg := demoRun(t, 1, "demo", "--once", "--nodes", "2", "--timeout", "1ms")
		if !strings.Contains(msg, "in time") || strings.Contains(msg, "\n") {
			t.Errorf("want a one-line error saying the nodes were not ready in time, got %q", msg)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("the demo left %s in TMPDIR", left[0].Name())
		}
	})
	t.Run("temporary", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		out := demoRun(t, 0, "demo", "--once", "--nodes", "2")
		if !strings.Contains(out, filepath.Join(tmp, "khantara-demo-")) {
			t.Fatalf("the demo did not run in TMPDIR %s:\n%s", tmp, out)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("the demo left %s in TMPDIR", left[0].Name())
		}
	})
}

// TestDemoRefuses checks that the demo never runs in a real node's home,
// nor in any directory with something in it, nor with a bad flag, and that
// it touches nothing when it refuses.
func TestDemoRefuses(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "identity.key"), []byte("a real key"), 0o600); err != nil {
		t.Fatal(err)
	}
	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ownHome := filepath.Join(t.TempDir(), "own")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"identity", []string{"demo", "--once", "--dir", home}, "identity.key"},
		{"not empty", []string{"demo", "--once", "--dir", busy}, "not empty"},
		{"own home", []string{"--home", ownHome, "demo", "--once", "--dir", ownHome}, "your node's home"},
		{"one node", []string{"demo", "--once", "--nodes", "1"}, "nodes:"},
		{"nine nodes", []string{"demo", "--once", "--nodes", "9"}, "nodes:"},
		{"timeout", []string{"demo", "--once", "--timeout", "0s"}, "timeout:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			msg := demoRun(t, 2, tc.args...)
			if !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") > 0 {
				t.Errorf("error %q: want one line mentioning %q", msg, tc.want)
			}
			if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) > 0 {
				t.Errorf("a refused demo left %s in TMPDIR", left[0].Name())
			}
		})
	}
	for dir, want := range map[string]int{home: 1, busy: 1} {
		if got, _ := os.ReadDir(dir); len(got) != want {
			t.Errorf("%s now holds %d entries, want %d", dir, len(got), want)
		}
	}
	if key, _ := os.ReadFile(filepath.Join(home, "identity.key")); string(key) != "a real key" {
		t.Errorf("the identity was changed")
	}
	if _, err := os.Stat(ownHome); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the demo created the user's home: %v", err)
	}
}

// demoRun runs the app in-process with args and checks its exit code; it
// returns stdout on success, the error message otherwise.
func demoRun(t *testing.T, code int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, io.Discard
	err := app.RunContext(ctx, append([]string{"khantara"}, args...))
	got := 0
	if err != nil {
		got = 1
		var ec exitCoder
		if errors.As(err, &ec) {
			got = ec.ExitCode()
		}
	}
	if got != code {
		t.Fatalf("khantara %s: exit code %d (%v), want %d\n%s", strings.Join(args, " "), got, err, code, out.String())
	}
	if err != nil {
		return err.Error()
	}
	return out.String()
}

func demoGetJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// demoTestLogger sends the nodes' warnings to the test log.
func demoTestLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(demoLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type demoLogWriter struct{ t testing.TB }

func (w demoLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
