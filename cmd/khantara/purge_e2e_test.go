package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
)

// homeFilesWith lists the files under home that contain needle.
func homeFilesWith(t *testing.T, home, needle string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// A file removed by the daemon while we walk is fine.
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			hits = append(hits, strings.TrimPrefix(path, home))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestPurgeOnDisk publishes a sheet carrying a unique contact address on
// one real daemon, waits for a second to replicate it, retracts it, runs
// `khantara purge` on both, and then finds the address in no file under
// either data directory: store files, search index or anything else.
func TestPurgeOnDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildKhantara(t)
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	d1 := startDaemon(t, bin, "node1", t.TempDir(), deadline)
	d2 := startDaemon(t, bin, "node2", t.TempDir(), deadline, d1.status.Addrs...)
	both := []*daemon{d1, d2}

	const email = "zqx-purge-7f3a9c@example.org"
	base, err := os.ReadFile("../../demo/sheets/re-lab-venezia.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "id: re-lab-venezia", "id: purge-check", 1)
	text = strings.Replace(text, "contact:\n", "contact:\n  email: "+email+"\n", 1)
	sheet := filepath.Join(t.TempDir(), "purge-check.yaml")
	if err := os.WriteFile(sheet, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	kept := d1.publish(t, "../../demo/sheets/al-khantara-sicilia.yaml")
	p := d1.publish(t, sheet)
	waitFor(t, deadline, "node 2 to replicate both practices", both, func() bool { return d2.has(p) && d2.has(kept) })
	for _, d := range both {
		if hits := homeFilesWith(t, d.home, email); len(hits) == 0 {
			t.Fatalf("%s: the address is in no file before the retraction: the test would prove nothing", d.name)
		}
	}

	expect(t, bin, 0, []string{"retracted purge-check"}, "retract", "--home", d1.home, "purge-check")
	waitFor(t, deadline, "node 2 to hold the retraction", both, func() bool {
		var rec api.Record
		err := d2.do(http.MethodGet, "/api/v1/practices/"+p.Publisher+"/purge-check", "", &rec)
		return err == nil && rec.Kind == "retract"
	})
	t.Logf("retraction replicated at %v", time.Since(start).Round(time.Millisecond))
	for _, d := range both {
		began := time.Now()
		out := expect(t, bin, 0, []string{"purged the store"}, "purge", "--home", d.home)
		t.Logf("%s: %s (the command took %v)", d.name, strings.TrimSpace(out), time.Since(began).Round(time.Millisecond))
		if hits := homeFilesWith(t, d.home, email); len(hits) > 0 {
			t.Errorf("%s: after purge the address is still in %v", d.name, hits)
		}
		// The catalogue itself is intact, and the daemon still takes writes.
		if !d.has(kept) {
			t.Errorf("%s: lost a live practice in the purge", d.name)
		}
	}
	p2 := d1.publish(t, "../../demo/sheets/polo-sociale-integrato-palermo.yaml")
	waitFor(t, deadline, "a practice published after the purge to replicate", both, func() bool { return d2.has(p2) })
	t.Logf("replicated after the purge at %v", time.Since(start).Round(time.Millisecond))

	// purge --publisher removes a publisher's records by hand, and erases
	// them from disk; the CLI warns that they come back unless the
	// publisher is denied (node 1 is stopped, so nothing brings them back
	// during the check).
	d1.kill(t)
	expect(t, bin, 0, []string{"removed 3 records of " + p.Publisher, "trust.deny"},
		"purge", "--home", d2.home, "--publisher", p.Publisher)
	if d2.has(kept) || d2.has(p2) {
		t.Error("node 2 still serves a practice of the purged publisher")
	}
	if hits := homeFilesWith(t, d2.home, "integrazione sicura"); len(hits) > 0 {
		t.Errorf("node 2: the purged publisher's practice is still in %v", hits)
	}
	_, errOut, code := runBin(t, bin, "purge", "--home", d2.home, "--publisher", "nonsense")
	if code != exitUsage || !strings.Contains(errOut, "--publisher: \"nonsense\" is not a publisher ID") {
		t.Errorf("purge --publisher nonsense: exit %d, %q", code, errOut)
	}
}
