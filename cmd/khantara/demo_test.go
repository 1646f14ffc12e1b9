package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	khome "github.com/khantara/khantara/home"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/demo/federation"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// TestDemoOnce runs `khantara demo --once` in-process: it converges and
// exits 0, keeps a --dir (with each node's store holding the whole
// catalogue and no api file left) and removes its temporary directory; it
// exits 1 with a one-line error when the nodes are not ready in time.
func TestDemoOnce(t *testing.T) {
	all, err := demo.ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	exps, err := demo.Experiences()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "fed")
		out := demoRun(t, 0, "demo", "--once", "--nodes", "2", "--dir", dir)
		for _, want := range []string{fmt.Sprintf("Every node holds all %d practices, %d experience records, 3 organisations", len(all), len(exps)), "node2-", "show ",
			"names the others", "a member of the network without a node", "/where-the-rivers-meet/experiences", federation.KeysDir, "--once: the demo stops now."} {
			if !strings.Contains(out, want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		}
		homes, _ := filepath.Glob(filepath.Join(dir, "node*"))
		if len(homes) != 2 {
			t.Fatalf("want 2 homes in %s, got %v", dir, homes)
		}
		if _, err := os.Stat(filepath.Join(dir, federation.TryFile)); err != nil {
			t.Error(err)
		}
		// The demo's rotation keys are key files the org commands read.
		keys, _ := filepath.Glob(filepath.Join(dir, federation.KeysDir, "*.keys"))
		if len(keys) != 3 {
			t.Fatalf("want 3 key files, got %v", keys)
		}
		for _, k := range keys {
			raw, err := os.ReadFile(k)
			if err != nil {
				t.Fatal(err)
			}
			if kf, err := parseKeyFile(raw); err != nil || !protocol.IsOrg(kf.org) || len(kf.keys) != 1 || !strings.Contains(out, kf.org.String()) {
				t.Errorf("%s: %v", k, err)
			}
		}
		for _, h := range homes {
			if _, err := os.Stat(filepath.Join(h, khome.APIFile)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s/api is left behind: %v", h, err)
			}
			s, err := store.Open(filepath.Join(h, "store"))
			if err != nil {
				t.Fatal(err)
			}
			c, _, err := s.Counts()
			s.Close()
			if err != nil || c.Practices != uint64(len(all)) || c.Experiences != uint64(len(exps)) || c.Profiles != 3 || c.OrgOps != 3 || c.Lists != 1 {
				t.Errorf("%s holds %+v (%v); want %d practices, %d experience records, 3 organisations with profiles, a list", h, c, err, len(all), len(exps))
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
