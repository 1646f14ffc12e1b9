package store

import (
	"errors"
	"fmt"
	"hash/maphash"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A Prior lets the write transaction reuse what a caller (the gossip
// validator) already read, instead of asking the store the same questions
// again. How the writer knows nothing changed in between: what a Prior
// holds falls under three stripes, each a version counter: its
// publisher's (the summary), its (publisher, sequence)'s (the seen log)
// and its (publisher, slot)'s (the slot's state and its sequence record).
// The writer adds one to every stripe a transaction wrote under, after
// the commit and before it starts the next transaction, and to every
// stripe after an operation (Rebuild, RemovePublisher, RemoveWhere,
// Compact). Lookup loads the three versions before it opens its read
// transaction. So when a version the writer sees inside its transaction
// equals the Prior's, no commit writing under that stripe finished after
// Lookup loaded it, and every commit before that is in Lookup's snapshot:
// what Lookup read under it is what the transaction would read. Only the
// transaction's own uncommitted writes are newer: a stripe it has already
// written under is read again. Keys sharing a stripe only cost a re-read.

// stripeCount is the number of stripes (a power of two): 128 KiB of
// counters, enough that the stripes a burst of writes moves rarely hold
// an unrelated Prior.
const stripeCount = 1 << 14

// stripes are the write versions (prior.go), indexed by stripeKeys.
type stripes [stripeCount]atomic.Uint64

var stripeSeed = maphash.MakeSeed()

// stripeKeys are the stripes an announcement's records fall under.
type stripeKeys struct{ pub, seq, slot int }

// stripeKey is what a stripe index is hashed from.
type stripeKey struct {
	pub  peer.ID
	seq  uint64
	slot string
}

func stripeIndex(k stripeKey) int {
	return int(maphash.Comparable(stripeSeed, k) & (stripeCount - 1))
}

func keysOf(sg *protocol.Signed) stripeKeys {
	ann := sg.Announcement()
	return stripeKeys{
		pub:  stripeIndex(stripeKey{pub: ann.Publisher}),
		seq:  stripeIndex(stripeKey{pub: ann.Publisher, seq: ann.Seq}),
		slot: stripeIndex(stripeKey{pub: ann.Publisher, slot: "/" + sg.Slot()}),
	}
}

// versions returns the current versions of k's stripes.
func (s *stripes) versions(k stripeKeys) [3]uint64 {
	return [3]uint64{s[k.pub].Load(), s[k.seq].Load(), s[k.slot].Load()}
}

// bumpAll moves every stripe: after an operation that rewrote the store.
func (s *stripes) bumpAll() {
	for i := range s {
		s[i].Add(1)
	}
}

// slotFacts is what applying an announcement must know of the store
// besides the publisher's summary.
type slotFacts struct {
	seen    bool        // this very announcement was applied before
	seenSeq bool        // another announcement with its publisher, signer and sequence was
	cur     *stateValue // the slot's state, header only (no envelope); nil if empty
	curSize int         // the size of cur's envelope
	curPos  uint64      // the feed position kept in cur's sequence record
	curV1   bool        // cur is a v1 record (the flag of its sequence record)
}

// Prior is what the store held about one announcement when Lookup read it:
// whether it was seen, its slot's state, its publisher's summary. Pass it
// on in Incoming.Prior and Apply skips those reads while they are still
// current. Immutable; safe for concurrent use.
type Prior struct {
	store *Store
	hash  protocol.Hash
	keys  stripeKeys
	stamp [3]uint64 // the versions of keys' stripes before the read
	known bool
	sum   summary
	facts slotFacts
	pub   peer.ID
}

// Lookup reads, in one snapshot, what the store knows about the
// announcement sg: whether it was seen, the state of its slot and its
// publisher's summary. Safe for concurrent use.
func (s *Store) Lookup(sg *protocol.Signed) (*Prior, error) {
	ann := sg.Announcement()
	p := &Prior{store: s, hash: sg.Hash(), pub: ann.Publisher, keys: keysOf(sg)}
	p.stamp = s.stripes.versions(p.keys)
	err := s.view(func(txn *badger.Txn) error {
		var err error
		if p.sum, p.known, err = readSummary(txn, ann.Publisher); err != nil {
			return err
		}
		if err := p.facts.readSeen(txn, sg, p.sum.maxSeen); err != nil {
			return err
		}
		return p.facts.readState(txn, ann.Publisher, sg.Slot())
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Seen reports whether the announcement was applied here before (as the
// store's Seen would have said).
func (p *Prior) Seen() bool { return p.facts.seen }

// Head returns the header of the announcement's slot, and false when the
// slot was empty (Store.Head's ErrNotFound).
func (p *Prior) Head() (Head, bool) {
	if p.facts.cur == nil {
		return Head{}, false
	}
	return Head{Kind: p.facts.cur.kind, Seq: p.facts.cur.seq, Hash: p.facts.cur.hash}, true
}

// Publisher returns the publisher's summary, and false when the store held
// nothing of the publisher (Store.PublisherSummary's ErrNotFound).
func (p *Prior) Publisher() (Publisher, bool) {
	if !p.known {
		return Publisher{}, false
	}
	return publisherOf(p.pub, p.sum), true
}

// Current reports whether no write touching the publisher has finished
// since Lookup, so that p still says what the store holds (a write may be
// committing at this moment: Current is a hint for readers; Apply checks
// again inside its transaction).
func (p *Prior) Current() bool {
	return p != nil && p.stamp[0] == p.store.stripes[p.keys.pub].Load()
}

// sumFresh reports whether t may take the publisher's summary from p, and
// factsFresh whether it may take the slotFacts, for sg: p was read for sg
// from t's store, and nothing was written under the stripes since, by a
// commit or by t itself.
func (p *Prior) sumFresh(t *writeTx, sg *protocol.Signed) bool {
	return p.of(t, sg) && !t.touched[p.keys.pub] && p.stamp[0] == t.store.stripes[p.keys.pub].Load()
}

func (p *Prior) factsFresh(t *writeTx, sg *protocol.Signed) bool {
	return p.of(t, sg) && !t.touched[p.keys.seq] && !t.touched[p.keys.slot] &&
		p.stamp[1] == t.store.stripes[p.keys.seq].Load() && p.stamp[2] == t.store.stripes[p.keys.slot].Load()
}

func (p *Prior) of(t *writeTx, sg *protocol.Signed) bool {
	return p != nil && p.store == t.store && p.hash == sg.Hash()
}

// readSummary reads pub's summary in txn; found is false when there is none.
func readSummary(txn *badger.Txn, pub peer.ID) (s summary, found bool, err error) {
	item, err := txn.Get(pubKey(prefixPublisher, pub))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return summary{}, false, nil
	case err != nil:
		return summary{}, false, err
	}
	err = item.Value(func(v []byte) (err error) { s, err = decodeSummary(v); return })
	return s, err == nil, err
}

// readFacts reads in txn what applying sg must know, given the highest
// sequence seen from its publisher. The slot's state is not read for an
// announcement seen before.
func readFacts(txn *badger.Txn, sg *protocol.Signed, maxSeen uint64) (slotFacts, error) {
	var f slotFacts
	if err := f.readSeen(txn, sg, maxSeen); err != nil || f.seen {
		return f, err
	}
	return f, f.readState(txn, sg.Announcement().Publisher, sg.Slot())
}

// readSeen sets f.seen and f.seenSeq. An equivocation is another
// announcement with the same publisher, signer and sequence: two delegates
// of one organisation may publish the same sequence without one.
func (f *slotFacts) readSeen(txn *badger.Txn, sg *protocol.Signed, maxSeen uint64) error {
	ann := sg.Announcement()
	pub, seq := ann.Publisher, ann.Seq
	if seq > maxSeen {
		return nil
	}
	// Not beyond the highest sequence seen: this announcement, or another
	// with the same sequence, may have been seen before.
	if _, err := txn.Get(seqKey(prefixSeen, pub, seq, sg.Hash())); err == nil {
		f.seen = true
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	hs, err := signedAt(txn, pub, seq, sg.Signer())
	f.seenSeq = len(hs) > 0
	return err
}

// signedAt returns the hashes in the seen log at (pub, seq) that signer
// signed, in ascending order.
func signedAt(txn *badger.Txn, pub peer.ID, seq uint64, signer peer.ID) ([]protocol.Hash, error) {
	prefix := seqPrefix(prefixSeen, pub, seq)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var hs []protocol.Hash
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		k := item.Key()
		if len(k) != len(prefix)+32 {
			return nil, fmt.Errorf("%w: seen-log key %x", ErrCorrupt, k)
		}
		match := false
		if err := item.Value(func(v []byte) error { match = seenSigner(pub, v) == signer; return nil }); err != nil {
			return nil, err
		}
		if match {
			hs = append(hs, protocol.Hash(k[len(prefix):]))
		}
	}
	return hs, nil
}

// readState sets f.cur, f.curSize and f.curPos from the state of (pub, slot).
func (f *slotFacts) readState(txn *badger.Txn, pub peer.ID, slot string) error {
	item, err := txn.Get(stateKey(pub, slot))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	case err != nil:
		return err
	}
	// Only the header is needed: the envelope is not copied out.
	err = item.Value(func(v []byte) (err error) {
		if f.cur, err = decodeStateValue(v); err == nil {
			f.curSize = f.cur.size()
			f.cur.envelope = nil
		}
		return err
	})
	if err != nil {
		return err
	}
	f.curPos, f.curV1, err = seqEntry(txn, pub, f.cur.seq, f.cur.hash)
	return err
}
