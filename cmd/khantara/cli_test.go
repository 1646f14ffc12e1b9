package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kdaemon "github.com/khantara/khantara/daemon"

	khome "github.com/khantara/khantara/home"

	"github.com/khantara/khantara/api"
)

const demoSheet = "../../demo/sheets/cric-roubaix.yaml"

// badSheet has two problems: the id and the country.
const badSheet = "id: Bad ID\ntitle: T\nlanguage: en\ncountry: UK\norganiser: O\nstart_year: 2020\nobjective: O\ndimensions: [cultural]\n"

func TestInitCommand(t *testing.T) {
	home := filepath.Join(t.TempDir(), "city")
	out, errOut, code := run(t, "init", "--home", home)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	for f, mode := range map[string]os.FileMode{"identity.key": 0o600, "api.token": 0o600, "config.yaml": 0o644, ".": 0o700} {
		fi, err := os.Stat(filepath.Join(home, f))
		if err != nil {
			t.Fatalf("init did not create %s: %v", f, err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", f, fi.Mode().Perm(), mode)
		}
	}
	for _, want := range []string{"peer ID:  12D3KooW", "khantara daemon --home " + home} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	key, _ := os.ReadFile(filepath.Join(home, "identity.key"))

	_, errOut, code = run(t, "init", "--home", home, "--network", "other")
	if code != 1 || !strings.Contains(errOut, "already exists") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("second init: exit %d, stderr %q; want 1 and one line", code, errOut)
	}
	if again, _ := os.ReadFile(filepath.Join(home, "identity.key")); string(again) != string(key) {
		t.Fatal("a refused init changed the identity key")
	}

	// A config file alone is enough to refuse, and nothing is created.
	home2 := t.TempDir()
	writeTestFile(t, filepath.Join(home2, "config.yaml"), "network: x\n")
	if _, _, code := run(t, "init", "--home", home2); code != 1 {
		t.Fatalf("init over a config file: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(home2, "identity.key")); err == nil {
		t.Fatal("a refused init created identity.key")
	}

	home3 := filepath.Join(t.TempDir(), "h")
	_, errOut, code = run(t, "init", "--home", home3, "--network", "Big Net")
	if code != 2 || !strings.Contains(errOut, `network: "Big Net"`) {
		t.Fatalf("init with a bad network: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(home3); err == nil {
		t.Fatal("a refused init created the home directory")
	}

	out, _, code = run(t, "init", "--json", "--home", home3, "--network", "test-net")
	var got struct {
		PeerID string `json:"peer_id"`
		Home   string `json:"home"`
		Config string `json:"config"`
	}
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || !strings.HasPrefix(got.PeerID, "12D3KooW") || got.Home != home3 {
		t.Fatalf("init --json: exit %d, %v: %s", code, err, out)
	}
	if cfg, _ := os.ReadFile(got.Config); !strings.Contains(string(cfg), "\nnetwork: test-net\n") {
		t.Fatalf("config lacks the network:\n%s", cfg)
	}
}

func TestSetNetwork(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"key", "# c\nnetwork: khantara\nlisten: []\n", "# c\nnetwork: city-net\nlisten: []\n"},
		{"key with comment", "network: khantara  # the federation\n", "network: city-net  # the federation\n"},
		{"commented default", "# network: khantara\nmdns: true\n", "network: city-net\nmdns: true\n"},
		{"prose is not a key", "# network: names the federation you join\n", "# network: names the federation you join\n\nnetwork: city-net\n"},
		{"indented is not top level", "trust:\n  network: x\n", "trust:\n  network: x\n\nnetwork: city-net\n"},
		{"absent", "mdns: true", "mdns: true\n\nnetwork: city-net\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(kdaemon.SetNetwork([]byte(tc.in), "city-net")); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPublishChecksFirst(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeTestFile(t, bad, badSheet)
	dup := filepath.Join(dir, "dup.yaml")
	sheet, _ := os.ReadFile(demoSheet)
	writeTestFile(t, dup, string(sheet))
	big := filepath.Join(dir, "big.yaml")
	writeTestFile(t, big, "title: "+strings.Repeat("x", 300<<10)+"\n")
	home := t.TempDir() // no daemon: none is needed to refuse

	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"invalid among valid", []string{"publish", demoSheet, bad}, 2, nil, []string{
			bad + ":1: id: ", bad + `:4: country: "UK" is not ISO 3166-1`, "1 of 2 files cannot be published; nothing was published"}},
		{"dry run", []string{"publish", "--dry-run", demoSheet}, 0, []string{demoSheet + ": valid (cric-roubaix)"}, nil},
		{"dry run flag after the file", []string{"publish", demoSheet, "--dry-run"}, 0, []string{"valid (cric-roubaix)"}, nil},
		{"dry run json", []string{"publish", "--dry-run", "--json", demoSheet}, 0, []string{`"id": "cric-roubaix"`, `"dry_run": true`}, nil},
		{"dry run invalid", []string{"publish", "--dry-run", bad}, 2, nil, []string{"bad.yaml:4: country"}},
		{"same id twice", []string{"publish", "--dry-run", demoSheet, dup}, 2, nil, []string{dup + `: id: "cric-roubaix" is also the id of ` + demoSheet}},
		{"missing file", []string{"publish", filepath.Join(dir, "nope.yaml")}, 2, nil, []string{"nope.yaml: no such file or directory"}},
		{"too large", []string{"publish", big}, 2, nil, []string{"big.yaml: the file is over the limit of 262144 bytes"}},
		{"no files", []string{"publish"}, 2, nil, []string{"name at least one fact-sheet file"}},
		{"no daemon", []string{"publish", demoSheet}, 3, nil, []string{"no daemon is running for " + home}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, append(tc.args, "--home", home)...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestProfileChecksFirst(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "profile.yaml")
	writeTestFile(t, prof, "name: \ncountry: Italy\nlevel: town\n")
	_, errOut, code := run(t, "profile", "--home", t.TempDir(), prof)
	if code != 2 || !strings.Contains(errOut, "profile.yaml:2: country") || !strings.Contains(errOut, "level") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

// TestDaemonNeeded checks that every command needing the daemon says in
// one line that none runs, with exit code 3, for a missing api file and
// for a stale one.
func TestDaemonNeeded(t *testing.T) {
	stale := t.TempDir()
	srv := newFakeDaemon(t, http.NotFoundHandler())
	srv.srv.Close()
	writeTestFile(t, filepath.Join(stale, khome.APIFile), strings.TrimPrefix(srv.srv.URL, "http://"))
	sheets := t.TempDir()
	sheet, _ := os.ReadFile(demoSheet)
	writeTestFile(t, filepath.Join(sheets, "a.yaml"), string(sheet))
	prof := filepath.Join(sheets, "profile.txt")
	writeTestFile(t, prof, "name: N\ncountry: IT\nlevel: municipality\n")

	for _, home := range []string{t.TempDir(), stale} {
		for _, args := range [][]string{
			{"status"}, {"peers"}, {"list"}, {"show", "x"}, {"retract", "x"}, {"publish", demoSheet},
			{"import", sheets}, {"profile"}, {"profile", prof},
		} {
			t.Run(args[0], func(t *testing.T) {
				_, errOut, code := run(t, append(args, "--home", home)...)
				want := "khantara: no daemon is running for " + home + " (start it with: khantara daemon --home " + home + ")\n"
				if code != exitNoDaemon || errOut != want {
					t.Fatalf("khantara %v: exit %d, stderr %q; want %d and %q", args, code, errOut, exitNoDaemon, want)
				}
			})
		}
	}
}

func TestUsageErrors(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"retract", "x", "--bogus"}, "flag provided but not defined: --bogus"},

		{[]string{"retract"}, "name one practice ID"},
		{[]string{"show", "a", "b"}, "name one practice"},
		{[]string{"list", "extra"}, "list takes no arguments"},
		{[]string{"list", "--mine", "--publisher", "p"}, "either --publisher or --mine"},
		{[]string{"import"}, "name one directory"},
		{[]string{"import", filepath.Join(home, "nope")}, "no such file or directory"},
		{[]string{"import", home}, "holds no *.yaml, *.yml or *.json file"},
		{[]string{"profile", "a", "b"}, "at most one profile file"},
		{[]string{"completion"}, "name a shell"},
		{[]string{"completion", "tcsh"}, `"tcsh" is not a shell`},
		{[]string{"init", "extra"}, "init takes no arguments"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, code := run(t, append([]string{tc.args[0], "--home", home}, tc.args[1:]...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want %d and one line with %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
}

func TestPositionals(t *testing.T) {
	home := t.TempDir()
	// retract applies --reason written after the ID, then finds no daemon.
	_, errOut, code := run(t, "retract", "x", "--reason", "r", "--home", home)
	if code != exitNoDaemon {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = run(t, "retract", "--home", home, "x", "--reason")
	if code != exitUsage || !strings.Contains(errOut, "flag needs an argument: --reason") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// A file name starting with a dash reads as a flag: say how to write it.
	_, errOut, code = run(t, "publish", "--home", home, "--dry-run", "--", "-nope.yaml")
	if code != exitUsage || !strings.Contains(errOut, "write ./-nope.yaml") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := run(t, "completion", shell)
			if code != 0 || !strings.Contains(out, "khantara") {
				t.Fatalf("exit %d, stderr %q, script:\n%s", code, errOut, out)
			}
			if shell == "fish" && !strings.Contains(out, "publish") {
				t.Fatalf("fish script lacks the commands:\n%s", out)
			}
			if shell == "bash" {
				if _, err := exec.LookPath("bash"); err != nil {
					t.Skip("no bash")
				}
				if msg, err := exec.Command("bash", "-n", "-c", out).CombinedOutput(); err != nil {
					t.Fatalf("bash -n: %v\n%s", err, msg)
				}
			}
		})
	}
}

func TestSheetFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.yaml", "a.json", "c.yml", "d.txt", "E.YAML"} {
		writeTestFile(t, filepath.Join(dir, f), "x")
	}
	os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700)
	got, err := sheetFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, filepath.Base(g))
	}
	if strings.Join(names, " ") != "E.YAML a.json b.yaml c.yml" {
		t.Fatalf("got %v", names)
	}
}

