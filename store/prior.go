package store

import (
	"errors"
	"hash/maphash"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A Prior lets the write transaction reuse what a caller (the gossip
// validator) already read, instead of asking the store the same questions
// again. How the writer knows nothing changed in between: every publisher
// falls in one of stripeCount stripes, each with a version counter. The
// writer adds one to the stripe of every publisher a transaction wrote,
// after the commit and before it starts the next transaction, and to
// every stripe after an operation (Rebuild, RemovePublisher, Compact).
// Lookup loads the stripe's version before it opens its read transaction.
// So when the version the writer sees inside its transaction equals the
// Prior's, no commit touching the publisher finished after Lookup loaded
// it, and every commit before that is in Lookup's snapshot: what Lookup
// read is what the transaction would read. Only the writer's own
// uncommitted changes are newer; a publisher the transaction has already
// written is read again. Publishers sharing a stripe only cost a re-read.

// stripeCount is the number of publisher stripes (a power of two).
const stripeCount = 256

// stripes are the per-stripe write versions, indexed by stripeOf.
type stripes [stripeCount]atomic.Uint64

var stripeSeed = maphash.MakeSeed()

func (s *stripes) of(pub peer.ID) *atomic.Uint64 {
	return &s[maphash.String(stripeSeed, string(pub))&(stripeCount-1)]
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
	seenSeq bool        // another announcement with its sequence was
	cur     *stateValue // the slot's state, header only (no envelope); nil if empty
	curSize int         // the size of cur's envelope
	curPos  uint64      // the feed position kept in cur's sequence record
}

// Prior is what the store held about one announcement when Lookup read it:
// whether it was seen, its slot's state, its publisher's summary. Pass it
// on in Incoming.Prior and Apply skips those reads while they are still
// current. Immutable; safe for concurrent use.
type Prior struct {
	store *Store
	hash  protocol.Hash
	stamp uint64
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
	p := &Prior{store: s, hash: sg.Hash(), pub: ann.Publisher, stamp: s.stripes.of(ann.Publisher).Load()}
	err := s.view(func(txn *badger.Txn) error {
		var err error
		if p.sum, p.known, err = readSummary(txn, ann.Publisher); err != nil {
			return err
		}
		if err := p.facts.readSeen(txn, ann, p.hash, p.sum.maxSeen); err != nil {
			return err
		}
		return p.facts.readState(txn, ann.Publisher, ann.Slot())
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
	return p != nil && p.stamp == p.store.stripes.of(p.pub).Load()
}

// fresh reports whether t may use p for sg instead of reading the store:
// p was read for sg from t's store, no commit touched the publisher since,
// and t has not written the publisher itself.
func (p *Prior) fresh(t *writeTx, sg *protocol.Signed) bool {
	return p != nil && p.store == t.store && p.hash == sg.Hash() && !t.dirty[p.pub] &&
		p.stamp == t.store.stripes.of(p.pub).Load()
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

// readFacts reads in txn what applying ann (hash h) must know, given the
// highest sequence seen from its publisher. The slot's state is not read
// for an announcement seen before.
func readFacts(txn *badger.Txn, ann *protocol.Announcement, h protocol.Hash, maxSeen uint64) (slotFacts, error) {
	var f slotFacts
	if err := f.readSeen(txn, ann, h, maxSeen); err != nil || f.seen {
		return f, err
	}
	return f, f.readState(txn, ann.Publisher, ann.Slot())
}

// readSeen sets f.seen and f.seenSeq.
func (f *slotFacts) readSeen(txn *badger.Txn, ann *protocol.Announcement, h protocol.Hash, maxSeen uint64) error {
	pub, seq := ann.Publisher, ann.Seq
	if seq > maxSeen {
		return nil
	}
	// Not beyond the highest sequence seen: this announcement, or another
	// with the same sequence, may have been seen before.
	if _, err := txn.Get(seqKey(prefixSeen, pub, seq, h)); err == nil {
		f.seen = true
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	f.seenSeq = hasAny(txn, seqPrefix(prefixSeen, pub, seq))
	return nil
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
			f.curSize = len(f.cur.envelope)
			f.cur.envelope = nil
		}
		return err
	})
	if err != nil {
		return err
	}
	f.curPos, err = seqPos(txn, pub, f.cur.seq, f.cur.hash)
	return err
}
