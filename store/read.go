package store

import (
	"encoding/binary"
	"errors"
	"iter"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Record is the state of one slot: the winning announcement and how this
// node received it.
type Record struct {
	// Signed is the announcement (decoded from the stored envelope).
	Signed *protocol.Signed
	// ReceivedAt is when this node applied it.
	ReceivedAt time.Time
	// From is the peer that delivered it; empty for own publications.
	From string
}

// Announcement is a shortcut for r.Signed.Announcement().
func (r *Record) Announcement() *protocol.Announcement { return r.Signed.Announcement() }

// Get returns the state of (pub, slot): the current version of a practice,
// its retraction (Kind retract), or, for protocol.ProfileSlot, the profile.
// It returns ErrNotFound when nothing was ever applied there.
func (s *Store) Get(pub peer.ID, slot string) (*Record, error) {
	var rec *Record
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey(pub, slot))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		rec, err = s.recordFromItem(item)
		return err
	})
	return rec, err
}

func (s *Store) recordFromItem(item *badger.Item) (*Record, error) {
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	s.noteMapped(len(raw))
	v, err := decodeStateValue(raw)
	if err != nil {
		return nil, err
	}
	env, err := v.envelopeIn(s.packs)
	if err != nil {
		return nil, err
	}
	signed, err := protocol.DecodeStored(env)
	if err != nil {
		return nil, errors.Join(ErrCorrupt, err)
	}
	return &Record{Signed: signed, ReceivedAt: v.receivedAt, From: v.from}, nil
}

// ListOptions selects records for List. The zero value lists every slot of
// every publisher.
type ListOptions struct {
	// Publisher restricts the listing to one publisher when set.
	Publisher peer.ID
	// Kinds restricts the listing to these kinds when not empty. In it,
	// KindRetract stands for the tombstones of practices only; the
	// tombstones of experience slots (PROTOCOL.md 13.3) are listed with
	// ExperienceRetractions. KindExperience lists the live experience
	// records. Empty Kinds lists every state record, experience records
	// and all tombstones included.
	Kinds []protocol.Kind
	// ExperienceRetractions adds the tombstones of experience slots to a
	// listing restricted by Kinds.
	ExperienceRetractions bool
	// After resumes a listing after the record with this cursor (see Cursor).
	After string
}

// Cursor returns the opaque position of r in List order, for ListOptions.After.
func Cursor(r *Record) string {
	return string(stateKey(r.Announcement().Publisher, r.Signed.Slot()))
}

// List returns the state records in (publisher, slot) order. Iteration
// reads a consistent snapshot; stop early by breaking out of the loop.
func (s *Store) List(opts ListOptions) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		prefix := []byte{prefixState}
		if opts.Publisher != "" {
			prefix = pubKey(prefixState, opts.Publisher)
		}
		err := s.view(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
			defer it.Close()
			start := prefix
			if opts.After != "" {
				start = append([]byte(opts.After), 0)
			}
			for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
				item := it.Item()
				if len(opts.Kinds) > 0 {
					var kind protocol.Kind
					if err := item.Value(func(v []byte) error {
						if len(v) < 2 || int(v[1]) >= len(kindCodes) {
							return ErrCorrupt
						}
						kind = kindCodes[v[1]]
						return nil
					}); err != nil {
						return err
					}
					// The kind is in the value's header, in the value log:
					// a listing by kind reads every state record's pages.
					s.noteMapped(0)
					if !opts.wants(kind, item.Key()) {
						continue
					}
				}
				rec, err := s.recordFromItem(item)
				if err != nil {
					return err
				}
				if !yield(rec, nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(nil, err)
		}
	}
}

// wants reports whether a listing restricted by o.Kinds takes the state
// record of kind k whose key is key.
func (o *ListOptions) wants(k protocol.Kind, key []byte) bool {
	if k == protocol.KindRetract {
		_, slot, err := splitPub(key)
		if err == nil && protocol.IsExperienceSlot(string(slot)) {
			return o.ExperienceRetractions
		}
	}
	return slices.Contains(o.Kinds, k)
}

// Publisher summarises what the store holds of one publisher.
type Publisher struct {
	ID peer.ID
	// Practices, Retracted and Profiles count the state records by kind
	// (Retracted the tombstones of practices); OrgOps and Lists count an
	// organisation's operations and membership lists.
	Practices, Retracted, Profiles uint64
	OrgOps, Lists                  uint64
	// Experiences counts the live experience records (state records of
	// kind experience), RetractedExperiences the tombstones of
	// experience slots (PROTOCOL.md 13.3).
	Experiences, RetractedExperiences uint64
	// Equivocations counts the sequence numbers at which this publisher
	// signed two different announcements.
	Equivocations uint64
	// MaxSeenSeq is the highest sequence ever applied, superseded ones included.
	MaxSeenSeq uint64
	// Digest covers the publisher's state records.
	Digest Digest
	// V1 covers the publisher's state records that are v1 records
	// (protocol.IsV1, decided per record when it was stored): what a
	// sync/1 session reconciles of them. Zero for an organisation.
	V1 Digest
	// Bytes is the sum of the envelope sizes of the publisher's state
	// records (what its current records take, before storage overhead).
	Bytes uint64
	// Updated is when the publisher's state last changed here.
	Updated time.Time
}

