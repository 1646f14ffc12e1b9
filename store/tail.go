package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The tail after a power cut. ApplyCommitted writes a record's envelope to
// a pack (or, in stores from before, inline in its state value, which
// Badger keeps in its value log, apart from the key and value pointer in
// its write-ahead log). Until the syncer's fsyncs these files are only in
// the page cache, and a power cut may find Badger's write-ahead log
// written back to disk and not the envelope: the state key and the
// record's seen-log entry come back, the envelope does not (a pack cut
// short, zeros, or, once the log is written past that point again,
// another record's bytes). Sync would never bring such a record again,
// since the seen log says it is here.
//
// So the store remembers how far its fsyncs have reached: the syncer reads
// the feed position before each fsync (every commit published at that
// position was written before it) and, once the fsync succeeds, the writer
// saves that mark (metaDurable: the feed's epoch and the position) in its
// next commit. Open checks every record the feed lists after the saved
// mark, and every piece of equivocation evidence (rare, and not in the
// feed): its value must decode, and its envelope must be the record its
// key names. What fails is removed as if it never arrived (state and
// seen-log entry; evidence alone), the derived records are rebuilt, and
// sync fetches the records again. Open then fsyncs and saves the mark.
// Once an fsync fails, the mark stays where it was until the process
// ends: what that fsync should have covered may never reach the disk,
// and a later fsync need not write it.
// After a clean close, or a crash while nothing was waiting for an
// fsync, nothing is checked.

// metaDurable holds the durable mark: len(epoch)(1) epoch pos(8).
var metaDurable = []byte{prefixMeta, 'd', 'u', 'r', 'a', 'b', 'l', 'e'}

// feedMark is a point of the change feed: every change up to pos in
// epoch.
type feedMark struct {
	epoch string
	pos   uint64
}

func (m *feedMark) encode() []byte {
	b := append([]byte{byte(len(m.epoch))}, m.epoch...)
	return binary.BigEndian.AppendUint64(b, m.pos)
}

func decodeFeedMark(v []byte) (feedMark, error) {
	if len(v) < 1 || len(v) != 1+int(v[0])+8 {
		return feedMark{}, fmt.Errorf("%w: durable mark of %d bytes", ErrCorrupt, len(v))
	}
	return feedMark{epoch: string(v[1 : 1+v[0]]), pos: binary.BigEndian.Uint64(v[1+v[0]:])}, nil
}

// lostRecord is a record Open found unreadable: the state of (pub, slot),
// at feed position pos.
type lostRecord struct {
	pub  peer.ID
	slot string
	pos  uint64
}

// saveMark writes the durable mark into txn, a commit of the writer, when
// it moved since the writer's last commit saved it, and returns it; the
// writer notes it as saved once txn is committed.
func (s *Store) saveMark(txn *badger.Txn) (*feedMark, error) {
	m := s.durableMark.Load()
	if m == nil || m == s.savedMark {
		return m, nil
	}
	return m, txn.Set(metaDurable, m.encode())
}

// checkTail is the check of Open described above.
func (s *Store) checkTail() error {
	epoch, end := s.Feed()
	from := uint64(0)
	mark, ok, err := s.readDurable()
	if err != nil {
		return err
	}
	if ok && mark.epoch == epoch {
		from = mark.pos
	}
	var lost []lostRecord
	var evidence [][]byte
	err = s.db.View(func(txn *badger.Txn) error {
		if from < end {
			if lost, err = s.scanTail(txn, from); err != nil {
				return err
			}
		}
		evidence, err = s.scanEvidence(txn)
		return err
	})
	if err != nil {
		return fmt.Errorf("check the records written since the last fsync: %w", err)
	}
	if len(lost) > 0 || len(evidence) > 0 {
		if err := s.forgetLost(lost, evidence); err != nil {
			return fmt.Errorf("remove the records a power cut left unreadable: %w", err)
		}
	}
	return s.saveDurable()
}

// readDurable returns the saved durable mark, if any.
func (s *Store) readDurable() (feedMark, bool, error) {
	var m feedMark
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaDurable)
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) (err error) { m, err = decodeFeedMark(v); return })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return m, false, nil
	}
	return m, err == nil, err
}

// saveDurable fsyncs the store, then saves the feed's end as the durable
// mark and fsyncs again: what Open read (perhaps only from the page cache,
// after a crash of the process alone) is then on disk.
func (s *Store) saveDurable() error {
	if err := s.syncAll(); err != nil {
		s.syncBroken.Store(true)
		return err
	}
	if s.syncBroken.Load() {
		return nil // an earlier fsync failed: Open checks from the last good mark
	}
	epoch, pos := s.Feed()
	m := &feedMark{epoch: epoch, pos: pos}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaDurable, m.encode()) }); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil {
		return err
	}
	s.durableMark.Store(m)
	s.savedMark = m
	return nil
}

