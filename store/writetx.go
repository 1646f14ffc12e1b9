package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

type pending struct {
	in  *Incoming
	out *Result
}

func (s *Store) commitGroup(group []*applyReq) error {
	var all []pending
	for _, r := range group {
		for i := range r.items {
			all = append(all, pending{&r.items[i], &r.results[i]})
		}
	}
	// Envelopes go to the packs, fdatasynced before the commit when
	// someone waits for the fsync anyway, else by the syncer (pack.go).
	syncPacks := awaited(group)
	packed := syncPacks || !s.cfg.inlineCommitted
	size := 0
	for _, p := range all {
		size += len(p.in.Signed.Envelope())
	}
	for len(all) > 0 {
		n, err := s.applyChunk(all, packed, syncPacks)
		if err != nil {
			return err
		}
		all = all[n:]
	}
	if !packed {
		s.noteMapped(size) // written into the mapped value log and WAL
	}
	return nil
}

// applyChunk applies a prefix of items in one transaction, as many as fit
// comfortably in Badger's batch limits, and returns how many it applied.
// With packed, their envelopes go to the packs, and with syncPacks the
// packs are fdatasynced before the commit.
func (s *Store) applyChunk(items []pending, packed, syncPacks bool) (int, error) {
	tx := s.newWriteTx()
	tx.packed, tx.syncPacks = packed, syncPacks
	defer tx.txn.Discard()
	defer s.packs.discard() // after a commit, nothing is left to discard
	budget := s.db.MaxBatchSize() / 2
	count := s.db.MaxBatchCount() / 2
	var size, entries int64
	n := 0
	for _, it := range items {
		cost := int64(len(it.in.Signed.Envelope()) + len(it.in.From) + 512)
		if n > 0 && (size+cost > budget || entries+8 > count) {
			break
		}
		res, err := tx.apply(it.in)
		if err != nil {
			return 0, err
		}
		*it.out = res
		size += cost
		entries += 8
		n++
	}
	if err := s.commitWriteTx(tx); err != nil {
		return 0, err
	}
	return n, nil
}

// writeTx applies announcements inside one Badger transaction, caching the
// publisher summaries it reads and writing back the ones it changed
// (dirty) in flushSummaries. pos is the last feed position assigned
// (recordChange); it starts at the store's Position. reused counts the
// announcements applied from a fresh Prior.
type writeTx struct {
	store    *Store
	txn      *badger.Txn
	reused   uint64
	now      time.Time
	sums     map[peer.ID]*summary
	dirty    map[peer.ID]bool
	touched  map[int]bool // the stripes t wrote under (prior.go)
	epoch    string
	startPos uint64
	pos      uint64
	// packed: setState appends envelopes to the store's packs, which
	// commitWriteTx writes before it commits, and fdatasyncs too with
	// syncPacks; otherwise the syncer does (pack.go).
	packed, syncPacks bool
}

// newWriteTx starts a write transaction. Only the writer goroutine
// writes, so the feed position cannot move under it.
func (s *Store) newWriteTx() *writeTx {
	epoch, pos := s.Feed()
	return &writeTx{
		store: s, txn: s.db.NewTransaction(true), now: s.cfg.now().UTC(),
		sums: map[peer.ID]*summary{}, dirty: map[peer.ID]bool{}, touched: map[int]bool{},
		epoch: epoch, startPos: pos, pos: pos,
	}
}

// commitWriteTx writes t's changed summaries and feed position and
// commits it; then Position reports the new position. The caller still
// discards t.txn (a no-op after a commit). Whatever the outcome, the
// stripes t wrote under move (prior.go).
func (s *Store) commitWriteTx(t *writeTx) error {
	defer func() {
		for i := range t.touched {
			s.stripes[i].Add(1)
		}
	}()
	if err := t.flushSummaries(); err != nil {
		return err
	}
	if t.pos != t.startPos {
		if err := t.txn.Set(metaPosition, binary.BigEndian.AppendUint64(nil, t.pos)); err != nil {
			return err
		}
	}
	mark, err := s.saveMark(t.txn)
	if err != nil {
		return err
	}
	// The envelopes the state values point at reach the pack first
	// (and its disk, when the group waits for the fsync).
	flush := s.packs.writeDeferred
	if t.syncPacks {
		flush = s.packs.flush
	}
	if err := flush(); err != nil {
		return err
	}
	if err := t.txn.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.savedMark = mark
	if t.pos != t.startPos {
		s.setFeed(t.epoch, t.pos)
	}
	s.reused.Add(t.reused)
	return nil
}

// summary returns pub's summary as t has it, reading it on first use.
func (t *writeTx) summary(pub peer.ID) (*summary, error) {
	if s, ok := t.sums[pub]; ok {
		return s, nil
	}
	s, _, err := readSummary(t.txn, pub)
	if err != nil {
		return nil, err
	}
	t.sums[pub] = &s
	return &s, nil
}

