package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	yaml "go.yaml.in/yaml/v3"
)

// TestKeyFile writes a key file and reads it back, and refuses files that
// are not key files or whose lines disagree.
func TestKeyFile(t *testing.T) {
	kf, err := newKeys(2)
	if err != nil {
		t.Fatal(err)
	}
	kf.org = protocol.OrgID([]byte("genesis"))
	text, err := kf.text("organisation rotation keys", "City", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseKeyFile(text)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	if got.org != kf.org || len(got.keys) != 2 || got.ids[1] != kf.ids[1] || !got.keys[0].Equals(kf.keys[0]) {
		t.Fatalf("read back %v %v, wrote %v %v", got.org, got.ids, kf.org, kf.ids)
	}
	lines := strings.Split(string(text), "\n")
	keyLine := func(i int) string {
		for _, l := range lines {
			if strings.HasPrefix(l, "key "+string(rune('0'+i))+" ") {
				return l
			}
		}
		t.Fatalf("no key line %d", i)
		return ""
	}
	f0 := strings.Fields(keyLine(0))
	tests := []struct{ name, text, want string }{
		{"empty", "", "no \"khantara-keys 1\""},
		{"other file", "hello\n", "want \"khantara-keys 1\" first"},
		{"no organisation", keyFileMagic + "\n" + keyLine(0) + "\n", "no organisation line"},
		{"no key", keyFileMagic + "\norganisation " + kf.org.String() + "\n", "no key line"},
		{"bad organisation", keyFileMagic + "\norganisation " + kf.ids[0].String() + "\n", "not an organisation ID"},
		{"out of order", keyFileMagic + "\norganisation " + kf.org.String() + "\n" + keyLine(1) + "\n", "out of order"},
		{"not base64", keyFileMagic + "\norganisation " + kf.org.String() + "\nkey 0 " + f0[2] + " !!!\n", "not base64"},
		{"wrong peer ID", keyFileMagic + "\norganisation " + kf.org.String() + "\nkey 0 " + kf.ids[1].String() + " " + f0[3] + "\n", "is not the key of"},
		{"unknown line", keyFileMagic + "\nsomething else\n", "want \"organisation ID\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKeyFile([]byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

// TestOutsideHome refuses key files inside the node's home, through
// symbolic links too.
func TestOutsideHome(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	os.MkdirAll(filepath.Join(home, "sub"), 0o700)
	os.Symlink(filepath.Join(home, "sub"), filepath.Join(dir, "link"))
	for _, tt := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(home, "keys.txt"), false},
		{filepath.Join(home, "sub", "keys.txt"), false},
		{filepath.Join(dir, "link", "keys.txt"), false},
		{filepath.Join(dir, "keys.txt"), true},
		{filepath.Join(dir, "home-other", "keys.txt"), true},
	} {
		if err := outsideHome(tt.path, home); (err == nil) != tt.ok {
			t.Errorf("outsideHome(%s): %v, want ok=%v", tt.path, err, tt.ok)
		}
	}
}

// TestConfigEdit sets org and trust keys in a config file of comments
// only (as khantara init writes it) and in one with keys, keeping the
// comments and the other keys.
func TestConfigEdit(t *testing.T) {
	org := protocol.OrgID([]byte("genesis")).String()
	for _, tt := range []struct{ name, text string }{
		{"comments only", "# Khantara node configuration\n#network: khantara\n"},
		{"keys", "# Khantara node configuration\nnetwork: test # the network\ntrust:\n  # the mode\n  mode: open\n  allow: []\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			os.WriteFile(path, []byte(tt.text), 0o640)
			f, err := parseConfig(path, []byte(tt.text), 0o640)
			if err != nil {
				t.Fatal(err)
			}
			setScalar(f.root(), "org", org)
			tm, err := mapping(f.root(), "trust")
			if err != nil {
				t.Fatal(err)
			}
			setScalar(tm, "mode", trustLists)
			follow, _ := addUnique(stringList(tm, "follow"), org)
			setList(tm, "follow", follow)
			if err := f.save(); err != nil {
				t.Fatal(err)
			}
			out, _ := os.ReadFile(path)
			var cfg struct {
				Network string `yaml:"network"`
				Org     string `yaml:"org"`
				Trust   struct {
					Mode   string   `yaml:"mode"`
					Follow []string `yaml:"follow"`
				} `yaml:"trust"`
			}
			if err := yaml.Unmarshal(out, &cfg); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if cfg.Org != org || cfg.Trust.Mode != "lists" || len(cfg.Trust.Follow) != 1 || !strings.Contains(string(out), "# Khantara node configuration") {
				t.Fatalf("edited config:\n%s", out)
			}
			if strings.Contains(tt.text, "# the network") && (!strings.Contains(string(out), "# the network") || cfg.Network != "test") {
				t.Fatalf("the edit lost a key or a comment:\n%s", out)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Fatalf("mode %v, want 0640", fi.Mode().Perm())
			}
		})
	}
}

// TestTrustFollowWithoutDaemon edits the config file when no daemon runs,
// says the daemon applies it at start, and refuses what is not an
// organisation ID.
func TestTrustFollowWithoutDaemon(t *testing.T) {
	home := t.TempDir()
	org := protocol.OrgID([]byte("genesis")).String()
	out, errOut, code := run(t, "trust", "follow", org, "--home", home)
	if code != 0 || !strings.Contains(out, "applies the change when it starts") || !strings.Contains(out, "trust mode is now lists") {
		t.Fatalf("trust follow: exit %d\n%s%s", code, out, errOut)
	}
	cfg, _ := os.ReadFile(filepath.Join(home, "config.yaml"))
	if !strings.Contains(string(cfg), "mode: lists") || !strings.Contains(string(cfg), "- "+org) {
		t.Fatalf("config after follow:\n%s", cfg)
	}
	if _, errOut, code := run(t, "trust", "follow", "nonsense", "--home", home); code != exitUsage || !strings.Contains(errOut, "not an organisation ID") {
		t.Fatalf("trust follow nonsense: exit %d %s, want exit code %d", code, errOut, exitUsage)
	}
}