// scanTail returns the records the feed lists after position from whose
// state does not read back as the record its key names.
func (s *Store) scanTail(txn *badger.Txn, from uint64) ([]lostRecord, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixChange}, PrefetchValues: true})
	defer it.Close()
	var lost []lostRecord
	for it.Seek(changeKey(from + 1)); it.Valid(); it.Next() {
		c, err := decodeChange(it.Item())
		if err != nil {
			return nil, err
		}
		ok, err := s.stateReadsBack(txn, c.Publisher, c.Slot)
		if err != nil {
			return nil, err
		}
		if !ok {
			lost = append(lost, lostRecord{pub: c.Publisher, slot: c.Slot, pos: c.Pos})
		}
	}
	return lost, nil
}

// stateReadsBack reports whether the state of (pub, slot) is absent (a
// removal) or decodes as that slot's record with the hash and sequence
// its state value holds. An error means the database could not be read.
func (s *Store) stateReadsBack(txn *badger.Txn, pub peer.ID, slot string) (bool, error) {
	item, err := txn.Get(stateKey(pub, slot))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var sv *stateValue
	var env []byte
	s.noteMapped(int(item.ValueSize())) // a whole check must not keep the store resident
	if err := item.Value(func(v []byte) (err error) {
		if sv, err = decodeStateValue(v); err != nil {
			return err
		}
		env, err = sv.envelopeIn(s.packs)
		env = bytes.Clone(env)
		return err
	}); err != nil {
		return false, nil //nolint:nilerr // an unreadable value is what the check looks for
	}
	sg, err := protocol.DecodeStored(env)
	if err != nil {
		return false, nil //nolint:nilerr // likewise
	}
	ann := sg.Announcement()
	return ann.Publisher == pub && sg.Slot() == slot && ann.Seq == sv.seq && sg.Hash() == sv.hash, nil
}

// scanEvidence returns the keys of the equivocation evidence whose
// envelope is not the record its key names.
func (s *Store) scanEvidence(txn *badger.Txn) ([][]byte, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEvidence}, PrefetchValues: true})
	defer it.Close()
	var bad [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		pub, rest, err := splitPub(item.Key())
		if err != nil {
			return nil, err
		}
		seq, h, err := splitSeqKey(rest)
		if err != nil {
			return nil, err
		}
		ok := false
		s.noteMapped(int(item.ValueSize())) // a whole check must not keep the store resident
		if err := item.Value(func(v []byte) error {
			sg, err := protocol.DecodeStored(bytes.Clone(v))
			ok = err == nil && sg.Announcement().Publisher == pub && sg.Announcement().Seq == seq && sg.Hash() == h
			return nil
		}); err != nil {
			ok = false
		}
		if !ok {
			bad = append(bad, item.KeyCopy(nil))
		}
	}
	return bad, nil
}

// forgetLost removes the lost records (their state and seen-log entry,
// found through the sequence index by feed position) and the bad evidence,
// marks a rebuild in the same batch and runs it.
func (s *Store) forgetLost(lost []lostRecord, evidence [][]byte) error {
	keys := evidence
	err := s.db.View(func(txn *badger.Txn) error {
		for _, l := range lost {
			keys = append(keys, stateKey(l.pub, l.slot))
			seen, err := seenKeyAt(txn, l)
			if err != nil {
				return err
			}
			if seen != nil {
				keys = append(keys, seen)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	if err := wb.Set(metaRebuilding, nil); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil {
		return err
	}
	s.cfg.log.Warn("Records written just before the store last stopped did not reach the disk whole (a power cut?); removed, so that sync fetches them again.",
		"records", len(lost), "evidence", len(evidence))
	return s.rebuild()
}

// seenKeyAt returns the seen-log key of the announcement whose state l
// names: the sequence index entry of l's publisher at l's feed position
// and slot says which (nil when there is none).
func seenKeyAt(txn *badger.Txn, l lostRecord) ([]byte, error) {
	prefix := pubKey(prefixSeq, l.pub)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var pos uint64
		var slot string
		if err := it.Item().Value(func(v []byte) (err error) { pos, slot, err = splitSeqValue(v); return }); err != nil {
			return nil, err
		}
		if pos != l.pos || slot != l.slot {
			continue
		}
		seq, h, err := splitSeqKey(it.Item().Key()[len(prefix):])
		if err != nil {
			return nil, err
		}
		return seqKey(prefixSeen, l.pub, seq, h), nil
	}
	return nil, nil
}
