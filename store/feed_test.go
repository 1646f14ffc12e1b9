package store

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
)

// checkFeed verifies the change feed against the state: Changes(0) lists
// every state slot exactly once, in strictly increasing position order,
// none beyond Position, each at the position its 'q' record holds; and
// every publisher's Bytes is the sum of its envelope sizes.
func checkFeed(t testing.TB, s *Store) {
	t.Helper()
	checkFeedEntries(t, s, false)
}

// checkFeedEntries is checkFeed; with emptied, the feed may also list
// slots that have no state any more, and a slot twice when its state was
// removed and came back (feed.go), its state at its last entry.
func checkFeedEntries(t testing.TB, s *Store, emptied bool) {
	t.Helper()
	type slotKey struct{ pub, slot string }
	feed := map[slotKey]uint64{}
	var last uint64
	for c, err := range s.Changes(0) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Pos <= last {
			t.Fatalf("feed position %d after %d", c.Pos, last)
		}
		last = c.Pos
		k := slotKey{string(c.Publisher), c.Slot}
		if _, dup := feed[k]; dup && !emptied {
			t.Fatalf("feed lists %s/%s twice", c.Publisher, c.Slot)
		}
		feed[k] = c.Pos
	}
	if pos := s.Position(); last > pos {
		t.Fatalf("feed entry %d beyond Position %d", last, pos)
	}
	states := 0
	for p, err := range s.Publishers() {
		if err != nil {
			t.Fatal(err)
		}
		var bytes uint64
		for r, err := range s.List(ListOptions{Publisher: p.ID}) {
			if err != nil {
				t.Fatal(err)
			}
			states++
			bytes += uint64(len(r.Signed.Envelope()))
			a := r.Announcement()
			pos, ok := feed[slotKey{string(a.Publisher), r.Signed.Slot()}]
			if !ok {
				t.Fatalf("state %s/%s has no feed entry", a.Publisher, r.Signed.Slot())
			}
			var qpos uint64
			err := s.view(func(txn *badger.Txn) error {
				item, err := txn.Get(seqKey(prefixSeq, a.Publisher, a.Seq, r.Signed.Hash()))
				if err != nil {
					return err
				}
				return item.Value(func(v []byte) (err error) { qpos, _, err = splitSeqValue(v); return })
			})
			if err != nil || qpos != pos {
				t.Fatalf("state %s/%s: feed position %d, sequence record says %d (%v)", a.Publisher, r.Signed.Slot(), pos, qpos, err)
			}
		}
		if bytes != p.Bytes {
			t.Fatalf("publisher %s: Bytes %d, envelopes sum to %d", p.ID, p.Bytes, bytes)
		}
	}
	if states != len(feed) && !emptied || states > len(feed) {
		t.Fatalf("%d state records, %d feed entries", states, len(feed))
	}
}

