package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// RemoveWhere deletes the records of pub (state records and equivocation
// evidence) for which drop returns true, with their seen-log entries and
// everything derived from them (sequence index, summary, equivocation
// records, change feed), and returns how many it removed. Since their
// hashes leave the seen log, the same records are applied again if they
// arrive later: this is how records that lose their authority (an
// organisation's head no longer delegates their signer) come back when
// the authority returns. When a state record goes and evidence of its
// slot stays (the loser of an equivocation whose winner was removed),
// the best-ranked such evidence becomes the slot's state, as in a store
// that never held the winner (its sender is not known: Record.From is
// empty). Superseded records are not held, so a slot whose state goes
// stays empty until a replica that holds an older version syncs it back;
// so that it can, the hashes of records below a removed one that are held
// in no form are forgotten too (forgetSuperseded).
// The content stays on disk until the next Compact.
//
// It runs in the writer, so Apply calls wait for it, and it calls drop
// there, outside any transaction: drop must be quick and must not write
// to the store. Each record goes in a transaction that also updates what
// is derived from it, so a crash leaves a consistent store in which some
// of the records are gone; the caller runs RemoveWhere again. It returns
// after the removals are durable. If ctx ends first, RemoveWhere returns
// and the removal goes on.
func (s *Store) RemoveWhere(ctx context.Context, pub peer.ID, drop func(*protocol.Signed) bool) (int, error) {
	var n int
	err := s.run(ctx, func() (err error) { n, err = s.removeWhere(pub, drop); return err })
	return n, err
}

// victim is one record RemoveWhere deletes: a state record (its slot,
// kind and envelope size are known) or evidence.
type victim struct {
	evidence bool
	slot     string
	kind     protocol.Kind
	seq      uint64
	hash     protocol.Hash
	size     int
	signer   peer.ID
	// exp is the body of a state record of kind experience, nil otherwise.
	exp *protocol.Experience
}

// removeWhereChunk bounds the records one transaction of RemoveWhere
// deletes (each costs a handful of keys).
const removeWhereChunk = 256

func (s *Store) removeWhere(pub peer.ID, drop func(*protocol.Signed) bool) (int, error) {
	candidates, err := s.publisherRecords(pub)
	if err != nil {
		return 0, fmt.Errorf("remove records of %s: %w", pub, err)
	}
	var victims []victim
	heirs := map[string]*candidate{} // slot -> the best evidence that stays
	for i, c := range candidates {
		switch {
		case drop(c.signed):
			victims = append(victims, c.victim)
		case c.victim.evidence:
			v := c.victim
			if h := heirs[v.slot]; h == nil || rankAbove(v.seq, v.hash, h.victim.seq, h.victim.hash) {
				heirs[v.slot] = &candidates[i]
			}
		}
	}
	n := len(victims)
	for len(victims) > 0 {
		k := min(len(victims), removeWhereChunk)
		if err := s.removeChunk(pub, victims[:k], heirs); err != nil {
			return 0, fmt.Errorf("remove records of %s: %w", pub, err)
		}
		victims = victims[k:]
	}
	if n > 0 {
		if err := s.db.Sync(); err != nil {
			return 0, fmt.Errorf("remove records of %s: %w", pub, err)
		}
	}
	return n, nil
}

// candidate is a record of a publisher, decoded, with what removing it
// needs to know.
type candidate struct {
	signed *protocol.Signed
	victim victim
}

// publisherRecords reads and decodes every state record and every piece
// of evidence of pub.
func (s *Store) publisherRecords(pub peer.ID) ([]candidate, error) {
	var out []candidate
	err := s.db.View(func(txn *badger.Txn) error {
		for _, p := range [][]byte{pubKey(prefixState, pub), pubKey(prefixEvidence, pub)} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
			for it.Seek(p); it.ValidForPrefix(p); it.Next() {
				c, err := decodeCandidate(it.Item(), p[0] == prefixEvidence, s.packs)
				if err != nil {
					it.Close()
					return err
				}
				out = append(out, c)
			}
			it.Close()
		}
		return nil
	})
	return out, err
}

// decodeCandidate decodes the state record or evidence item, reading a
// packed envelope from pk.
func decodeCandidate(item *badger.Item, evidence bool, pk *packs) (candidate, error) {
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return candidate{}, err
	}
	env := raw
	var v victim
	if evidence {
		v.evidence = true
	} else {
		sv, err := decodeStateValue(raw)
		if err != nil {
			return candidate{}, err
		}
		if env, err = sv.envelopeIn(pk); err != nil {
			return candidate{}, err
		}
		v.kind = sv.kind
		v.size = len(env)
	}
	sg, err := protocol.DecodeStored(env)
	if err != nil {
		return candidate{}, errors.Join(ErrCorrupt, err)
	}
	v.slot, v.seq, v.hash, v.signer = sg.Slot(), sg.Announcement().Seq, sg.Hash(), sg.Signer()
	if !evidence {
		v.exp = experienceOf(sg)
	}
	return candidate{signed: sg, victim: v}, nil
}

