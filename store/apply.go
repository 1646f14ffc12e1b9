package store

import (
	"context"
	"fmt"

	"github.com/khantara/khantara/protocol"
)

// Incoming is one verified announcement to apply.
type Incoming struct {
	// Signed is the verified announcement (from protocol.Open or protocol.Seal).
	Signed *protocol.Signed
	// From is the peer that delivered it; empty for this node's own publications.
	From string
	// Prior, when set, is what Lookup read about Signed; Apply reuses it
	// instead of reading the store again as long as nothing it covers has
	// changed since (prior.go). Optional.
	Prior *Prior
}

// Outcome says what Apply did with one announcement.
type Outcome uint8

const (
	// Applied means the announcement is now the state of its slot.
	Applied Outcome = iota + 1
	// Duplicate means the announcement had been applied before; nothing changed.
	Duplicate
	// Stale means a higher-ranked announcement holds the slot (a newer version,
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
	// items (Rebuild, RemovePublisher, RemoveWhere and Compact).
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
			err := s.runOp(first.op)
			s.stripes.bumpAll() // the op may have changed any publisher
			answer([]*applyReq{first}, err)
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