func TestTables(t *testing.T) {
	now := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	printPractices(&b, []api.Practice{
		{Publisher: "12D3KooWAbcdefghijklmnop", ID: "cric-roubaix", Seq: 12, Kind: "practice", Country: "FR", Title: strings.Repeat("Long title ", 20)},
		{Publisher: "12D3KooWQrstuvwxyz123456", ID: "gone", Seq: 3, Kind: "retract"},
	}, 80)
	whole := b.String()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "PUBLISHER  ID            SEQ  COUNTRY  TITLE") ||
		!strings.HasPrefix(lines[1], "…ijklmnop  cric-roubaix  12   FR       Long title") ||
		!strings.HasSuffix(lines[1], "…") || !strings.HasSuffix(lines[2], "(retracted)") {
		t.Fatalf("table:\n%s", b.String())
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}

	b.Reset()
	printPractices(&b, []api.Practice{{Publisher: "p", ID: "x", Title: strings.Repeat("Long title ", 20)}}, 0)
	if !strings.Contains(b.String(), strings.TrimSpace(strings.Repeat("Long title ", 20))+"\n") {
		t.Fatalf("width 0 cut the title:\n%s\n(at 80:\n%s)", b.String(), whole)
	}

	b.Reset()
	printPeers(&b, []api.Peer{{ID: "12D3KooWPeer", Direction: "inbound", Since: now.Add(-time.Hour), Score: 1.25,
		Addrs: []string{"/ip4/127.0.0.1/tcp/1", "/ip4/10.0.0.1/tcp/1"}, LastSync: &api.Sync{At: now.Add(-2 * time.Minute), Error: "x"}}}, now)
	if !strings.Contains(b.String(), "12D3KooWPeer  inbound    1 hour ago  1.25   2 minutes ago (failed)  -             /ip4/127.0.0.1/tcp/1 (+1)") {
		t.Fatalf("peers:\n%s", b.String())
	}

	b.Reset()
	printStatus(&b, api.Status{PeerID: "12D3KooWSelf", Network: "khantara", Addrs: []string{"/ip4/127.0.0.1/tcp/7117/p2p/12D3KooWSelf"},
		Practices: 41, Retracted: 1, Publishers: 3, Gossip: api.Gossip{Accepted: 9, Rejected: map[string]uint64{"bad_signature": 2, "too_large": 1}},
		Syncs: []api.Sync{{Peer: "12D3KooWOtherPeer", At: now.Add(-time.Minute), Fetched: 4, Applied: 4, BytesReceived: 2048, Seconds: 0.25}}}, now, 100)
	for _, want := range []string{
		"Peer ID:           12D3KooWSelf\n",
		"\n  /ip4/127.0.0.1/tcp/7117/p2p/12D3KooWSelf\n",
		"Catalogue:         41 practices, 1 retracted, 0 profiles, from 3 publishers\n",
		"Peers:             0 connected\n",
		"Gossip:            9 accepted, 3 (bad_signature 2, too_large 1) rejected, 0 ignored\n",
		"…therPeer  1 minute ago  4        4        0       0 B   2.0 KiB   0.25s  ok",
		"Publishes as:      itself, its peer ID",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	for _, c := range []struct {
		st   api.Status
		want string
	}{
		{api.Status{Org: "5ubP5Hx", OrgName: "Ville de Roubaix", OrgKey: "delegated", OrgMay: []string{"practice", "retract"}, Trust: "lists"},
			"Publishes as:      Ville de Roubaix 5ubP5Hx; this node's key is delegated for practice, retract\nTrust:             lists\n"},
		{api.Status{Org: "5ubP5Hx", OrgName: "Ville de Roubaix", OrgKey: "revoked"}, "this node's key is REVOKED"},
		{api.Status{Org: "5ubP5Hx", OrgKey: "unknown"}, "organisation 5ubP5Hx; this node's key is not delegated (yet)"},
	} {
		b.Reset()
		printStatus(&b, c.st, now, 200)
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("status lacks %q:\n%s", c.want, b.String())
		}
	}
}

