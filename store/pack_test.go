package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// stateVersion returns the layout version of the state value (pub, slot)
// as Badger holds it: 1 with the envelope inline, 2 packed.
func stateVersion(t *testing.T, s *Store, pub peer.ID, slot string) byte {
	t.Helper()
	var version byte
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey(pub, slot))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { version = v[0]; return nil })
	})
	if err != nil {
		t.Fatalf("state %s/%s: %v", pub, slot, err)
	}
	return version
}

// packFiles lists the pack files of the store in dir.
func packFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, packDir, "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// openInline is openStore with ApplyCommitted's envelopes kept inline in
// Badger, as stores did before gossip went to the packs.
func openInline(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, WithMemTableSize(8<<20), WithCacheSize(8<<20), withInlineCommitted())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPackedAndInline: packed envelopes (Apply's and ApplyCommitted's)
// and inline ones (ApplyCommitted's in stores from before gossip went to
// the packs) read back alike, through Get, List and the sync path, across
// a restart; Compact moves all of them into fresh packs.
func TestPackedAndInline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openInline(t, dir)
	k, kid := key(t, 1)
	packed := practice(t, k, 1, "packed", "Packed")
	inline := practice(t, k, 2, "inline", "Inline")
	apply(t, s, packed)
	if _, err := s.ApplyCommitted(context.Background(), Incoming{Signed: inline, From: "test"}); err != nil {
		t.Fatal(err)
	}
	if v := stateVersion(t, s, kid, "packed"); v != 2 {
		t.Fatalf("Apply stored a version-%d state value, want 2 (packed)", v)
	}
	if v := stateVersion(t, s, kid, "inline"); v != 1 {
		t.Fatalf("ApplyCommitted stored a version-%d state value, want 1 (inline, as asked)", v)
	}
	if n := len(packFiles(t, dir)); n != 1 {
		t.Fatalf("%d pack files, want 1", n)
	}
	check := func(s *Store) {
		t.Helper()
		for _, sg := range []*protocol.Signed{packed, inline} {
			a := sg.Announcement()
			rec, err := s.Get(kid, a.Practice.ID)
			if err != nil {
				t.Fatalf("Get %s: %v", a.Practice.ID, err)
			}
			if string(rec.Signed.Envelope()) != string(sg.Envelope()) {
				t.Fatalf("Get %s returned other bytes", a.Practice.ID)
			}
			h := sg.Hash()
			env, err := s.Envelope(kid, a.Seq, h[:])
			if err != nil || string(env) != string(sg.Envelope()) {
				t.Fatalf("Envelope %s: %v, same bytes %v", a.Practice.ID, err, string(env) == string(sg.Envelope()))
			}
		}
		n := 0
		for _, err := range s.List(ListOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 2 {
			t.Fatalf("List gave %d records, want 2", n)
		}
		checkDerived(t, s)
	}
	check(s)
	before := dump(t, s)

	// A restart appends to a new pack and reads the old one.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	check(s)
	apply(t, s, practice(t, k, 3, "after-restart", "After"))
	if n := len(packFiles(t, dir)); n != 2 {
		t.Fatalf("%d pack files after a restart and an Apply, want 2", n)
	}
	if _, err := s.RemoveWhere(context.Background(), kid, func(sg *protocol.Signed) bool { return sg.Slot() == "after-restart" }); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, slot := range []string{"packed", "inline"} {
		if v := stateVersion(t, s, kid, slot); v != 2 {
			t.Fatalf("after Compact %s is a version-%d state value, want 2", slot, v)
		}
	}
	if n := len(packFiles(t, dir)); n != 1 {
		t.Fatalf("%d pack files after Compact, want 1", n)
	}
	check(s)
	if after := dump(t, s); after != before {
		t.Fatalf("Compact changed the state:\n%s\nwant:\n%s", after, before)
	}
}

// TestPackCorruptionDetected: a flipped byte in a pack is an ErrCorrupt
// on read, never a wrong envelope.
func TestPackCorruptionDetected(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	k, kid := key(t, 1)
	sg := practice(t, k, 1, "corrupted", "Practice")
	apply(t, s, sg)
	files := packFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("pack files %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// One letter of the title changes case: the envelope still decodes,
	// so only the checksum can tell.
	i := bytes.Index(b, []byte("Practice"))
	if i < 0 {
		t.Fatal("the title is not in the pack")
	}
	b[i] ^= 0x20
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.DecodeStored(b); err != nil {
		t.Fatalf("the altered envelope does not decode (%v): the test would prove nothing", err)
	}
	if rec, err := s.Get(kid, "corrupted"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get of an altered envelope: %v (record %v), want ErrCorrupt", err, rec != nil)
	}
	// Put back, it reads again.
	b[i] ^= 0x20
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(kid, "corrupted"); err != nil {
		t.Fatalf("Get of the restored envelope: %v", err)
	}
	// Cut short, as a lost tail would be.
	if err := os.Truncate(files[0], int64(len(b)/2)); err != nil {
		t.Fatal(err)
	}
	h := sg.Hash()
	if _, err := s.Envelope(kid, 1, h[:]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Envelope beyond the pack's end: %v, want ErrCorrupt", err)
	}
	// A pointer to more than an envelope can hold is refused before
	// anything is read or allocated.
	if err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey(kid, "corrupted"))
		if err != nil {
			return err
		}
		raw, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		v, err := decodeStateValue(raw)
		if err != nil {
			return err
		}
		v.ptr.size = 1 << 31
		return txn.Set(stateKey(kid, "corrupted"), v.encode())
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(kid, "corrupted"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "a pointer to") {
		t.Fatalf("Get through a pointer to 2 GiB: %v, want ErrCorrupt for the pointer", err)
	}
}

