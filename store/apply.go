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

// Incoming is one verified announcement to apply.
type Incoming struct {
	// Signed is the verified announcement (from protocol.Open or protocol.Seal).
	Signed *protocol.Signed
	// From is the peer that delivered it; empty for this node's own publications.
	From string
}

// Outcome says what Apply did with one announcement.
type Outcome uint8

const (
	// Applied: the announcement is now the state of its slot.
	Applied Outcome = iota + 1
	// Duplicate: the announcement had been applied before; nothing changed.
	Duplicate
	// Stale: a higher-ranked announcement holds the slot (a newer version,
	// a retraction, or the winner of an equivocation); it was not kept.
	Stale
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Stale:
		return "stale"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Result is what happened to one announcement given to Apply.
type Result struct {
	Outcome Outcome
	// Equivocation is true when another announcement with the same
	// publisher and sequence was applied before (the pair is recorded).
	Equivocation bool
}

// Apply applies announcements in order, atomically per announcement, and
// returns when every one of them is committed and fsynced. It is
// idempotent: applying an announcement twice, or announcements in any
// order, gives the same state. Concurrent calls are grouped into one
// commit and one fsync. If ctx ends before the writer answers, the result is
// unknown and Apply may be retried.
func (s *Store) Apply(ctx context.Context, items ...Incoming) ([]Result, error) {
	for i, it := range items {
		if it.Signed == nil {
			return nil, fmt.Errorf("apply: item %d has no announcement", i)
		}
	}
	req := &applyReq{items: items, results: make([]Result, len(items)), done: make(chan struct{})}
	select {
	case s.reqs <- req:
	case <-s.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-req.done:
		return req.results, req.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WriteStats counts the writer's work since Open.
type WriteStats struct {
	// Syncs is the number of fsyncs that acknowledged announcements.
	Syncs uint64
	// Announcements is the number of announcements committed.
	Announcements uint64
}

// WriteStats returns the writer's counters; safe to call at any time.
func (s *Store) WriteStats() WriteStats {
	return WriteStats{Syncs: s.syncs.Load(), Announcements: s.committed.Load()}
}

type applyReq struct {
	// op, when set, runs alone inside the writer instead of applying
	// items (Rebuild, RemovePublisher and Compact).
	op      func() error
	items   []Incoming
	results []Result
	err     error
	done    chan struct{}
}

// writer owns every write. It takes whatever requests are waiting (up to
// maxBatch announcements), applies them in as few transactions as fit and
// passes them to the syncer, which answers them once they are on disk.
func (s *Store) writer() {
	defer close(s.done)
	defer close(s.synced) // the syncer finishes what is committed, then stops
	var next *applyReq    // a request taken while gathering that must run alone
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-s.reqs:
			case <-s.quit:
				return
			}
		}
		if first.op != nil {
			answer([]*applyReq{first}, s.runOp(first.op))
			continue
		}
		group := []*applyReq{first}
		n := len(first.items)
	gather:
		for n < s.cfg.maxBatch {
			select {
			case r := <-s.reqs:
				if r.op != nil {
					next = r
					break gather
				}
				group = append(group, r)
				n += len(r.items)
			default:
				break gather
			}
		}
		if err := s.checkSpace(group); err != nil {
			answer(group, err) // nothing written: the whole group waits for space
			continue
		}
		if err := s.commitGroup(group); err != nil {
			answer(group, err)
			continue
		}
		s.committed.Add(uint64(n))
		// Committed: hand the group to the syncer and take the next one
		// while the fsync runs. The syncer stops only after this
		// goroutine closes s.synced, so the send always completes.
		s.synced <- group
	}
}

// syncer makes committed groups durable: it takes every group committed so
// far, fsyncs once, and answers them all. While it waits on the disk the
// writer commits the next groups, so under load one fsync covers many
// commits and CPU work overlaps the disk.
func (s *Store) syncer() {
	defer close(s.syncDone)
	for {
		first, ok := <-s.synced
		if !ok {
			return
		}
		batch := [][]*applyReq{first}
	drain:
		for {
			select {
			case g, ok := <-s.synced:
				if !ok {
					break drain
				}
				batch = append(batch, g)
			default:
				break drain
			}
		}
		err := s.db.Sync()
		if err != nil {
			err = fmt.Errorf("sync store: %w", err)
		}
		s.syncs.Add(1)
		for _, g := range batch {
			answer(g, err)
		}
	}
}

func answer(group []*applyReq, err error) {
	for _, r := range group {
		r.err = err
		close(r.done)
	}
}

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
	for len(all) > 0 {
		n, err := s.applyChunk(all)
		if err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}