// TestPropertyFeed: after any sequence of applies, in any grouping, the
// feed lists each slot once in position order, and positions only grow:
// every entry written by an apply lies beyond the Position before it.
func TestPropertyFeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	slots := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	for round := range 6 {
		s := openStore(t, "")
		var all []*protocol.Signed
		for p := range 3 {
			k, _ := key(t, byte(30+p))
			for seq := uint64(1); seq <= 20; seq++ {
				slot := slots[rng.IntN(len(slots))]
				switch r := rng.IntN(10); {
				case r < 2:
					all = append(all, retract(t, k, seq, slot))
				case r < 3:
					all = append(all, profile(t, k, seq, "Org "+strconv.Itoa(int(seq))))
				default:
					all = append(all, practice(t, k, seq, slot, "Title "+strconv.Itoa(int(seq))))
				}
			}
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		epoch := s.Epoch()
		for len(all) > 0 {
			n := min(len(all), 1+rng.IntN(6))
			before := s.Position()
			res := apply(t, s, all[:n]...)
			applied := 0
			for _, r := range res {
				if r.Outcome == Applied {
					applied++
				}
			}
			after := s.Position()
			if after != before+uint64(applied) {
				t.Fatalf("round %d: %d applied moved Position from %d to %d", round, applied, before, after)
			}
			var fresh int
			for c, err := range s.Changes(before) {
				if err != nil {
					t.Fatal(err)
				}
				if c.Pos <= before || c.Pos > after {
					t.Fatalf("Changes(%d) yields position %d (Position %d)", before, c.Pos, after)
				}
				fresh++
			}
			if fresh > applied {
				t.Fatalf("Changes(%d) yields %d entries for %d applied", before, fresh, applied)
			}
			all = all[n:]
		}
		checkFeed(t, s)
		if s.Epoch() != epoch {
			t.Fatal("applies changed the epoch")
		}
		if round%2 == 0 {
			if err := s.Rebuild(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s.Epoch() == epoch {
				t.Fatal("Rebuild kept the epoch, but it reassigns positions")
			}
			checkFeed(t, s)
		}
	}
}

// TestFeedPagesAndReopen: Changes reads across pages without losing or
// repeating entries, and the epoch and position survive a reopen.
func TestFeedPagesAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	k, _ := key(t, 40)
	var batch []*protocol.Signed
	const n = feedPage*2 + 17
	for i := range n {
		batch = append(batch, practice(t, k, uint64(i+1), "prac-"+strconv.Itoa(i), "T"))
	}
	apply(t, s, batch...)
	checkFeed(t, s)
	count := 0
	for c, err := range s.Changes(10) {
		if err != nil {
			t.Fatal(err)
		}
		count++
		if c.Pos != uint64(10+count) {
			t.Fatalf("entry %d at position %d", count, c.Pos)
		}
	}
	if count != n-10 {
		t.Fatalf("Changes(10) yields %d entries, want %d", count, n-10)
	}
	epoch, pos := s.Feed()
	s.Close()
	s = openStore(t, dir)
	if e2, p2 := s.Feed(); e2 != epoch || p2 != pos || pos != n {
		t.Fatalf("after reopen: epoch %s position %d, before %s %d (want position %d)", e2, p2, epoch, pos, n)
	}
}

// TestUpgradeFromVersion1: Open upgrades a version-1 store in place: the
// derived records (version-1 layouts) are rebuilt with the feed and the
// byte counts, and the state is untouched.
func TestUpgradeFromVersion1(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	k, pub := key(t, 41)
	apply(t, s, practice(t, k, 1, "alpha", "A"), practice(t, k, 2, "bravo", "B"), retract(t, k, 3, "alpha"))
	want := dump(t, s)
	// Make it a version-1 store: no feed, 'q' values hold only the slot,
	// summaries in the 89-byte version-1 layout.
	err := s.db.DropPrefix([]byte{prefixChange})
	if err == nil {
		err = s.db.Update(func(txn *badger.Txn) error {
			for _, k := range [][]byte{metaPosition, metaEpoch} {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			var qs [][2][]byte
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixSeq}})
			for it.Seek([]byte{prefixSeq}); it.ValidForPrefix([]byte{prefixSeq}); it.Next() {
				v, _ := it.Item().ValueCopy(nil)
				qs = append(qs, [2][]byte{it.Item().KeyCopy(nil), v[8:]})
			}
			it.Close()
			for _, q := range qs {
				if err := txn.Set(q[0], q[1]); err != nil {
					return err
				}
			}
			v1 := make([]byte, 89)
			v1[0] = 1
			if err := txn.Set(pubKey(prefixPublisher, pub), v1); err != nil {
				return err
			}
			return txn.Set(metaSchema, binary.BigEndian.AppendUint32(nil, 1))
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, dir)
	if got := dump(t, s); got != want {
		t.Fatalf("after upgrade:\n%s\nwant:\n%s", got, want)
	}
	checkDerived(t, s)
	checkFeed(t, s)
	if s.Position() != 2 {
		t.Fatalf("Position %d after upgrade, want 2 (one per slot)", s.Position())
	}
	requireSchema(t, s, "after upgrade")
}
