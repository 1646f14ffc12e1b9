package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The change feed. Every change of a slot's state that the writer commits
// gets a local position, one more than the last; the entry 'c' pos ->
// (publisher, slot) is written in the same transaction as the change,
// and the slot's previous entry is deleted, so the feed holds one entry
// per slot, at the position of its last change. (A slot whose state was
// removed keeps its removal entry until its next change or Rebuild; a
// later change of it then adds a second entry, which is harmless to a
// reader that re-reads the state.) The last position is kept in meta
// beside the entries.
//
// A reader such as the search index remembers the position it has
// applied and later asks for the Changes after it. Positions are local
// to this store and derived: Rebuild (and the upgrade of a version-1
// store) assigns them afresh and changes the feed's epoch, a random ID,
// so a position remembered under another epoch means nothing.

// feedPage is how many feed entries Changes reads per read transaction.
const feedPage = 1024

// Change is one entry of the change feed: the state of (Publisher, Slot)
// changed at Pos. Read the store for what the state is now.
type Change struct {
	Pos       uint64
	Publisher peer.ID
	Slot      string
}

// Position returns the feed position of the last committed change (0 for
// an empty store). Safe for concurrent use.
func (s *Store) Position() uint64 {
	_, pos := s.Feed()
	return pos
}

// Epoch returns the feed's epoch: a random ID that changes whenever
// positions are reassigned (Rebuild). Safe for concurrent use.
func (s *Store) Epoch() string {
	epoch, _ := s.Feed()
	return epoch
}

// Feed returns the epoch and the last committed position together, as
// one consistent pair. Safe for concurrent use.
func (s *Store) Feed() (epoch string, pos uint64) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	return s.epoch, s.position
}

func (s *Store) setFeed(epoch string, pos uint64) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	s.epoch, s.position = epoch, pos
}

// Changes returns the feed entries after position after, in position
// order. It reads the feed a page at a time, each page in its own
// snapshot, so a long iteration holds no transaction open; entries
// committed while it runs may or may not be included, and an entry
// superseded meanwhile is replaced by a later one. Stop early by
// breaking out of the loop.
func (s *Store) Changes(after uint64) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for {
			page := make([]Change, 0, feedPage)
			err := s.view(func(txn *badger.Txn) error {
				prefix := []byte{prefixChange}
				it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 256})
				defer it.Close()
				for it.Seek(changeKey(after + 1)); it.ValidForPrefix(prefix) && len(page) < feedPage; it.Next() {
					c, err := decodeChange(it.Item())
					if err != nil {
						return err
					}
					page = append(page, c)
				}
				return nil
			})
			if err != nil {
				yield(Change{}, fmt.Errorf("read the change feed: %w", err))
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			if len(page) < feedPage {
				return
			}
			after = page[len(page)-1].Pos
		}
	}
}

func decodeChange(item *badger.Item) (Change, error) {
	k := item.Key()
	if len(k) != 9 {
		return Change{}, fmt.Errorf("%w: feed key %x", ErrCorrupt, k)
	}
	c := Change{Pos: binary.BigEndian.Uint64(k[1:])}
	err := item.Value(func(v []byte) error {
		if len(v) < 1 || len(v) < 1+int(v[0]) {
			return fmt.Errorf("%w: feed entry %d", ErrCorrupt, c.Pos)
		}
		c.Publisher = peer.ID(v[1 : 1+v[0]])
		c.Slot = string(v[1+v[0]:])
		return nil
	})
	return c, err
}

// recordChange gives the change of (pub, slot) the next feed position:
// it deletes the slot's previous entry at oldPos (0: none) and writes
// the new one, and returns the new position. It is for every write that
// changes or removes a slot's state: a write that stores a state keeps
// the returned position in the state's 'q' record (seqValue), which is
// where the next change of the slot finds oldPos (splitSeqValue); a
// removal passes the position from the removed 'q' record and drops the
// result. The caller commits t with commitWriteTx, which saves the last
// position in meta and publishes it to Position.
func (t *writeTx) recordChange(pub peer.ID, slot string, oldPos uint64) (uint64, error) {
	if oldPos != 0 {
		if err := t.txn.Delete(changeKey(oldPos)); err != nil {
			return 0, err
		}
	}
	t.pos++
	if err := t.txn.Set(changeKey(t.pos), changeValue(pub, slot)); err != nil {
		return 0, err
	}
	return t.pos, nil
}

// seqEntry returns the feed position and the v1 flag kept in the 'q'
// record of the state (pub, seq, h), or 0 and false when there is none.
func seqEntry(txn *badger.Txn, pub peer.ID, seq uint64, h [32]byte) (pos uint64, v1 bool, err error) {
	item, err := txn.Get(seqKey(prefixSeq, pub, seq, h))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	err = item.Value(func(v []byte) (err error) { pos, v1, _, err = splitSeqValueV1(v); return })
	return pos, v1, err
}

// newEpoch returns a fresh random feed epoch.
func newEpoch() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// loadFeed reads the feed's epoch and position from meta, giving a new
// store its epoch.
func (s *Store) loadFeed() error {
	var epoch string
	var pos uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(metaEpoch)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			epoch = newEpoch()
			if err := txn.Set(metaEpoch, []byte(epoch)); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			epoch = string(v)
		}
		item, err = txn.Get(metaPosition)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			return nil
		case err != nil:
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: feed position", ErrCorrupt)
			}
			pos = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the change feed's position: %w", err)
	}
	s.setFeed(epoch, pos)
	return nil
}