// applyChunk applies a prefix of items in one transaction, as many as fit
// comfortably in Badger's batch limits, and returns how many it applied.
func (s *Store) applyChunk(items []pending) (int, error) {
	tx := s.newWriteTx()
	defer tx.txn.Discard()
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
// (recordChange); it starts at the store's Position.
type writeTx struct {
	txn      *badger.Txn
	now      time.Time
	sums     map[peer.ID]*summary
	dirty    map[peer.ID]bool
	epoch    string
	startPos uint64
	pos      uint64
}

// newWriteTx starts a write transaction. Only the writer goroutine
// writes, so the feed position cannot move under it.
func (s *Store) newWriteTx() *writeTx {
	epoch, pos := s.Feed()
	return &writeTx{
		txn: s.db.NewTransaction(true), now: s.cfg.now().UTC(),
		sums: map[peer.ID]*summary{}, dirty: map[peer.ID]bool{},
		epoch: epoch, startPos: pos, pos: pos,
	}
}

// commitWriteTx writes t's changed summaries and feed position and
// commits it; then Position reports the new position. The caller still
// discards t.txn (a no-op after a commit).
func (s *Store) commitWriteTx(t *writeTx) error {
	if err := t.flushSummaries(); err != nil {
		return err
	}
	if t.pos != t.startPos {
		if err := t.txn.Set(metaPosition, binary.BigEndian.AppendUint64(nil, t.pos)); err != nil {
			return err
		}
	}
	if err := t.txn.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if t.pos != t.startPos {
		s.setFeed(t.epoch, t.pos)
	}
	return nil
}

func (t *writeTx) summary(pub peer.ID) (*summary, error) {
	if s, ok := t.sums[pub]; ok {
		return s, nil
	}
	s := &summary{}
	item, err := t.txn.Get(pubKey(prefixPublisher, pub))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return nil, err
	default:
		if err := item.Value(func(v []byte) (err error) { *s, err = decodeSummary(v); return }); err != nil {
			return nil, err
		}
	}
	t.sums[pub] = s
	return s, nil
}

func (t *writeTx) flushSummaries() error {
	for pub := range t.dirty {
		if err := t.txn.Set(pubKey(prefixPublisher, pub), t.sums[pub].encode()); err != nil {
			return err
		}
	}
	return nil
}

func (t *writeTx) apply(in *Incoming) (Result, error) {
	ann := in.Signed.Announcement()
	h := in.Signed.Hash()
	pub, seq, slot := ann.Publisher, ann.Seq, ann.Slot()

	sum, err := t.summary(pub)
	if err != nil {
		return Result{}, err
	}
	var res Result
	seenK := seqKey(prefixSeen, pub, seq, h)
	if seq <= sum.maxSeen {
		// Not beyond the highest sequence seen: this announcement, or
		// another with the same sequence, may have been seen before.
		if _, err := t.txn.Get(seenK); err == nil {
			return Result{Outcome: Duplicate}, nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return Result{}, err
		}
		res.Equivocation = t.hasAny(seqPrefix(prefixSeen, pub, seq))
	}
	t.dirty[pub] = true
	if err := t.txn.Set(seenK, nil); err != nil {
		return Result{}, err
	}
	sum.maxSeen = max(sum.maxSeen, seq)
	if res.Equivocation {
		xk := seqPrefix(prefixEquivocation, pub, seq)
		if _, err := t.txn.Get(xk); errors.Is(err, badger.ErrKeyNotFound) {
			if err := t.txn.Set(xk, binary.BigEndian.AppendUint64(nil, uint64(t.now.UnixNano()))); err != nil {
				return Result{}, err
			}
			sum.equivocations++
		} else if err != nil {
			return Result{}, err
		}
	}

	sk := stateKey(pub, slot)
	var cur *stateValue
	var curSize int
	item, err := t.txn.Get(sk)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return Result{}, err
	default:
		// Only the header is needed: the envelope is not copied out.
		err := item.Value(func(v []byte) (err error) {
			if cur, err = decodeStateValue(v); err == nil {
				curSize = len(cur.envelope)
				cur.envelope = nil
			}
			return err
		})
		if err != nil {
			return Result{}, err
		}
	}
	if cur != nil && !rankAbove(seq, h, cur.seq, cur.hash) {
		res.Outcome = Stale
		if res.Equivocation && cur.seq == seq {
			// The loser of an equivocation is kept as proof.
			if err := t.txn.Set(seqKey(prefixEvidence, pub, seq, h), in.Signed.Envelope()); err != nil {
				return Result{}, err
			}
		}
		return res, nil
	}
	if cur != nil && cur.seq == seq {
		// Displaced by an equivocating twin with a lower hash: keep the
		// loser as proof.
		raw, err := item.ValueCopy(nil)
		if err != nil {
			return Result{}, err
		}
		old, err := decodeStateValue(raw)
		if err != nil {
			return Result{}, err
		}
		if err := t.txn.Set(seqKey(prefixEvidence, pub, seq, cur.hash), old.envelope); err != nil {
			return Result{}, err
		}
	}
	var oldPos uint64
	if cur != nil {
		if oldPos, err = t.seqPos(pub, cur.seq, cur.hash); err != nil {
			return Result{}, err
		}
		if err := t.txn.Delete(seqKey(prefixSeq, pub, cur.seq, cur.hash)); err != nil {
			return Result{}, err
		}
		sum.remove(cur.kind, cur.hash, curSize)
		// The superseded envelope stays on disk until Compact (purge.go).
		if err := t.txn.Set(metaPurgePending, nil); err != nil {
			return Result{}, err
		}
	}
	v := stateValue{kind: ann.Kind, seq: seq, hash: h, receivedAt: t.now, from: in.From, envelope: in.Signed.Envelope()}
	if err := t.txn.Set(sk, v.encode()); err != nil {
		return Result{}, err
	}
	pos, err := t.recordChange(pub, slot, oldPos)
	if err != nil {
		return Result{}, err
	}
	if err := t.txn.Set(seqKey(prefixSeq, pub, seq, h), seqValue(pos, slot)); err != nil {
		return Result{}, err
	}
	sum.add(ann.Kind, seq, h, len(v.envelope))
	sum.updated = t.now
	res.Outcome = Applied
	return res, nil
}

// hasAny reports whether any key starts with p. Asked about a sequence's
// seen hashes after the exact key was found missing, a yes means another
// announcement with that sequence was seen.
func (t *writeTx) hasAny(p []byte) bool {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: p})
	defer it.Close()
	it.Seek(p)
	return it.ValidForPrefix(p)
}
