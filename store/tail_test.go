package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// lastVlog returns the path of the store's newest value-log file and how
// far its data reaches (the file is preallocated with zeros).
func lastVlog(t *testing.T, dir string) (string, int) {
	t.Helper()
	vlogs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil || len(vlogs) == 0 {
		t.Fatalf("no value log in %s (%v)", dir, err)
	}
	slices.Sort(vlogs)
	b, err := os.ReadFile(vlogs[len(vlogs)-1])
	if err != nil {
		t.Fatal(err)
	}
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	return vlogs[len(vlogs)-1], end
}

// TestOpenAfterPowerCut reproduces what a power cut can leave of records
// stored with ApplyCommitted before their fsync: Badger's write-ahead log
// (the keys and state values, or value pointers) on disk, and the
// envelopes not: in a pack (packed, as the store writes them) its tail is
// cut off, as when the file's last writes and new length never reached
// the disk; in Badger's value log (inline, as stores before packs for
// gossip held them) the second half of what it took since the last fsync
// is zeroes. It copies a live store's directory, as the disk would hold it
// if every page had been written back, cuts the copy so, and opens it.
// Every record Apply acknowledged must be whole; every ApplyCommitted one
// whole or absent, never corrupt; the absent ones must apply again (not
// as duplicates: sync can bring them back), and the derived records must
// agree with the primary ones.
func TestOpenAfterPowerCut(t *testing.T) {
	t.Run("packed", func(t *testing.T) {
		powerCut(t, nil, func(dir string) (string, int) {
			packs, _ := filepath.Glob(filepath.Join(dir, packDir, "*.pack"))
			slices.Sort(packs)
			st, err := os.Stat(packs[len(packs)-1])
			if err != nil {
				t.Fatal(err)
			}
			return packs[len(packs)-1], int(st.Size())
		}, func(path string, synced, end int) {
			if err := os.Truncate(path, int64(synced+(end-synced)/2)); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("inline", func(t *testing.T) {
		powerCut(t, []Option{withInlineCommitted()}, func(dir string) (string, int) {
			return lastVlog(t, dir)
		}, func(path string, synced, end int) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			clear(b[synced+(end-synced)/2 : end])
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// powerCut runs TestOpenAfterPowerCut with the store's options opts:
// tail gives the file that holds the gossip's envelopes and its length,
// cut takes the part after synced from the copy of it.
func powerCut(t *testing.T, opts []Option, tail func(dir string) (string, int), cut func(path string, synced, end int)) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(dir, append([]Option{WithSyncDelay(time.Hour), WithMemTableSize(8 << 20)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var durable, committed []Incoming
	for i := range 10 {
		durable = append(durable, Incoming{Signed: bigPractice(t, uint64(i+1), fmt.Sprintf("durable-%02d", i), "D")})
	}
	for i := range 30 {
		committed = append(committed, Incoming{Signed: bigPractice(t, uint64(100+i), fmt.Sprintf("gossip-%02d", i), "G")})
	}
	if _, err := s.Apply(context.Background(), durable...); err != nil {
		t.Fatal(err)
	}
	_, synced := tail(dir)
	if _, err := s.ApplyCommitted(context.Background(), committed...); err != nil {
		t.Fatal(err)
	}
	path, end := tail(dir)
	if end <= synced {
		t.Fatalf("the gossip's envelopes did not go to %s (%d..%d): the test would prove nothing", path, synced, end)
	}
	snap := filepath.Join(t.TempDir(), "snap")
	if out, err := exec.Command("cp", "-a", dir, snap).CombinedOutput(); err != nil {
		t.Fatalf("copy the store: %v: %s", err, out)
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		t.Fatal(err)
	}
	cut(filepath.Join(snap, rel), synced, end)

	s2 := openStore(t, snap)
	_, kid := key(t, 1)
	for _, in := range durable {
		r, err := s2.Get(kid, in.Signed.Slot())
		if err != nil || r.Signed.Hash() != in.Signed.Hash() {
			t.Fatalf("acknowledged as durable, %s reads %v after the cut", in.Signed.Slot(), err)
		}
	}
	lost := map[string]bool{}
	for _, in := range committed {
		r, err := s2.Get(kid, in.Signed.Slot())
		switch {
		case errors.Is(err, ErrNotFound):
			lost[in.Signed.Slot()] = true
		case err != nil:
			t.Fatalf("%s after the cut: %v; want it whole or absent", in.Signed.Slot(), err)
		case r.Signed.Hash() != in.Signed.Hash():
			t.Fatalf("%s after the cut holds another record", in.Signed.Slot())
		}
	}
	if len(lost) == 0 || len(lost) == len(committed) {
		t.Fatalf("%d of %d records lost: the test would prove less than it should", len(lost), len(committed))
	}
	t.Logf("%d of %d committed records lost with the tail", len(lost), len(committed))
	checkDerived(t, s2)
	res, err := s2.Apply(context.Background(), committed...)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range committed {
		want := Duplicate
		if lost[in.Signed.Slot()] {
			want = Applied
		}
		if res[i].Outcome != want {
			t.Errorf("%s applied again: %v, want %v", in.Signed.Slot(), res[i].Outcome, want)
		}
	}
	checkDerived(t, s2)
}

// TestOpenRemovesMisplacedRecord puts one record's state value under
// another record's key, as a value-log pointer left by a power cut reads
// once Badger has written other values over that part of the log, with the
// durable mark before both; Open must remove the misplaced record so that
// it applies again, and leave the other.
func TestOpenRemovesMisplacedRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	k, kid := key(t, 1)
	items := practices(t, k, 1, 5, "p-%d")
	apply(t, s, items...)
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey(kid, "p-2"))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if err := txn.Set(stateKey(kid, "p-1"), v); err != nil {
			return err
		}
		m := feedMark{epoch: s.Epoch()}
		return txn.Set(metaDurable, m.encode())
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir)
	if _, err := s2.Get(kid, "p-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the misplaced record reads %v; want it removed", err)
	}
	for _, i := range []int{0, 2, 3, 4} {
		if r, err := s2.Get(kid, fmt.Sprintf("p-%d", i)); err != nil || r.Signed.Hash() != items[i].Hash() {
			t.Fatalf("p-%d after the check: %v", i, err)
		}
	}
	checkDerived(t, s2)
	if res := apply(t, s2, items[1]); res[0].Outcome != Applied {
		t.Fatalf("the removed record applied again: %v; want applied", res[0].Outcome)
	}
	checkDerived(t, s2)
}

// TestDurableMarkFollowsFsyncs checks the mark a commit saves: the feed
// position the last fsync covered, and after Open the feed's end.
func TestDurableMarkFollowsFsyncs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	k, _ := key(t, 1)
	apply(t, s, practice(t, k, 1, "rec-a", "A"))
	first := s.Position()
	apply(t, s, practice(t, k, 2, "rec-b", "B"))
	m, ok, err := s.readDurable()
	if err != nil || !ok || m.epoch != s.Epoch() || m.pos < first {
		t.Fatalf("durable mark after two fsynced commits = %+v, %v, %v; want at least position %d", m, ok, err, first)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir)
	m, ok, err = s2.readDurable()
	if err != nil || !ok || m.pos != s2.Position() || m.epoch != s2.Epoch() {
		t.Fatalf("durable mark after Open = %+v, %v, %v; want the feed's end %d", m, ok, err, s2.Position())
	}
}

// TestDurableMarkStopsAfterFailedFsync: once an fsync has failed, what it
// should have covered may never reach the disk (a later fsync need not
// write it), so the mark stays where it was for the rest of the process
// and the next Open checks everything after it.
func TestDurableMarkStopsAfterFailedFsync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(dir, WithSyncDelay(0), WithMemTableSize(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, _ := key(t, 1)
	apply(t, s, practice(t, k, 1, "before", "Before"))
	good := s.Position()
	var failed atomic.Bool
	s.packs.sync = func(f *os.File) error {
		if failed.CompareAndSwap(false, true) {
			return errors.New("injected fsync failure")
		}
		return fdatasync(f)
	}
	commit := func(seq uint64, id string) {
		t.Helper()
		if _, err := s.ApplyCommitted(context.Background(), Incoming{Signed: practice(t, k, seq, id, "Gossip")}); err != nil {
			t.Fatal(err)
		}
	}
	commit(2, "gossip-1") // the syncer's pack fdatasync fails
	for !failed.Load() || s.WriteStats().Syncs < 2 {
		time.Sleep(time.Millisecond)
	}
	commit(3, "gossip-2") // a new pack; its fdatasync succeeds
	apply(t, s, practice(t, k, 4, "after", "After"))
	apply(t, s, practice(t, k, 5, "after-2", "After")) // saves the mark the last fsyncs left
	m, ok, err := s.readDurable()
	if err != nil || !ok || m.pos > good {
		t.Fatalf("durable mark after a failed fsync = %+v, %v, %v; want at most position %d", m, ok, err, good)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir)
	m, _, _ = s2.readDurable()
	if m.pos != s2.Position() {
		t.Fatalf("durable mark after Open = %d, want the feed's end %d", m.pos, s2.Position())
	}
}