// TestPackSyncFails: when a pack cannot be made durable, Apply fails and
// nothing of its announcements is committed; the next Apply starts a new
// pack and succeeds. A full disk fails with ErrNoSpace.
func TestPackSyncFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	k, kid := key(t, 1)
	apply(t, s, practice(t, k, 1, "first", "First"))
	for _, cause := range []error{errors.New("injected I/O error"), syscall.ENOSPC} {
		s.packs.sync = func(*os.File) error { return cause }
		slot := fmt.Sprintf("lost-%d", len(packFiles(t, dir)))
		_, err := s.Apply(context.Background(), Incoming{Signed: practice(t, k, uint64(10+len(packFiles(t, dir))), slot, "Lost"), From: "test"})
		if err == nil {
			t.Fatalf("Apply succeeded though its pack could not be synced (%v)", cause)
		}
		if errors.Is(cause, syscall.ENOSPC) != errors.Is(err, ErrNoSpace) {
			t.Fatalf("Apply failed with %v for %v: ErrNoSpace only for a full disk", err, cause)
		}
		if _, err := s.Get(kid, slot); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of an announcement whose pack failed: %v, want ErrNotFound", err)
		}
		s.packs.sync = fdatasync
		before := len(packFiles(t, dir))
		apply(t, s, practice(t, k, uint64(20+before), fmt.Sprintf("next-%d", before), "Next"))
		if after := len(packFiles(t, dir)); after != before+1 {
			t.Fatalf("after a failed sync the writer used %d packs, want a new one (%d)", after, before+1)
		}
	}
	checkDerived(t, s)
	for _, err := range s.List(ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPackRotates: past packLimit the writer starts a new pack, and the
// envelopes of both read back.
func TestPackRotates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	k, kid := key(t, 1)
	apply(t, s, practice(t, k, 1, "rot-a", "A"))
	s.packs.woff = packLimit // as if the pack were full
	apply(t, s, practice(t, k, 2, "rot-b", "B"))
	if n := len(packFiles(t, dir)); n != 2 {
		t.Fatalf("%d pack files, want 2", n)
	}
	for _, slot := range []string{"rot-a", "rot-b"} {
		if _, err := s.Get(kid, slot); err != nil {
			t.Fatalf("Get %s: %v", slot, err)
		}
	}
}

// TestUpgradeFromSchema3: a store of schema 3 (every envelope inline) is
// stamped 4 at Open and reads as before; new Apply calls use the packs.
func TestUpgradeFromSchema3(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openInline(t, dir)
	k, kid := key(t, 1)
	for i, sg := range []*protocol.Signed{practice(t, k, 1, "alpha", "A"), practice(t, k, 2, "bravo", "B"), retract(t, k, 3, "alpha")} {
		if _, err := s.ApplyCommitted(context.Background(), Incoming{Signed: sg, From: "test"}); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(metaSchema, binary.BigEndian.AppendUint32(nil, 3))
	}); err != nil {
		t.Fatal(err)
	}
	want := dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if got := dump(t, s); got != want {
		t.Fatalf("after the upgrade:\n%s\nwant:\n%s", got, want)
	}
	checkDerived(t, s)
	requireSchema(t, s, "after the upgrade")
	apply(t, s, practice(t, k, 4, "charlie", "C"))
	if v := stateVersion(t, s, kid, "charlie"); v != 2 {
		t.Fatalf("Apply after the upgrade stored a version-%d state value, want 2", v)
	}
	if v := stateVersion(t, s, kid, "bravo"); v != 1 {
		t.Fatalf("a record of schema 3 is a version-%d state value, want 1 until a purge", v)
	}
}

// TestCommittedGoesToPacks: ApplyCommitted's envelopes go to the packs,
// written before the commit, fdatasynced by the syncer (not before the
// commit), before Badger's fsync, and read back before and after it and
// across a restart.
func TestCommittedGoesToPacks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	var syncs atomic.Int64
	s, err := Open(dir, WithSyncDelay(time.Hour), WithMemTableSize(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.packs.sync = func(f *os.File) error { syncs.Add(1); return fdatasync(f) }
	k, kid := key(t, 1)
	sg := practice(t, k, 1, "gossip", "Gossip")
	if _, err := s.ApplyCommitted(context.Background(), Incoming{Signed: sg, From: "test"}); err != nil {
		t.Fatal(err)
	}
	if v := stateVersion(t, s, kid, "gossip"); v != 2 {
		t.Fatalf("ApplyCommitted stored a version-%d state value, want 2 (packed)", v)
	}
	if n := syncs.Load(); n != 0 {
		t.Fatalf("%d pack fdatasyncs before the syncer's, want 0", n)
	}
	if r, err := s.Get(kid, "gossip"); err != nil || r.Signed.Hash() != sg.Hash() {
		t.Fatalf("Get before the fsync: %v", err)
	}
	// An Apply ends the syncer's wait: its own pack write is fdatasynced
	// in the writer, and the syncer's fdatasync covers the gossip's.
	apply(t, s, practice(t, k, 2, "own", "Own"))
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d pack fdatasyncs after an Apply, want 1 (the writer's; the syncer's had nothing left)", n)
	}
	if _, err := s.ApplyCommitted(context.Background(), Incoming{Signed: practice(t, k, 3, "gossip-2", "Gossip")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 2 {
		t.Fatalf("%d pack fdatasyncs after Close, want 2 (the syncer's last covered the gossip)", n)
	}
	s2 := openStore(t, dir)
	for _, slot := range []string{"gossip", "own", "gossip-2"} {
		if _, err := s2.Get(kid, slot); err != nil {
			t.Fatalf("Get %s after a restart: %v", slot, err)
		}
	}
}
