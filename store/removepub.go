package store

import (
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// removeChunk bounds the keys one transaction of RemovePublisher deletes.
const removeChunk = 2000

// slotChange is one feed entry RemovePublisher rewrites: the slot that
// changed and its old position.
type slotChange struct {
	slot string
	pos  uint64
}

func (s *Store) removePublisher(pub peer.ID) (int, error) {
	states, keys, changes, err := s.publisherKeys(pub)
	if err != nil {
		return 0, err
	}
	for len(keys) > 0 || len(changes) > 0 {
		t := s.newWriteTx()
		ops := 0
		for ; len(changes) > 0 && ops < removeChunk; ops += 2 {
			// The feed tells readers (the search index) that the slot changed.
			if _, err := t.recordChange(pub, changes[0].slot, changes[0].pos); err != nil {
				t.txn.Discard()
				return 0, err
			}
			changes = changes[1:]
		}
		for ; len(keys) > 0 && ops < removeChunk; ops++ {
			if err := t.txn.Delete(keys[0]); err != nil {
				t.txn.Discard()
				return 0, err
			}
			keys = keys[1:]
		}
		if err := t.txn.Set(metaPurgePending, nil); err != nil {
			t.txn.Discard()
			return 0, err
		}
		if err := s.commitWriteTx(t); err != nil {
			t.txn.Discard()
			return 0, fmt.Errorf("remove publisher %s: %w", pub, err)
		}
	}
	if err := s.db.Sync(); err != nil {
		return 0, fmt.Errorf("remove publisher %s: %w", pub, err)
	}
	return states, nil
}

// publisherKeys lists every key RemovePublisher deletes for pub, the
// feed entries it rewrites, and how many state records pub has.
func (s *Store) publisherKeys(pub peer.ID) (states int, keys [][]byte, changes []slotChange, err error) {
	// The summary goes last: Publishers lists summaries, so a removal cut
	// short by a crash is still found, and finished, by the next one.
	prefixes := [][]byte{
		pubKey(prefixState, pub), pubKey(prefixSeq, pub), pubKey(prefixSeen, pub),
		pubKey(prefixEquivocation, pub), pubKey(prefixEvidence, pub), pubKey(prefixPublisher, pub),
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for _, p := range prefixes {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: p[0] == prefixSeq})
			for it.Seek(p); it.ValidForPrefix(p); it.Next() {
				item := it.Item()
				keys = append(keys, item.KeyCopy(nil))
				switch p[0] {
				case prefixState:
					states++
					// An experience record leaves the experience index too.
					k, err := aboutKeyOf(pub, item, s.packs)
					if err != nil {
						it.Close()
						return err
					}
					if k != nil {
						keys = append(keys, k)
					}
				case prefixSeq:
					err := item.Value(func(v []byte) error {
						pos, slot, err := splitSeqValue(v)
						changes = append(changes, slotChange{slot, pos})
						return err
					})
					if err != nil {
						it.Close()
						return err
					}
				}
			}
			it.Close()
		}
		return nil
	})
	return states, keys, changes, err
}

// aboutKeyOf returns the experience index entry of the state record
// item of pub, nil when it is no experience record; a packed envelope is
// read from pk.
func aboutKeyOf(pub peer.ID, item *badger.Item, pk *packs) ([]byte, error) {
	_, slot, err := splitPub(item.Key())
	if err != nil {
		return nil, err
	}
	var k []byte
	err = item.Value(func(b []byte) error {
		v, err := decodeStateValue(b)
		if err != nil || v.kind != protocol.KindExperience {
			return err
		}
		env, err := v.envelopeIn(pk)
		if err != nil {
			return err
		}
		sg, err := protocol.DecodeStored(env)
		if err != nil {
			return errors.Join(ErrCorrupt, err)
		}
		if e := experienceOf(sg); e != nil {
			k = aboutKey(e.About.Publisher, e.About.ID, pub, string(slot))
		}
		return nil
	})
	return k, err
}
