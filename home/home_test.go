package home

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestLayout(t *testing.T) {
	l := Layout{Root: "/data/k"}
	for _, tc := range []struct{ got, want string }{
		{l.Identity(), "/data/k/identity.key"},
		{l.Config(), "/data/k/config.yaml"},
		{l.Store(), "/data/k/store"},
		{l.Index(), "/data/k/index"},
		{l.API(), "/data/k/api"},
		{l.APIToken(), "/data/k/api.token"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestWriteNew(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteNew(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if err := WriteNew(p, []byte("two"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteNew: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("the second WriteNew changed the file to %q", b)
	}
	if err := WriteNew(filepath.Join(t.TempDir(), "no", "dir"), nil, 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteNew in a missing directory: %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "api")
	for _, s := range []string{"127.0.0.1:1", "127.0.0.1:22"} {
		if err := WriteAtomic(p, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != s {
			t.Fatalf("read %q, %v; want %q", b, err, s)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d files behind, want only api", len(entries))
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "api"), nil); err == nil {
		t.Error("WriteAtomic into a missing directory succeeded")
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if got := DefaultRoot(); got != "/xdg/khantara" {
		t.Errorf("with XDG_DATA_HOME: %s", got)
	}
	t.Setenv("XDG_DATA_HOME", "relative")
	t.Setenv("HOME", "/home/u")
	if got := DefaultRoot(); got != "/home/u/.local/share/khantara" {
		t.Errorf("with a relative XDG_DATA_HOME: %s", got)
	}
}