func (t *writeTx) flushSummaries() error {
	for pub := range t.dirty {
		if sum := t.sums[pub]; sum.v1Recount {
			seq, err := lastV1Seq(t.txn, pub)
			if err != nil {
				return err
			}
			sum.v1MaxSeq, sum.v1Recount = seq, false
		}
		if err := t.txn.Set(pubKey(prefixPublisher, pub), t.sums[pub].encode()); err != nil {
			return err
		}
	}
	return nil
}

// apply applies one announcement inside t. What it must know of the
// store (slotFacts and the publisher's summary) comes from the Prior the
// caller looked up when that is still fresh (prior.go), and is read
// inside t otherwise.
func (t *writeTx) apply(in *Incoming) (Result, error) {
	ann := in.Signed.Announcement()
	h := in.Signed.Hash()
	pub, seq := ann.Publisher, ann.Seq
	sum, f, err := t.facts(in)
	if err != nil {
		return Result{}, err
	}
	if f.seen {
		return Result{Outcome: Duplicate}, nil
	}
	res := Result{Equivocation: f.seenSeq}
	t.touch(in.Signed, false)
	if err := t.markSeen(pub, seq, h, in.Signed.Signer(), sum, res.Equivocation); err != nil {
		return Result{}, err
	}
	if f.cur != nil && !rankAbove(seq, h, f.cur.seq, f.cur.hash) {
		res.Outcome = Stale
		if res.Equivocation && f.cur.seq == seq {
			// The loser of an equivocation is kept as proof; a record of
			// another signer of the same organisation with the same
			// sequence and slot is simply superseded.
			twin, err := t.twin(in.Signed, f.cur)
			if err != nil || !twin {
				return res, err
			}
			if err := t.txn.Set(seqKey(prefixEvidence, pub, seq, h), in.Signed.Envelope()); err != nil {
				return Result{}, err
			}
		}
		return res, nil
	}
	t.touch(in.Signed, true)
	if f.cur != nil {
		if err := t.supersede(in.Signed, sum, &f); err != nil {
			return Result{}, err
		}
	}
	if err := t.setState(in, sum, f.curPos); err != nil {
		return Result{}, err
	}
	res.Outcome = Applied
	return res, nil
}

// facts returns the summary of in's publisher (cached in t, and changed
// by what t applies) and what the store holds of in's sequence and slot,
// each from in.Prior when it is fresh for t, else read in t.
func (t *writeTx) facts(in *Incoming) (*summary, slotFacts, error) {
	ann := in.Signed.Announcement()
	pub := ann.Publisher
	p := in.Prior
	if t.sums[pub] == nil && p.sumFresh(t, in.Signed) {
		s := p.sum
		t.sums[pub] = &s
	}
	sum, err := t.summary(pub)
	if err != nil {
		return nil, slotFacts{}, err
	}
	if p.factsFresh(t, in.Signed) {
		t.reused++
		return sum, p.facts, nil
	}
	f, err := readFacts(t.txn, in.Signed, sum.maxSeen)
	return sum, f, err
}

// twin reports whether the state cur of sg's slot, which has sg's
// sequence, was signed by sg's signer: then the two equivocate. The seen
// log holds cur's signer.
func (t *writeTx) twin(sg *protocol.Signed, cur *stateValue) (bool, error) {
	pub := sg.Announcement().Publisher
	item, err := t.txn.Get(seqKey(prefixSeen, pub, cur.seq, cur.hash))
	if err != nil {
		return false, fmt.Errorf("%w: state %s/%d has no seen-log entry: %w", ErrCorrupt, pub, cur.seq, err)
	}
	twin := false
	err = item.Value(func(v []byte) error { twin = seenSigner(pub, v) == sg.Signer(); return nil })
	return twin, err
}

// touch marks the stripes of ann as written by t; commitWriteTx moves
// them. A duplicate writes nothing; a stale announcement writes only the
// seen log (and the summary), an applied one its slot too.
func (t *writeTx) touch(sg *protocol.Signed, slot bool) {
	k := keysOf(sg)
	t.touched[k.pub], t.touched[k.seq] = true, true
	if slot {
		t.touched[k.slot] = true
	}
}

// markSeen adds (pub, seq, h), signed by signer, to the seen log and, for
// an equivocation, records it once per sequence and signer.
func (t *writeTx) markSeen(pub peer.ID, seq uint64, h [32]byte, signer peer.ID, sum *summary, equivocation bool) error {
	t.dirty[pub] = true
	if err := t.txn.Set(seqKey(prefixSeen, pub, seq, h), seenValue(pub, signer)); err != nil {
		return err
	}
	sum.maxSeen = max(sum.maxSeen, seq)
	if !equivocation {
		return nil
	}
	xk := equivocationKey(pub, seq, signer)
	if _, err := t.txn.Get(xk); !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	if err := t.txn.Set(xk, binary.BigEndian.AppendUint64(nil, uint64(t.now.UnixNano()))); err != nil {
		return err
	}
	sum.equivocations++
	return nil
}