// removeChunk deletes vs, records of pub, in one transaction with
// everything derived from them; a state record's heir (evidence of its
// slot) takes its place.
func (s *Store) removeChunk(pub peer.ID, vs []victim, heirs map[string]*candidate) error {
	t := s.newWriteTx()
	defer t.txn.Discard()
	sum, err := t.summary(pub)
	if err != nil {
		return err
	}
	type seqSigner struct {
		seq    uint64
		signer peer.ID
	}
	affected := map[seqSigner]bool{}
	var above uint64 // the highest sequence of a state record removed
	for _, v := range vs {
		if !v.evidence {
			above = max(above, v.seq)
		}
		var heir *candidate
		if !v.evidence {
			heir = heirs[v.slot]
		}
		if err := t.removeOne(pub, v, sum, heir); err != nil {
			return err
		}
		affected[seqSigner{v.seq, v.signer}] = true
	}
	// An equivocation whose signer has fewer than two hashes left at its
	// sequence is no longer one.
	for a := range affected {
		xk := equivocationKey(pub, a.seq, a.signer)
		if _, err := t.txn.Get(xk); errors.Is(err, badger.ErrKeyNotFound) {
			continue
		} else if err != nil {
			return err
		}
		hs, err := signedAt(t.txn, pub, a.seq, a.signer)
		if err != nil {
			return err
		}
		if len(hs) < 2 {
			if err := t.txn.Delete(xk); err != nil {
				return err
			}
			sum.equivocations--
		}
	}
	if above > 0 {
		if err := t.forgetSuperseded(pub, above); err != nil {
			return err
		}
	}
	if err := t.resummarise(pub, sum); err != nil {
		return err
	}
	if err := t.txn.Set(metaPurgePending, nil); err != nil {
		return err
	}
	return s.commitWriteTx(t)
}

// removeOne deletes one record v of pub and its seen-log entry; a state
// record also leaves the sequence index and the summary, and its slot's
// change enters the change feed: it is empty, or heir's when there is one.
func (t *writeTx) removeOne(pub peer.ID, v victim, sum *summary, heir *candidate) error {
	if err := t.txn.Delete(seqKey(prefixSeen, pub, v.seq, v.hash)); err != nil {
		return err
	}
	if v.evidence {
		return t.txn.Delete(seqKey(prefixEvidence, pub, v.seq, v.hash))
	}
	qk := seqKey(prefixSeq, pub, v.seq, v.hash)
	pos, v1, err := seqEntry(t.txn, pub, v.seq, v.hash)
	if err != nil {
		return err
	}
	if err := t.txn.Delete(qk); err != nil {
		return err
	}
	if v.exp != nil {
		if err := t.unindexExperience(pub, v.slot, v.exp); err != nil {
			return err
		}
	}
	sum.remove(v.kind, v.slot, v1, v.seq, v.hash, v.size)
	if heir != nil {
		return t.promote(pub, heir, sum, pos)
	}
	if err := t.txn.Delete(stateKey(pub, v.slot)); err != nil {
		return err
	}
	// The feed tells readers (the search index) that the slot changed.
	_, err = t.recordChange(pub, v.slot, pos)
	return err
}

// promote makes the evidence heir the state of its slot, whose previous
// state (at feed position oldPos) was removed.
func (t *writeTx) promote(pub peer.ID, heir *candidate, sum *summary, oldPos uint64) error {
	h := heir.victim
	if err := t.txn.Delete(seqKey(prefixEvidence, pub, h.seq, h.hash)); err != nil {
		return err
	}
	return t.setState(&Incoming{Signed: heir.signed}, sum, oldPos)
}

// resummarise recomputes the highest sequences of pub's summary after
// removals (the state's from the sequence index, the seen one from the
// seen log) and deletes the summary when nothing of pub is left, as
// Rebuild would derive it.
func (t *writeTx) resummarise(pub peer.ID, sum *summary) error {
	seen, ok, err := lastSeq(t.txn, pubKey(prefixSeen, pub))
	if err != nil {
		return err
	}
	if !ok {
		delete(t.dirty, pub)
		delete(t.sums, pub)
		return t.txn.Delete(pubKey(prefixPublisher, pub))
	}
	if sum.maxSeq, _, err = lastSeq(t.txn, pubKey(prefixSeq, pub)); err != nil {
		return err
	}
	sum.maxSeen = seen
	sum.updated = t.now
	t.dirty[pub] = true
	return nil
}

// lastSeq returns the highest sequence under prefix (a publisher's part
// of a seq-ordered prefix), and false when there is none. It sees t's own
// writes.
func lastSeq(txn *badger.Txn, prefix []byte) (uint64, bool, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	it.Seek(append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 41)...))
	if !it.ValidForPrefix(prefix) {
		return 0, false, nil
	}
	seq, _, err := splitSeqKey(it.Item().Key()[len(prefix):])
	return seq, true, err
}
