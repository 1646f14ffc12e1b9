package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// held counts the state records n holds of pub.
func heldBy(t testing.TB, n *Node, pub peer.ID) int {
	t.Helper()
	sum, err := n.Store().PublisherSummary(pub)
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return int(sum.Practices + sum.Retracted + sum.Profiles)
}

// syncWith runs one sync session of n with each of peers.
func syncWith(t testing.TB, n *Node, peers ...*Node) {
	t.Helper()
	for _, p := range peers {
		if _, err := n.SyncWith(context.Background(), p.ID()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuotaOpenMode(t *testing.T) {
	tn := newTestNet(t, 41)
	sheets := demoSheets(t)
	spammer := tn.add()
	honest := tn.add()
	byRecords := tn.add(func(c *Config) { c.Quota = Quota{Records: 20} })
	tn.connect(spammer, byRecords)
	tn.connect(honest, byRecords)
	eventually(t, 10*time.Second, "gossip meshes form", func() bool {
		return tn.mesh[0].size() > 0 && tn.mesh[1].size() > 0 && tn.mesh[2].size() >= 2
	})

	// Gossip: the anonymous key fills its quota and no more; an honest
	// publisher is unaffected.
	var first *protocol.FactSheet
	for i := range 50 {
		s := variant(sheets, i)
		if i == 0 {
			first = s
		}
		publish(t, spammer, s)
	}
	for i := range 5 {
		publish(t, honest, variant(sheets, 100+i))
	}
	eventually(t, 20*time.Second, "honest practices arrive", func() bool { return heldBy(t, byRecords, honest.ID()) == 5 })
	eventually(t, 20*time.Second, "the spammer's quota fills", func() bool { return heldBy(t, byRecords, spammer.ID()) == 20 })
	// A sync session offers the rest again; still no more than the quota.
	syncWith(t, byRecords, spammer)
	if got := heldBy(t, byRecords, spammer.ID()); got != 20 {
		t.Fatalf("after sync the receiver holds %d of the spammer's records, quota 20", got)
	}
	if got := byRecords.Stats().Ignored[ReasonQuota]; got < 30 {
		t.Fatalf("ignored for quota: %d, want at least 30", got)
	}
	// An update of a practice already held is taken at the quota.
	upd := *first
	upd.Title = "Updated at the quota"
	sg := publish(t, spammer, &upd)
	eventually(t, 10*time.Second, "the update arrives", func() bool {
		return has(byRecords, spammer.ID(), first.ID, sg.Announcement().Seq)
	})

	// Sync alone, with a rate quota: a node that joins late takes 10 of
	// the spammer's 51 announcements this hour; its own node and the
	// honest one are unaffected.
	byRate := tn.add(func(c *Config) { c.Quota = Quota{PerHour: 10} })
	tn.connect(byRate, spammer)
	tn.connect(byRate, honest)
	syncWith(t, byRate, spammer, honest)
	if got := heldBy(t, byRate, spammer.ID()); got != 10 {
		t.Fatalf("rate quota 10/hour: the late node holds %d of the spammer's records", got)
	}
	// honest's 5 plus what it relays of others are its own business; its
	// own 5 all arrive (each publisher has its own bucket).
	if got := heldBy(t, byRate, honest.ID()); got != 5 {
		t.Fatalf("the honest publisher's records: %d, want 5", got)
	}
}

func TestQuotaExemptions(t *testing.T) {
	tn := newTestNet(t, 42)
	sheets := demoSheets(t)
	friend := tn.add()
	n := tn.add(func(c *Config) {
		c.Quota = Quota{Records: 2, PerHour: 2}
		c.Trust.Allow = []string{friend.ID().String()}
	})
	for i := range 5 {
		publish(t, friend, variant(sheets, i))
		publish(t, n, variant(sheets, 10+i)) // own publications
	}
	tn.connect(n, friend)
	syncWith(t, n, friend)
	if got := heldBy(t, n, friend.ID()); got != 5 {
		t.Fatalf("an allowlisted publisher is held to the quota: %d of 5", got)
	}
	if got := heldBy(t, n, n.ID()); got != 5 {
		t.Fatalf("own publications held to the quota: %d of 5", got)
	}
}

// TestDenyAppliesToStoredRecords restarts a node with a publisher on
// trust.deny: its records leave the store and the index at once, and their
// content leaves the disk.
func TestDenyAppliesToStoredRecords(t *testing.T) {
	tn := newTestNet(t, 43)
	sheets := demoSheets(t)
	spam := tn.add()
	good := tn.add()
	home := t.TempDir()
	withSearch := func(c *Config) { c.Home, c.NoSearch = home, false }
	r := tn.add(withSearch)
	const marker = "ZQXDENIEDCONTENT"
	for i := range 5 {
		s := variant(sheets, i)
		s.Title = fmt.Sprintf("%s %d", marker, i)
		publish(t, spam, s)
	}
	for i := range 3 {
		publish(t, good, variant(sheets, 10+i))
	}
	tn.connect(r, spam)
	tn.connect(r, good)
	syncWith(t, r, spam, good)
	if heldBy(t, r, spam.ID()) != 5 || heldBy(t, r, good.ID()) != 3 {
		t.Fatalf("before the restart: %d and %d records", heldBy(t, r, spam.ID()), heldBy(t, r, good.ID()))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := tn.add(withSearch, func(c *Config) { c.Trust.Deny = []string{spam.ID().String()} })
	if got := heldBy(t, r2, spam.ID()); got != 0 {
		t.Fatalf("a denied publisher's records are still in the store after restart: %d", got)
	}
	for rec, err := range r2.Store().List(store.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Announcement().Publisher == spam.ID() {
			t.Fatalf("listed: %s", rec.Announcement().Slot())
		}
	}
	if heldBy(t, r2, good.ID()) != 3 {
		t.Fatalf("the kept publisher lost records: %d of 3", heldBy(t, r2, good.ID()))
	}
	eventually(t, 20*time.Second, "the index holds only the kept publisher's practices", func() bool {
		c, err := r2.index.Count()
		return err == nil && c == 3
	})
	// The purge loop erases the content from the disk shortly after start.
	eventually(t, 30*time.Second, "the denied content leaves the disk", func() bool {
		return len(filesContaining(t, home, marker)) == 0
	})
}

// filesContaining lists the files under dir that contain needle.
func filesContaining(t testing.TB, dir, needle string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil //nolint:nilerr // a file gone mid-walk (a compaction) holds nothing
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(needle)) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}
