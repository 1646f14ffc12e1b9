package api

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/store"
	"golang.org/x/sys/unix"
)

// TestAPIShortOfSpace runs a node whose reserve (1 TiB) is above the free
// space of the test's disk: the API refuses own writes with 507 naming the
// directory, serves reads, and shows the state in status and metrics (the
// node's side is node.TestNodeShortOfSpace).
func TestAPIShortOfSpace(t *testing.T) {
	tn := newTestNet(t, 11)
	full := tn.add(func(c *node.Config) { c.DiskReserveMiB = 1 << 20 })
	var st unix.Statfs_t
	if err := unix.Statfs(full.Config().Home, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail*uint64(st.Bsize) >= 1<<40 {
		t.Skip("the test disk has over 1 TiB free, more than the largest reserve")
	}
	if _, err := full.Publish(t.Context(), variant(demoSheets(t), 0)); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Publish while short of space = %v, want ErrNoSpace", err)
	}

	c := newTestClient(t, full)
	names, err := fs.Glob(demo.Sheets, "sheets/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatal(err)
	}
	body, err := fs.ReadFile(demo.Sheets, names[0])
	if err != nil {
		t.Fatal(err)
	}
	e := c.fail("POST", "/api/v1/practices", string(body), true, http.StatusInsufficientStorage)
	if !strings.Contains(e.Error, full.Config().Home) || !strings.Contains(e.Error, "free") || strings.Contains(e.Error, "\n") ||
		!strings.HasPrefix(e.Error, "publish refused, writes are paused: ") {
		t.Fatalf("507 message: %q", e.Error)
	}
	c.fail("PUT", "/api/v1/profile", "name: Comune di Prova\ncountry: IT\nlevel: municipality\n", true, http.StatusInsufficientStorage)

	var status Status
	c.ok("GET", "/api/v1/status", "", false, &status)
	if status.Disk == nil || !status.Disk.WritesPaused || status.Disk.PausedSince == nil || status.Disk.ReserveBytes != 1<<40 {
		t.Fatalf("status disk: %+v", status.Disk)
	}
	var list PracticeList
	c.ok("GET", "/api/v1/practices", "", false, &list) // reads still work
	code, metrics := c.do("GET", "/metrics", "", false)
	for _, want := range []string{"khantara_disk_writes_paused 1", "khantara_disk_reserve_bytes 1.099511627776e+12", "khantara_disk_free_bytes "} {
		if code != http.StatusOK || !strings.Contains(string(metrics), want) {
			t.Fatalf("metrics (%d) lack %q", code, want)
		}
	}
}
