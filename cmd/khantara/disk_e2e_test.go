package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/demo"
	"golang.org/x/sys/unix"
)

// diskReserveMiB is the reserve the disk tests give their daemons: small,
// so that a tmpfs of a few tens of MiB holds it and some margin.
const diskReserveMiB = 12

// needRoot skips a test that mounts filesystems unless it runs as root;
// with KHANTARA_ROOT=required (CI) it fails instead.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("KHANTARA_ROOT") == "required" {
		t.Fatal("this test mounts a tmpfs and needs root, and KHANTARA_ROOT=required")
	}
	t.Skip("this test mounts a tmpfs and needs root; run as root (or set KHANTARA_ROOT=required to make this a failure)")
}

// mountTmpfs mounts a tmpfs of sizeMiB on a new directory and unmounts it
// when the test ends (after the daemons started later are stopped).
func mountTmpfs(t *testing.T, sizeMiB int) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0700", sizeMiB)); err != nil {
		t.Fatalf("mount a %d MiB tmpfs on %s: %v", sizeMiB, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// freeBytes is the free space on dir's filesystem.
func freeBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fillTo writes (or extends) a filler file on dir's filesystem so that
// about leave bytes stay free, and returns its path.
func fillTo(t testing.TB, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	n := freeBytes(t, dir) - leave
	if n <= 0 {
		t.Fatalf("only %d bytes free on %s, want more than %d", freeBytes(t, dir), dir, leave)
	}
	if err := unix.Fallocate(int(f.Fd()), 0, fi.Size(), n); err != nil {
		t.Fatalf("fill %s with %d bytes: %v", path, n, err)
	}
	return path
}

// diskSheets returns n distinct fact sheets (YAML) made from the demo
// catalogue, each with its own ID.
func diskSheets(t testing.TB, n int) []string {
	t.Helper()
	names, err := fs.Glob(demo.Sheets, "sheets/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("demo sheets: %v", err)
	}
	idLine := regexp.MustCompile(`(?m)^id: (\S+)$`)
	out := make([]string, n)
	for i := range out {
		raw, err := fs.ReadFile(demo.Sheets, names[i%len(names)])
		if err != nil {
			t.Fatal(err)
		}
		id := idLine.FindSubmatch(raw)[1]
		newID := fmt.Sprintf("%s-%d", string(id)[:min(len(id), 50)], i)
		out[i] = string(idLine.ReplaceAll(raw, []byte("id: "+newID)))
	}
	return out
}

// post sends body with the token and returns the status code and the
// response body.
func (d *daemon) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	return d.call(t, http.MethodPost, path, body)
}

// call sends one request with the token and returns the status code and
// the response body, failing t when the daemon does not answer.
func (d *daemon) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+d.api+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatalf("%s: %s %s: %v (did the daemon die?)", d.name, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// mine lists the practices the daemon published, by ID and sequence.
func (d *daemon) mine(t *testing.T) map[string]uint64 {
	t.Helper()
	got := map[string]uint64{}
	after := ""
	for {
		var page api.PracticeList
		if err := d.do(http.MethodGet, "/api/v1/practices?mine=1&limit=1000"+after, "", &page); err != nil {
			t.Fatalf("%s: list: %v", d.name, err)
		}
		for _, r := range page.Practices {
			got[r.ID] = r.Seq
		}
		if page.Next == "" {
			return got
		}
		after = "&after=" + page.Next
	}
}

// checkNoCrash fails if the daemon exited or its log shows a crash.
func (d *daemon) checkNoCrash(t *testing.T) {
	t.Helper()
	select {
	case <-d.exited:
		t.Fatalf("%s exited: %v", d.name, d.cmd.ProcessState)
	default:
	}
	for _, bad := range []string{"SIGBUS", "panic:", "fatal error:"} {
		if strings.Contains(d.stderr.String(), bad) {
			t.Fatalf("%s's log shows %q", d.name, bad)
		}
	}
}

// TestDiskFullPublish publishes on a daemon whose home is on a small tmpfs
// until the API answers 507, then checks that the daemon is up and says
// why, serves reads and lost nothing it acknowledged; then it frees space
// and publishes again without a restart.
func TestDiskFullPublish(t *testing.T) {
	needRoot(t)
	bin := buildKhantara(t)
	fsDir := mountTmpfs(t, 48)
	home := filepath.Join(fsDir, "home")
	t.Setenv("KHANTARA_DISK_RESERVE_MIB", fmt.Sprint(diskReserveMiB))
	deadline := time.Now().Add(60 * time.Second)
	d := startDaemon(t, bin, "full", home, deadline)
	if d.status.Disk == nil || d.status.Disk.ReserveBytes != diskReserveMiB<<20 || d.status.Disk.WritesPaused {
		t.Fatalf("status disk at start: %+v", d.status.Disk)
	}
	filler := fillTo(t, fsDir, (diskReserveMiB+3)<<20)

	sheets := diskSheets(t, 3000)
	acked := map[string]uint64{}
	var refusal string
	for i, s := range sheets {
		code, body := d.post(t, "/api/v1/practices", s)
		if code == http.StatusOK {
			var p api.Published
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatal(err)
			}
			acked[p.ID] = p.Seq
			continue
		}
		if code != http.StatusInsufficientStorage {
			t.Fatalf("publish %d: %d %s", i, code, body)
		}
		refusal = body
		break
	}
	if refusal == "" {
		t.Fatalf("3000 publishes on a full disk were all accepted (%d bytes free)", freeBytes(t, fsDir))
	}
	t.Logf("507 after %d publishes, %d bytes free: %s", len(acked), freeBytes(t, fsDir), refusal)
	d.checkNoCrash(t)
	var apiErr api.Error
	if err := json.Unmarshal([]byte(refusal), &apiErr); err != nil || strings.Contains(apiErr.Error, "\n") ||
		!strings.Contains(apiErr.Error, home) || !strings.Contains(apiErr.Error, "free") {
		t.Fatalf("the 507 is not one line naming %s and its free space: %q", home, refusal)
	}

	// The disk gets fuller still, so that pages the index and Badger free
	// in the background (merges, compactions) cannot end the pause while
	// the test looks at it.
	fillTo(t, fsDir, (diskReserveMiB-4)<<20)
	st, err := d.getStatus()
	if err != nil || st.Disk == nil || !st.Disk.WritesPaused || st.Disk.PausedSince == nil || st.Disk.FreeBytes >= diskReserveMiB<<20 {
		t.Fatalf("status while full: %+v, %v", st.Disk, err)
	}
	expect(t, bin, 0, []string{"WRITES PAUSED", home}, "status", "--home", home)
	var metrics string
	if code, body := d.get(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, "khantara_disk_writes_paused 1") {
		t.Fatalf("metrics while full (%d) lack khantara_disk_writes_paused 1", code)
	} else {
		metrics = body
	}
	if !strings.Contains(metrics, "khantara_disk_reserve_bytes") || !strings.Contains(metrics, "khantara_disk_free_bytes") {
		t.Fatal("metrics lack the disk gauges")
	}
	// Reads still work, and every acknowledged publish is there.
	got := d.mine(t)
	for id, seq := range acked {
		if got[id] != seq {
			t.Fatalf("acknowledged %s (seq %d) is listed with seq %d", id, seq, got[id])
		}
	}
	if code, body := d.get(t, "/api/v1/search?q=housing"); code != http.StatusOK {
		t.Fatalf("search while full: %d %s", code, body)
	}
	if n := strings.Count(d.stderr.String(), "The disk is nearly full; writes are paused."); n != 1 {
		t.Fatalf("the log says the disk is nearly full %d times, want once:\n%s", n, d.stderr.String())
	}
	// A retraction is refused the same way.
	for id := range acked {
		if code, body := d.post(t, "/api/v1/practices/"+id+"/retract", `{"reason":"test"}`); code != http.StatusInsufficientStorage {
			t.Fatalf("retract while full: %d %s", code, body)
		}
		break
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, deadline, "writes to resume", []*daemon{d}, func() bool {
		st, err := d.getStatus()
		return err == nil && st.Disk != nil && !st.Disk.WritesPaused
	})
	// The watcher logs the change within a second of it.
	waitFor(t, deadline, "the log to say that writes resumed", []*daemon{d}, func() bool {
		return strings.Contains(d.stderr.String(), "Disk space is back; writes resume.")
	})
	for _, s := range sheets[len(acked) : len(acked)+20] {
		if code, body := d.post(t, "/api/v1/practices", s); code != http.StatusOK {
			t.Fatalf("publish after space returned: %d %s", code, body)
		}
	}
	if got := d.mine(t); len(got) != len(acked)+20 {
		t.Fatalf("%d practices after resuming, want %d", len(got), len(acked)+20)
	}
	d.checkNoCrash(t)
}

