package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	khome "github.com/khantara/khantara/home"

	"github.com/khantara/khantara/api"
)

// runBin runs the built binary with args and returns what it printed and its
// exit code.
func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return out.String(), errOut.String(), code
}

// expect runs the binary and checks the exit code and that stdout (code
// 0) or stderr (otherwise) contains every one of want.
func expect(t *testing.T, bin string, code int, want []string, args ...string) string {
	t.Helper()
	out, errOut, got := runBin(t, bin, args...)
	text := out
	if code != 0 {
		text = errOut
	}
	if got != code {
		t.Fatalf("khantara %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("khantara %s: output lacks %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), w, out, errOut)
		}
	}
	return out
}

// oneLine checks that an error output is a single line.
func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 {
		t.Fatalf("want a one-line error, got:\n%s", stderr)
	}
}

// TestEndToEnd drives the built binary as staff and IT teams do: init,
// daemon, publish, list, show, retract, import, profile, status, peers,
// a second node joining, the API's refusals and a daemon that is not
// running. Every error path checks its message and exit code.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(90 * time.Second)
	home := filepath.Join(t.TempDir(), "city")
	sheets, _ := filepath.Glob("../../demo/sheets/*.yaml")
	if len(sheets) < 6 {
		t.Fatalf("need demo sheets, found %d", len(sheets))
	}

	// Nothing runs yet.
	_, errOut, code := runBin(t, bin, "status", "--home", home)
	if code != 3 || !strings.Contains(errOut, "no daemon is running") {
		t.Fatalf("status without a daemon: exit %d, stderr %q; want 3 and 'no daemon is running'", code, errOut)
	}
	oneLine(t, errOut)

	// init creates the home, and refuses to do it twice.
	out := expect(t, bin, 0, nil, "init", "--home", home)
	for _, f := range []string{"identity.key", "api.token", "config.yaml"} {
		fi, err := os.Stat(filepath.Join(home, f))
		if err != nil {
			t.Fatalf("init did not create %s: %v\n%s", f, err, out)
		}
		if f != "config.yaml" && fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	_, errOut, code = runBin(t, bin, "init", "--home", home)
	if code == 0 || !strings.Contains(errOut, "already") {
		t.Fatalf("second init: exit %d, stderr %q; want a refusal", code, errOut)
	}
	oneLine(t, errOut)

	d1 := startDaemon(t, bin, "node1", home, deadline)
	if !strings.Contains(out, d1.status.PeerID) {
		t.Fatalf("init printed %q, the daemon runs as %s", out, d1.status.PeerID)
	}
	h := []string{"--home", home}
	with := func(args ...string) []string { return append(append([]string{}, args...), h...) }

	// An invalid sheet among valid ones: every problem, nothing published.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("id: Bad ID\ntitle: T\nlanguage: en\ncountry: UK\norganiser: O\nstart_year: 2020\nobjective: O\ndimensions: [cultural]\n"), 0o644)
	_, errOut, code = runBin(t, bin, with("publish", sheets[0], bad)...)
	if code != 2 || !strings.Contains(errOut, "bad.yaml") || !strings.Contains(errOut, "country") || !strings.Contains(errOut, "id") {
		t.Fatalf("publish with a bad sheet: exit %d, stderr:\n%s\nwant 2 and the problems of bad.yaml", code, errOut)
	}
	if st, _ := d1.getStatus(); st.Practices != 0 {
		t.Fatalf("a refused publish stored %d practices", st.Practices)
	}
	expect(t, bin, 2, []string{"bad.yaml", "country"}, with("publish", "--dry-run", bad)...)
	expect(t, bin, 0, []string{"valid"}, with("publish", "--dry-run", sheets[0])...)
	if st, _ := d1.getStatus(); st.Practices != 0 {
		t.Fatalf("a dry run stored %d practices", st.Practices)
	}

	// Publish two, list them, show one with its provenance.
	expect(t, bin, 0, []string{"seq"}, with("publish", sheets[0], sheets[1])...)
	var list []api.Practice
	out = expect(t, bin, 0, nil, with("list", "--json")...)
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json: %v, %d entries:\n%s", err, len(list), out)
	}
	for _, p := range list {
		if p.Publisher != d1.status.PeerID || p.ID == "" || p.Seq == 0 || p.Title == "" {
			t.Fatalf("list --json entry %+v lacks publisher, id, seq or title", p)
		}
	}
	first := list[0]
	expect(t, bin, 0, []string{first.ID, first.Title}, with("list")...)
	expect(t, bin, 0, []string{first.Title, d1.status.PeerID}, with("show", first.ID)...)
	var rec api.Record
	out = expect(t, bin, 0, nil, with("show", "--json", first.Publisher+"/"+first.ID)...)
	if err := json.Unmarshal([]byte(out), &rec); err != nil || !rec.SignatureVerified || rec.Practice == nil || rec.Seq != first.Seq {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
	expect(t, bin, 1, []string{"no-such-practice"}, with("show", "no-such-practice")...)

	// Retract: once, not twice, never what does not exist.
	expect(t, bin, 0, []string{first.ID}, with("retract", first.ID, "--reason", "ended in 2020")...)
	expect(t, bin, 1, []string{"already retracted"}, with("retract", first.ID)...)
	expect(t, bin, 1, []string{"no-such-practice"}, with("retract", "no-such-practice")...)
	out = expect(t, bin, 0, nil, with("list", "--json")...)
	list = nil
	json.Unmarshal([]byte(out), &list)
	if len(list) != 1 || list[0].ID == first.ID {
		t.Fatalf("after the retraction, list shows %+v", list)
	}

	// Import a folder with one bad sheet: the rest go in.
	dir := t.TempDir()
	for _, s := range sheets[2:6] {
		b, _ := os.ReadFile(s)
		os.WriteFile(filepath.Join(dir, filepath.Base(s)), b, 0o644)
	}
	b, _ := os.ReadFile(bad)
	os.WriteFile(filepath.Join(dir, "zz-bad.yaml"), b, 0o644)
	_, errOut, code = runBin(t, bin, with("import", dir)...)
	if code != 1 || !strings.Contains(errOut, "zz-bad.yaml") || !strings.Contains(errOut, "imported 4") {
		t.Fatalf("import: exit %d, stderr:\n%s\nwant 1, zz-bad.yaml reported and 'imported 4'", code, errOut)
	}

	// The organisation profile.
	prof := filepath.Join(t.TempDir(), "profile.yaml")
	os.WriteFile(prof, []byte("name: Comune di Prova\ncountry: IT\nlevel: municipality\n"), 0o644)
	expect(t, bin, 0, nil, with("profile", prof)...)
	expect(t, bin, 0, []string{"Comune di Prova"}, with("profile")...)
	os.WriteFile(prof, []byte("name: \ncountry: Italy\nlevel: municipality\n"), 0o644)
	expect(t, bin, 2, []string{"country"}, with("profile", prof)...)

	// status --json has what scripts need.
	var st struct {
		PeerID    string   `json:"peer_id"`
		Addrs     []string `json:"addrs"`
		Practices uint64   `json:"practices"`
	}
	out = expect(t, bin, 0, nil, with("status", "--json")...)
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.PeerID != d1.status.PeerID || len(st.Addrs) == 0 || st.Practices != 5 {
		t.Fatalf("status --json: %v %+v\n%s", err, st, out)
	}
	for _, a := range st.Addrs {
		if !strings.HasSuffix(a, "/p2p/"+st.PeerID) {
			t.Fatalf("status address %q does not end in /p2p/<peer ID>", a)
		}
	}
	expect(t, bin, 0, []string{st.PeerID, "practices"}, with("status")...)

	// A second node joins from the first one's address and gets it all.
	home2 := t.TempDir()
	d2 := startDaemon(t, bin, "node2", home2, deadline, st.Addrs...)
	waitFor(t, deadline, "node 2 to hold the catalogue", []*daemon{d1, d2}, func() bool {
		s2, err := d2.getStatus()
		s1, _ := d1.getStatus()
		return err == nil && s2.Digest == s1.Digest && s2.Practices == 5
	})
	expect(t, bin, 0, []string{d2.status.PeerID}, with("peers")...)
	out = expect(t, bin, 0, nil, "show", "--json", "--home", home2, list[0].Publisher+"/"+list[0].ID)
	rec = api.Record{}
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.From != d1.status.PeerID || rec.Profile == nil {
		t.Fatalf("node 2's copy should come from node 1 with its profile: %v\n%s", err, out)
	}

	// The API refuses writes without the token, and foreign pages.
	sheet, _ := os.ReadFile(sheets[6])
	for _, tc := range []struct {
		name   string
		header map[string]string
		host   string
		code   int
		want   string
	}{
		{"no token", nil, "", 401, "token"},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, "", 401, "token"},
		{"foreign origin", map[string]string{"Authorization": "Bearer " + d1.token, "Origin": "http://evil.example"}, "", 403, "cross-origin"},
		{"wrong host", map[string]string{"Authorization": "Bearer " + d1.token}, "evil.example", 403, "Host"},
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+d1.api+"/api/v1/practices", bytes.NewReader(sheet))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e api.Error
		if resp.StatusCode != tc.code || json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, tc.want) {
			t.Fatalf("%s: %s %s, want %d and a JSON error mentioning %q", tc.name, resp.Status, body, tc.code, tc.want)
		}
	}
	// The CLI with a token that is not the daemon's.
	tokPath := filepath.Join(home, khome.APITokenFile)
	good, _ := os.ReadFile(tokPath)
	os.WriteFile(tokPath, []byte("0123456789abcdef\n"), 0o600)
	_, errOut, code = runBin(t, bin, with("publish", sheets[6])...)
	if code != 1 || !strings.Contains(errOut, "api.token") {
		t.Fatalf("publish with a wrong token: exit %d, stderr %q; want 1 and a hint at api.token", code, errOut)
	}
	oneLine(t, errOut)
	os.WriteFile(tokPath, good, 0o600)
	if s, _ := d1.getStatus(); s.Practices != 5 {
		t.Fatalf("a refused request changed the catalogue: %d practices", s.Practices)
	}

	// Stop node 1 cleanly and kill node 2: both are "not running" to the CLI.
	d1.cmd.Process.Signal(syscall.SIGTERM)
	<-d1.exited
	d2.kill(t)
	for _, hm := range []string{home, home2} {
		_, errOut, code = runBin(t, bin, "list", "--home", hm)
		if code != 3 || !strings.Contains(errOut, "no daemon is running") || !strings.Contains(errOut, hm) {
			t.Fatalf("list with the daemon gone (%s): exit %d, stderr %q", hm, code, errOut)
		}
		oneLine(t, errOut)
	}
}