// supersede retires the state f.cur of sg's slot, which sg outranks: a
// displaced equivocating twin is kept as evidence; a higher sequence
// drops the evidence of the old one in this slot (PROTOCOL.md section 6:
// evidence follows the state, so that every replica that received the
// same announcements holds the same evidence whatever the order); the old
// sequence record goes, and the summary forgets it. The seen log and the
// equivocation record stay.
func (t *writeTx) supersede(sg *protocol.Signed, sum *summary, f *slotFacts) error {
	cur := f.cur
	pub, slot := sg.Announcement().Publisher, sg.Slot()
	twin := false
	if cur.seq == sg.Announcement().Seq {
		var err error
		if twin, err = t.twin(sg, cur); err != nil {
			return err
		}
	}
	if twin {
		// Displaced by an equivocating twin with a lower hash: keep the
		// loser as proof. (The same sequence from another signer of an
		// organisation is no equivocation: the loser just goes.)
		env, err := t.stateEnvelope(pub, slot)
		if err != nil {
			return err
		}
		if err := t.txn.Set(seqKey(prefixEvidence, pub, cur.seq, cur.hash), env); err != nil {
			return err
		}
	}
	if cur.seq != sg.Announcement().Seq {
		if err := t.dropEvidence(pub, slot, cur.seq); err != nil {
			return err
		}
	}
	if err := t.txn.Delete(seqKey(prefixSeq, pub, cur.seq, cur.hash)); err != nil {
		return err
	}
	if cur.kind == protocol.KindExperience {
		e, err := t.stateExperience(pub, slot)
		if err != nil {
			return err
		}
		if err := t.unindexExperience(pub, slot, e); err != nil {
			return err
		}
	}
	sum.remove(cur.kind, slot, f.curV1, cur.seq, cur.hash, f.curSize)
	// The superseded envelope stays on disk until Compact (purge.go).
	return t.txn.Set(metaPurgePending, nil)
}

// dropEvidence deletes the evidence of (pub, seq) whose slot is slot.
// Evidence at one sequence may belong to several slots only when the
// publisher equivocated across them, so the envelopes are decoded to tell.
func (t *writeTx) dropEvidence(pub peer.ID, slot string, seq uint64) error {
	prefix := seqPrefix(prefixEvidence, pub, seq)
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var drop [][]byte
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		env, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		sg, err := protocol.DecodeStored(env)
		if err != nil {
			return fmt.Errorf("evidence of %s at %d: %w", pub, seq, err)
		}
		if sg.Slot() == slot {
			drop = append(drop, it.Item().KeyCopy(nil))
		}
	}
	for _, k := range drop {
		if err := t.txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// stateEnvelope returns a copy of the envelope of the state (pub, slot).
func (t *writeTx) stateEnvelope(pub peer.ID, slot string) ([]byte, error) {
	item, err := t.txn.Get(stateKey(pub, slot))
	if err != nil {
		return nil, err
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	old, err := decodeStateValue(raw)
	if err != nil {
		return nil, err
	}
	if old.packed {
		// Perhaps applied earlier in t, so not yet in the pack's file.
		return t.store.packs.readOwn(old.ptr)
	}
	return old.envelope, nil
}

// setState makes in the state of its slot, with a new feed position
// (replacing the slot's entry at oldPos, if any), and counts it in sum.
func (t *writeTx) setState(in *Incoming, sum *summary, oldPos uint64) error {
	ann := in.Signed.Announcement()
	h := in.Signed.Hash()
	pub, seq, slot := ann.Publisher, ann.Seq, in.Signed.Slot()
	v := stateValue{kind: ann.Kind, seq: seq, hash: h, receivedAt: t.now, from: in.From, envelope: in.Signed.Envelope()}
	if t.packed {
		ptr, err := t.store.packs.add(v.envelope)
		if err != nil {
			return err
		}
		v.envelope, v.ptr, v.packed = nil, ptr, true
	}
	if err := t.txn.Set(stateKey(pub, slot), v.encode()); err != nil {
		return err
	}
	pos, err := t.recordChange(pub, slot, oldPos)
	if err != nil {
		return err
	}
	v1 := protocol.IsV1(in.Signed)
	if err := t.txn.Set(seqKey(prefixSeq, pub, seq, h), seqValue(pos, v1, slot)); err != nil {
		return err
	}
	if e := experienceOf(in.Signed); e != nil {
		if err := t.indexExperience(pub, slot, e); err != nil {
			return err
		}
	}
	sum.add(ann.Kind, slot, v1, seq, h, v.size())
	sum.updated = t.now
	return nil
}
