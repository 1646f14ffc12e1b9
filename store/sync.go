package store

import (
	"bytes"
	"errors"
	"iter"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Key is the position of one state record in the order sync reconciles
// over: publisher (raw peer-ID bytes), then sequence, then hash.
type Key struct {
	Publisher peer.ID
	Seq       uint64
	Hash      protocol.Hash
}

// Keys returns the key of every state record and every piece of
// equivocation evidence (see Evidence), in (publisher, seq, hash) order,
// reading keys only: the set sync reconciles. Publishers are ordered by the length of their raw
// peer-ID bytes, then by those bytes; every Ed25519 peer ID is 38 bytes, so
// in practice this is plain byte order.
func (s *Store) Keys() iter.Seq2[Key, error] { return s.keys(false) }

// V1Keys returns the keys of Keys that are v1 records (protocol.IsV1):
// the set a sync/1 session reconciles, in the same order. Whether a state
// record is a v1 record was decided when it was stored and is kept beside
// its key, so no state envelope is read; a piece of evidence (rare: only
// an equivocating publisher has any) is decoded to tell.
func (s *Store) V1Keys() iter.Seq2[Key, error] { return s.keys(true) }

// keys returns the keys of Keys, or with v1 those of v1 records only.
func (s *Store) keys(v1 bool) iter.Seq2[Key, error] {
	return func(yield func(Key, error) bool) {
		err := s.view(func(txn *badger.Txn) error {
			// Two sorted streams, merged: state by sequence, and evidence.
			// With v1, next skips the records that are not v1 records.
			next := func(it *badger.Iterator, prefix []byte) (Key, bool, error) {
				for ; it.ValidForPrefix(prefix); it.Next() {
					item := it.Item()
					if v1 {
						ok, err := isV1Item(item, prefix[0] == prefixEvidence)
						if err != nil {
							return Key{}, false, err
						}
						if !ok {
							continue
						}
					}
					pub, rest, err := splitPub(item.Key())
					if err != nil {
						return Key{}, false, err
					}
					seq, h, err := splitSeqKey(rest)
					if err != nil {
						return Key{}, false, err
					}
					it.Next()
					return Key{Publisher: peer.ID(bytes.Clone([]byte(pub))), Seq: seq, Hash: h}, true, nil
				}
				return Key{}, false, nil
			}
			sp, ep := []byte{prefixSeq}, []byte{prefixEvidence}
			si := txn.NewIterator(badger.IteratorOptions{Prefix: sp, PrefetchValues: v1})
			defer si.Close()
			ei := txn.NewIterator(badger.IteratorOptions{Prefix: ep})
			defer ei.Close()
			si.Seek(sp)
			ei.Seek(ep)
			sk, sok, err := next(si, sp)
			if err != nil {
				return err
			}
			ek, eok, err := next(ei, ep)
			if err != nil {
				return err
			}
			for sok || eok {
				var k Key
				if !eok || sok && keyLess(&sk, &ek) {
					k = sk
					sk, sok, err = next(si, sp)
				} else {
					k = ek
					ek, eok, err = next(ei, ep)
				}
				if err != nil {
					return err
				}
				if !yield(k, nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(Key{}, err)
		}
	}
}

// isV1Item reports whether item, a sequence record or (evidence) a piece
// of evidence, stands for a v1 record.
func isV1Item(item *badger.Item, evidence bool) (bool, error) {
	var v1 bool
	err := item.Value(func(v []byte) error {
		if !evidence {
			var err error
			_, v1, _, err = splitSeqValueV1(v)
			return err
		}
		sg, err := protocol.DecodeStored(v)
		if err != nil {
			return errors.Join(ErrCorrupt, err)
		}
		v1 = protocol.IsV1(sg)
		return nil
	})
	return v1, err
}

// Seen reports whether the announcement (pub, seq) whose hash starts with
// prefix was ever applied here, including superseded and stale ones.
// A prefix of 8 bytes or more is unambiguous among one publisher's
// announcements at one sequence unless the publisher equivocates on purpose.
func (s *Store) Seen(pub peer.ID, seq uint64, prefix []byte) (bool, error) {
	var seen bool
	err := s.view(func(txn *badger.Txn) error {
		p := append(seqPrefix(prefixSeen, pub, seq), prefix...)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		it.Seek(p)
		seen = it.ValidForPrefix(p)
		return nil
	})
	return seen, err
}

// Head is the header of a state record: enough to rank a newcomer against
// it without decoding the envelope.
type Head struct {
	Kind protocol.Kind
	Seq  uint64
	Hash protocol.Hash
}

// Head returns the header of the state record (pub, slot), or ErrNotFound.
func (s *Store) Head(pub peer.ID, slot string) (Head, error) {
	var h Head
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey(pub, slot))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			sv, err := decodeStateValue(v)
			if err == nil {
				h = Head{Kind: sv.kind, Seq: sv.seq, Hash: sv.hash}
			}
			return err
		})
	})
	return h, err
}

// LosesTo reports whether the announcement (seq, h) wins over the state
// record with header cur: a higher sequence wins, and at equal sequences
// (an equivocation) the lower hash, so every replica picks the same one.
func (cur Head) LosesTo(seq uint64, h protocol.Hash) bool {
	return rankAbove(seq, h, cur.Seq, cur.Hash)
}

func keyLess(a, b *Key) bool {
	if c := protocol.ComparePublishers(a.Publisher, b.Publisher); c != 0 {
		return c < 0
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return bytes.Compare(a.Hash[:], b.Hash[:]) < 0
}

// EvidenceDigest covers the equivocation evidence: the losers of
// equivocations, which sync carries alongside the state so that every
// replica records the same equivocations. The sync root digest is the
// state digest of Counts merged with this one.
func (s *Store) EvidenceDigest() (Digest, error) { return s.evidenceDigest(false) }

// V1EvidenceDigest covers the evidence that is v1 records (protocol.IsV1):
// what a sync/1 session reconciles of it. The sync/1 root digest is the
// sum of the publishers' V1 digests merged with this one. It decodes each
// piece of evidence (there is some only where a publisher equivocated).
func (s *Store) V1EvidenceDigest() (Digest, error) { return s.evidenceDigest(true) }

func (s *Store) evidenceDigest(v1 bool) (Digest, error) {
	var d Digest
	err := s.view(func(txn *badger.Txn) error {
		prefix := []byte{prefixEvidence}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: v1})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			if v1 {
				ok, err := isV1Item(it.Item(), true)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			_, rest, err := splitPub(it.Item().Key())
			if err != nil {
				return err
			}
			seq, h, err := splitSeqKey(rest)
			if err != nil {
				return err
			}
			d.Count++
			d.MaxSeq = max(d.MaxSeq, seq)
			d.Sum.Add(h)
		}
		return nil
	})
	return d, err
}