// Publishers returns a summary of every publisher, in publisher order.
func (s *Store) Publishers() iter.Seq2[Publisher, error] {
	return func(yield func(Publisher, error) bool) {
		err := s.view(func(txn *badger.Txn) error {
			prefix := []byte{prefixPublisher}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
			defer it.Close()
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				pub, _, err := splitPub(it.Item().Key())
				if err != nil {
					return err
				}
				var sum summary
				if err := it.Item().Value(func(v []byte) (err error) { sum, err = decodeSummary(v); return }); err != nil {
					return err
				}
				if !yield(publisherOf(pub, sum), nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(Publisher{}, err)
		}
	}
}

// PublisherSummary returns one publisher's summary, or ErrNotFound.
func (s *Store) PublisherSummary(pub peer.ID) (Publisher, error) {
	var p Publisher
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(pubKey(prefixPublisher, pub))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			sum, err := decodeSummary(v)
			p = publisherOf(pub, sum)
			return err
		})
	})
	return p, err
}

func publisherOf(pub peer.ID, s summary) Publisher {
	return Publisher{
		ID: pub, Practices: s.practices, Retracted: s.retracted, Profiles: s.profiles,
		OrgOps: s.orgOps, Lists: s.lists, Experiences: s.experiences, RetractedExperiences: s.retractedExp,
		Equivocations: s.equivocations, MaxSeenSeq: s.maxSeen,
		Digest:  Digest{Count: s.items(), MaxSeq: s.maxSeq, Sum: s.sum},
		V1:      Digest{Count: s.v1Count, MaxSeq: s.v1MaxSeq, Sum: s.v1Sum},
		Bytes:   s.bytes,
		Updated: s.updated,
	}
}

// Counts are catalogue-wide totals (Publisher's counts, summed).
type Counts struct {
	Publishers, Practices, Retracted, Profiles, Equivocations uint64
	OrgOps, Lists                                             uint64
	Experiences, RetractedExperiences                         uint64
}

// Counts returns catalogue-wide totals and the root digest over every
// publisher's state.
func (s *Store) Counts() (Counts, Digest, error) {
	var c Counts
	var d Digest
	for p, err := range s.Publishers() {
		if err != nil {
			return Counts{}, Digest{}, err
		}
		c.Publishers++
		c.Practices += p.Practices
		c.Retracted += p.Retracted
		c.Profiles += p.Profiles
		c.OrgOps += p.OrgOps
		c.Lists += p.Lists
		c.Experiences += p.Experiences
		c.RetractedExperiences += p.RetractedExperiences
		c.Equivocations += p.Equivocations
		d.Count += p.Digest.Count
		d.MaxSeq = max(d.MaxSeq, p.Digest.MaxSeq)
		d.Sum.Merge(p.Digest.Sum)
	}
	return c, d, nil
}

// Item is one state record as sync sees it.
type Item struct {
	Seq  uint64
	Hash protocol.Hash
	Slot string
}

// Items returns a publisher's state records in (sequence, hash) order,
// starting at sequence from. It reads keys only, no envelopes.
func (s *Store) Items(pub peer.ID, from uint64) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		err := s.view(func(txn *badger.Txn) error {
			prefix := pubKey(prefixSeq, pub)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
			defer it.Close()
			for it.Seek(binary.BigEndian.AppendUint64(prefix, from)); it.ValidForPrefix(prefix); it.Next() {
				item := it.Item()
				seq, h, err := splitSeqKey(item.Key()[len(prefix):])
				if err != nil {
					return err
				}
				qv, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				_, slot, err := splitSeqValue(qv)
				if err != nil {
					return err
				}
				if !yield(Item{Seq: seq, Hash: h, Slot: slot}, nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(Item{}, err)
		}
	}
}

// Equivocation records that one key signed more than one announcement of
// a publisher with the same sequence number.
type Equivocation struct {
	Publisher peer.ID
	// Signer is the key that equivocated: the publisher itself for a
	// plain publisher, a delegate or rotation key for an organisation.
	Signer peer.ID
	Seq    uint64
	// Hashes of the conflicting announcements, in ascending order; the
	// first is the one that wins when both claim the same slot.
	Hashes []protocol.Hash
	// DetectedAt is when this node first saw the conflict.
	DetectedAt time.Time
}

// Equivocations returns every recorded equivocation, in (publisher, seq)
// order (and by signer within one sequence, the publisher first).
func (s *Store) Equivocations() iter.Seq2[Equivocation, error] {
	return func(yield func(Equivocation, error) bool) {
		err := s.view(func(txn *badger.Txn) error {
			prefix := []byte{prefixEquivocation}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
			defer it.Close()
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				pub, rest, err := splitPub(it.Item().Key())
				if err != nil || len(rest) < 8 {
					return errors.Join(ErrCorrupt, err)
				}
				e := Equivocation{Publisher: pub, Signer: seenSigner(pub, rest[8:]), Seq: binary.BigEndian.Uint64(rest)}
				if err := it.Item().Value(func(v []byte) error {
					if len(v) == 8 {
						e.DetectedAt = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
					}
					return nil
				}); err != nil {
					return err
				}
				if e.Hashes, err = signedAt(txn, pub, e.Seq, e.Signer); err != nil {
					return err
				}
				if !yield(e, nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(Equivocation{}, err)
		}
	}
}

// OrgOps returns every organisation operation of pub held in the state
// (the records whose slot starts with "_org/"), decoded, in slot order
// (that is, by hash). An organisation's operations never supersede one
// another, so this is every operation of pub this node holds. Safe for
// concurrent use.
func (s *Store) OrgOps(pub peer.ID) ([]*protocol.Signed, error) {
	var ops []*protocol.Signed
	err := s.view(func(txn *badger.Txn) error {
		prefix := stateKey(pub, protocol.OrgSlotPrefix)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			rec, err := s.recordFromItem(it.Item())
			if err != nil {
				return err
			}
			ops = append(ops, rec.Signed)
		}
		return nil
	})
	return ops, err
}
