package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Rebuild drops every derived record (the sequence index, publisher
// summaries, the equivocation index, the change feed, the experience
// index) and recreates them
// from the primary records (state and seen log). The feed gets new
// positions, one per slot in key order, and a new epoch. It runs inside
// the writer, so Apply calls wait for it; reads during a rebuild may see
// partial derived records. A rebuild cut short by a crash is finished by
// the next Open. If ctx ends first, Rebuild returns and the rebuild goes on.
func (s *Store) Rebuild(ctx context.Context) error {
	// The writer runs the rebuild, so no Apply interleaves with it.
	return s.run(ctx, s.rebuild)
}

func (s *Store) rebuild() error {
	// The marker survives a crash between dropping and rewriting the
	// derived records; Open sees it and rebuilds again.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaRebuilding, nil) }); err != nil {
		return fmt.Errorf("mark rebuild: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("mark rebuild: %w", err)
	}
	if err := s.db.DropPrefix(derivedPrefixes...); err != nil {
		return fmt.Errorf("drop derived records: %w", err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	r := rebuilder{store: s, wb: wb, now: s.cfg.now().UTC(), sums: map[peer.ID]*summary{}}
	err := s.db.View(func(txn *badger.Txn) error {
		if err := r.states(txn); err != nil {
			return err
		}
		return r.seen(txn)
	})
	if err != nil {
		return fmt.Errorf("scan primary records: %w", err)
	}
	for pub, sum := range r.sums {
		if err := wb.Set(pubKey(prefixPublisher, pub), sum.encode()); err != nil {
			return err
		}
	}
	epoch := newEpoch()
	if err := wb.Set(metaPosition, binary.BigEndian.AppendUint64(nil, r.pos)); err != nil {
		return err
	}
	if err := wb.Set(metaEpoch, []byte(epoch)); err != nil {
		return err
	}
	if err := wb.Delete(metaRebuilding); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write derived records: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return err
	}
	s.setFeed(epoch, r.pos)
	return nil
}

// rebuilder recreates the derived records into wb: sums collects the
// publisher summaries, pos the last feed position assigned.
type rebuilder struct {
	store *Store
	wb    *badger.WriteBatch
	now   time.Time
	sums  map[peer.ID]*summary
	pos   uint64
}

func (r *rebuilder) summary(pub peer.ID) *summary {
	if r.sums[pub] == nil {
		r.sums[pub] = &summary{}
	}
	return r.sums[pub]
}

// states scans the state records: each gets its sequence record and a
// feed position, and counts in its publisher's summary.
func (r *rebuilder) states(txn *badger.Txn) error {
	prefix := []byte{prefixState}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		pub, slot, err := splitPub(it.Item().Key())
		if err != nil {
			return err
		}
		var v *stateValue
		if err := it.Item().Value(func(b []byte) (err error) { v, err = decodeStateValue(b); return }); err != nil {
			return err
		}
		r.store.noteMapped(int(it.Item().ValueSize()))
		// The v1 flag and the experience index need the announcement.
		env, err := v.envelopeIn(r.store.packs)
		if err != nil {
			return fmt.Errorf("state %s/%s: %w", pub, slot, err)
		}
		sg, err := protocol.DecodeStored(env)
		if err != nil {
			return errors.Join(ErrCorrupt, fmt.Errorf("state %s/%s: %w", pub, slot, err))
		}
		v1 := protocol.IsV1(sg)
		sum := r.summary(pub)
		sum.add(v.kind, string(slot), v1, v.seq, v.hash, v.size())
		if v.receivedAt.After(sum.updated) {
			sum.updated = v.receivedAt
		}
		r.pos++
		if err := r.wb.Set(seqKey(prefixSeq, pub, v.seq, v.hash), seqValue(r.pos, v1, string(slot))); err != nil {
			return err
		}
		if e := experienceOf(sg); e != nil {
			if err := r.wb.Set(aboutKey(e.About.Publisher, e.About.ID, pub, string(slot)), []byte{experienceTypeCode(e.Type)}); err != nil {
				return err
			}
		}
		if err := r.wb.Set(changeKey(r.pos), changeValue(pub, string(slot))); err != nil {
			return err
		}
	}
	return nil
}

// seen scans the seen log for each publisher's highest sequence and its
// equivocations: a signer with two hashes at one sequence. A seen entry
// names its signer only when it is not the publisher (keys.go), so a
// store written before organisations existed rebuilds as it always did.
func (r *rebuilder) seen(txn *badger.Txn) error {
	prefix := []byte{prefixSeen}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var lastPub peer.ID
	var lastSeq uint64
	hashes := map[peer.ID]int{} // seen so far at (lastPub, lastSeq), by signer
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		pub, rest, err := splitPub(it.Item().Key())
		if err != nil {
			return err
		}
		seq, _, err := splitSeqKey(rest)
		if err != nil {
			return err
		}
		var signer peer.ID
		if err := it.Item().Value(func(v []byte) error { signer = seenSigner(pub, v); return nil }); err != nil {
			return err
		}
		sum := r.summary(pub)
		sum.maxSeen = max(sum.maxSeen, seq)
		if pub != lastPub || seq != lastSeq {
			lastPub, lastSeq = pub, seq
			clear(hashes)
		}
		hashes[signer]++
		if hashes[signer] == 2 {
			// A second hash by this signer at this sequence: one
			// equivocation, however many more hashes follow. The
			// detection time is lost; the rebuild time stands in for it.
			xk := equivocationKey(pub, seq, signer)
			if err := r.wb.Set(xk, binary.BigEndian.AppendUint64(nil, uint64(r.now.UnixNano()))); err != nil {
				return err
			}
			sum.equivocations++
		}
	}
	return nil
}
