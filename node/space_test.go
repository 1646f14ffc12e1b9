package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/store"
	"golang.org/x/sys/unix"
)

func TestConfigDiskReserve(t *testing.T) {
	for _, tc := range []struct {
		mib  int
		want string
	}{
		{0, ""},
		{1, ""},
		{DefaultDiskReserveMiB, ""},
		{1 << 20, ""},
		{-1, "disk_reserve_mib: -1 is outside 0..1048576"},
		{1<<20 + 1, "disk_reserve_mib: 1048577 is outside"},
		{256 << 20, "(0 turns the check off)"},
	} {
		cfg := DefaultConfig(t.TempDir())
		cfg.DiskReserveMiB = tc.mib
		err := cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("disk_reserve_mib %d: Validate() = %v, want %q", tc.mib, err, tc.want)
		}
	}
	if DefaultConfig("x").DiskReserveMiB != DefaultDiskReserveMiB {
		t.Error("the default config does not keep the default reserve")
	}
}

// TestNodeShortOfSpace runs a node whose reserve (1 TiB) is above the
// free space of the test's disk: it starts paused, refuses own writes and
// ignores gossip with reason no_space without storing it. The API's side
// (507s naming the directory, reads served, status and metrics) is
// api.TestAPIShortOfSpace. Resuming is tested on a real tmpfs
// (cmd/khantara/disk_e2e_test.go).
func TestNodeShortOfSpace(t *testing.T) {
	tn := newTestNet(t, 11)
	full := tn.add(func(c *Config) { c.DiskReserveMiB = 1 << 20 })
	var st unix.Statfs_t
	if err := unix.Statfs(full.Config().Home, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail*uint64(st.Bsize) >= 1<<40 {
		t.Skip("the test disk has over 1 TiB free, more than the largest reserve")
	}
	other := tn.add()
	d := full.Disk()
	if !d.Watched || !d.Paused || d.PausedSince.IsZero() || d.Reserve != 1<<40 || d.Free == 0 || d.Dir != full.Config().Home {
		t.Fatalf("Disk() = %+v", d)
	}
	if got := other.Disk(); !got.Watched || got.Paused {
		t.Fatalf("the node with the default reserve: %+v", got)
	}

	sheets := demoSheets(t)
	if _, err := full.Publish(context.Background(), variant(sheets, 0)); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Publish while short of space = %v, want ErrNoSpace", err)
	}
	if _, err := full.Store().PublisherSummary(full.ID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused publish left a record: %v", err)
	}

	// Gossip from a peer is ignored, not rejected, and not stored.
	tn.connect(full, other)
	for i, nd := range tn.nodes {
		if nd == other {
			eventually(t, 10*time.Second, "the gossip mesh", func() bool { return tn.mesh[i].size() > 0 })
		}
	}
	sg := publish(t, other, variant(sheets, 1))
	eventually(t, 10*time.Second, "the full node to ignore gossip with reason no_space", func() bool {
		return full.Stats().Ignored[ReasonNoSpace] > 0
	})
	if s := full.Stats(); len(s.Rejected) > 0 {
		t.Fatalf("gossip rejected while short of space: %v", s.Rejected)
	}
	if has(full, other.ID(), sg.Announcement().Slot(), sg.Announcement().Seq) {
		t.Fatal("the full node stored gossip")
	}
}