// get fetches path and returns the status code and body.
func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return d.call(t, http.MethodGet, path, "")
}

// TestDiskFullMidSync starts a daemon on a nearly full tmpfs that catches
// up by sync from one with a larger catalogue: it pauses, stays up and
// serves reads, and completes the catch-up once space is freed.
func TestDiskFullMidSync(t *testing.T) {
	needRoot(t)
	bin := buildKhantara(t)
	t.Setenv("KHANTARA_DISK_RESERVE_MIB", fmt.Sprint(diskReserveMiB))
	deadline := time.Now().Add(90 * time.Second)
	bigFS := mountTmpfs(t, 160)
	a := startDaemon(t, bin, "source", filepath.Join(bigFS, "a"), deadline)
	const total = 800
	for i, s := range diskSheets(t, total) {
		if code, body := a.post(t, "/api/v1/practices", s); code != http.StatusOK {
			t.Fatalf("publish %d on the source: %d %s", i, code, body)
		}
	}

	smallFS := mountTmpfs(t, 48)
	filler := fillTo(t, smallFS, (diskReserveMiB+3)<<20)
	b := startDaemon(t, bin, "replica", filepath.Join(smallFS, "b"), deadline, a.status.Addrs[0])
	count := func() uint64 {
		st, err := b.getStatus()
		if err != nil {
			return 0
		}
		return st.Practices
	}
	waitFor(t, deadline, "the replica to pause writes", []*daemon{a, b}, func() bool {
		st, err := b.getStatus()
		return err == nil && st.Disk != nil && st.Disk.WritesPaused
	})
	// Paused: the count stops short of the catalogue and the node serves.
	held := count()
	t.Logf("replica paused at %d of %d practices, %d bytes free", held, total, freeBytes(t, smallFS))
	if held >= total {
		t.Fatalf("the replica holds all %d practices although paused; make the catalogue larger", held)
	}
	b.checkNoCrash(t)
	if code, body := b.get(t, "/api/v1/practices?limit=5"); code != http.StatusOK {
		t.Fatalf("list on the paused replica: %d %s", code, body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, deadline, "the replica to catch up after space was freed", []*daemon{a, b}, func() bool {
		return count() == total
	})
	st, err := b.getStatus()
	if err != nil || st.Disk.WritesPaused {
		t.Fatalf("status after catching up: %+v, %v", st.Disk, err)
	}
	b.checkNoCrash(t)
	a.checkNoCrash(t)
	if sa, _ := a.getStatus(); sa.Digest != st.Digest {
		t.Fatalf("digests differ after catching up: %s and %s", sa.Digest, st.Digest)
	}
}