func TestTextHelpers(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{shortPeer("12D3KooWAbcdefghijklmnop"), "…ijklmnop"},
		{shortPeer("short"), "short"},
		{truncateText("a  b\nc", 10), "a b c"},
		{truncateText("abcdefghij", 5), "abcd…"},
		{truncateText("Ünïcödé text", 4), "Ünï…"},
		{ago(now.Add(-3*time.Second), now), "just now"},
		{ago(now.Add(-45*time.Second), now), "45 seconds ago"},
		{ago(now.Add(-time.Minute), now), "1 minute ago"},
		{ago(now.Add(-30*time.Hour), now), "30 hours ago"},
		{ago(now.Add(-72*time.Hour), now), "3 days ago"},
		{ago(now.Add(2*time.Minute), now), "in 2 minutes"},
		{agoShort(time.Time{}, now), "-"},
		{groupDigits(0), "0"},
		{groupDigits(999), "999"},
		{groupDigits(1234567), "1,234,567"},
		{groupDigits(-12000), "-12,000"},
		{shellQuote("/var/lib/khantara"), "/var/lib/khantara"},
		{shellQuote("/tmp/my home"), "'/tmp/my home'"},
		{shellQuote("it's"), `'it'\''s'`},
		{shellQuote(""), "''"},
		{wrapText("one two three four five", 9, "> "), "> one two\n> three\n> four five\n"},
		{wrapText("a\n\nb", 9, ""), "a\n\nb\n"},
		{wrapText("unbreakable-long-word x", 5, ""), "unbreakable-long-word\nx\n"},
		{bytesText(512), "512 B"},
		{bytesText(3 << 20), "3.0 MiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	p := &progressBar{total: 4, width: 60}
	for _, tc := range []struct {
		done  int
		label string
		want  string
	}{
		{0, "", "[                    ]  0/4"},
		{1, "a.yaml", "[====>               ]  1/4  a.yaml"},
		{4, "", "[====================]  4/4"},
		{2, strings.Repeat("x", 100), "[=========>          ]  2/4  " + strings.Repeat("x", 30) + "…"},
	} {
		if got := p.line(tc.done, tc.label); got != tc.want {
			t.Errorf("line(%d) = %q, want %q", tc.done, got, tc.want)
		}
	}
	var b strings.Builder
	p.w = &b
	p.show(1, "long-name.yaml")
	p.show(2, "b")
	p.clear()
	want := "\r" + p.line(1, "long-name.yaml") + "\r" + p.line(2, "b") + strings.Repeat(" ", 13) + "\r" + strings.Repeat(" ", 30) + "\r"
	if b.String() != want {
		t.Fatalf("drawn %q, want %q", b.String(), want)
	}
}
