package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

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
// returns when every one of them is committed and fsynced: a power cut
// after Apply returns loses none of them. It is idempotent: applying an
// announcement twice, or announcements in any order, gives the same
// state. Concurrent calls (Apply and ApplyCommitted alike) are grouped
// into one commit and one fsync. If ctx ends before the writer answers,
// the result is unknown and Apply may be retried.
func (s *Store) Apply(ctx context.Context, items ...Incoming) ([]Result, error) {
	return s.apply(ctx, items, false)
}

// ApplyCommitted is Apply that returns once the announcements are
// committed, without waiting for the fsync that follows: they are then
// readable, each applied atomically, and survive the process being killed
// (the operating system's page cache holds them), but a power cut or an
// operating system crash before their fsync may lose them. The syncer
// fsyncs them within the store's sync delay (WithSyncDelay, default
// 200 ms), sooner when an Apply call needs an fsync meanwhile;
// WriteStats.Durable counts them once it has. It suits
// announcements the network can give again (gossip, which sync fetches
// anew after a loss), not a node's own publications. An fsync that fails
// after ApplyCommitted returned is logged (and fails the Apply calls it
// covered), and WriteStats.Durable does not count what it covered.
func (s *Store) ApplyCommitted(ctx context.Context, items ...Incoming) ([]Result, error) {
	return s.apply(ctx, items, true)
}

func (s *Store) apply(ctx context.Context, items []Incoming, committedOnly bool) ([]Result, error) {
	for i, it := range items {
		if it.Signed == nil {
			return nil, fmt.Errorf("apply: item %d has no announcement", i)
		}
	}
	req := &applyReq{items: items, results: make([]Result, len(items)), committedOnly: committedOnly, done: make(chan struct{})}
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
	// Syncs is the number of fsyncs the syncer ran.
	Syncs uint64
	// Announcements is the number of announcements committed.
	Announcements uint64
	// Durable is the number of announcements committed and then covered
	// by an fsync that succeeded; it trails Announcements by those still
	// waiting for theirs. Groups are synced in the order they are
	// committed, so once Durable reaches the Announcements of an earlier
	// call, everything committed before that call is on disk.
	Durable uint64
	// SyncedAt is when the last fsync that Durable counts ended (zero
	// before the first): the announcements it covered were on disk then.
	SyncedAt time.Time
	// SyncCPU is the CPU time the fsyncs took (user and system), as the
	// clock given to WithSyncClock reads it; zero without one.
	SyncCPU time.Duration
}

// WriteStats returns the writer's counters; safe to call at any time.
// Announcements is never below Durable, and SyncedAt is never earlier
// than the end of the fsync that brought Durable to its value.
func (s *Store) WriteStats() WriteStats {
	// Durable first: the syncer sets syncedAt before it adds to durable,
	// and the writer counts a commit before the syncer sees it.
	ws := WriteStats{Durable: s.durable.Load()}
	if at := s.syncedAt.Load(); at != 0 {
		ws.SyncedAt = time.Unix(0, at)
	}
	ws.Syncs, ws.Announcements = s.syncs.Load(), s.committed.Load()
	ws.SyncCPU = time.Duration(s.syncCPU.Load())
	return ws
}

type applyReq struct {
	// op, when set, runs alone inside the writer instead of applying
	// items (Rebuild, RemovePublisher, RemoveWhere and Compact).
	op      func() error
	items   []Incoming
	results []Result
	// committedOnly requests (ApplyCommitted) are answered by the writer
	// once committed; the syncer still fsyncs them but answers only the
	// others. Set before the request is sent, never changed.
	committedOnly bool
	err           error
	done          chan struct{}
}

// writer owns every write. It takes whatever requests are waiting (up to
// maxBatch announcements), applies them in as few transactions as fit,
// answers those that asked for a commit only (ApplyCommitted) and passes
// the whole group to the syncer, which answers the others once they are on
// disk.
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
			// The op may have moved the feed (Rebuild starts it afresh):
			// its end, fsynced, is the durable mark from now on.
			if serr := s.saveDurable(); serr != nil {
				s.cfg.log.Error("Cannot fsync the store after a maintenance operation.", "err", serr)
				err = errors.Join(err, serr)
			}
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
		// Then answer ApplyCommitted's requests: readied last, their
		// callers run before the syncer when the CPU is short.
		for _, r := range group {
			if r.committedOnly {
				close(r.done)
			}
		}
	}
}

// syncer makes committed groups durable: it takes every group committed so
// far, fsyncs once, and answers them all (except the requests the writer
// answered already, ApplyCommitted's). While it waits on the disk the
// writer commits the next groups, so under load one fsync covers many
// commits and CPU work overlaps the disk.
func (s *Store) syncer() {
	defer close(s.syncDone)
	clock := s.cfg.syncClock
	for {
		first, ok := <-s.synced
		if !ok {
			return
		}
		batch := s.gather(first)
		if s.cfg.beforeSync != nil {
			s.cfg.beforeSync()
		}
		// Every commit published at this feed point was written before
		// the fsync starts, so the fsync covers it (tail.go).
		epoch, pos := s.Feed()
		err := s.sync(clock)
		covered := 0
		for _, g := range batch {
			for _, r := range g {
				covered += len(r.items) // immutable, also in answered requests
			}
		}
		if err != nil {
			s.syncBroken.Store(true)
			err = fmt.Errorf("sync store: %w", err)
			s.cfg.log.Error("Cannot fsync the store: what was committed may not survive a power cut.",
				"announcements", covered, "err", err)
		} else {
			if !s.syncBroken.Load() {
				s.durableMark.Store(&feedMark{epoch: epoch, pos: pos})
			}
			s.syncedAt.Store(time.Now().UnixNano())
			s.durable.Add(uint64(covered))
		}
		s.syncs.Add(1)
		for _, g := range batch {
			for _, r := range g {
				if !r.committedOnly {
					r.err = err
					close(r.done)
				}
			}
		}
	}
}

// sync fsyncs the store. With a clock (WithSyncClock), it adds the CPU
// time the fsync took to WriteStats.SyncCPU: Badger msyncs its mapped
// files in the calling goroutine, held on its OS thread for the call so
// that the thread's clock is the fsync's. It is held for that call only:
// a goroutine locked to its thread while it waits on a channel costs a
// thread switch at every wake-up, which would add to the CPU it measures.
func (s *Store) sync(clock func() time.Duration) error {
	if clock == nil {
		return s.syncAll()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := clock()
	err := s.syncAll()
	s.syncCPU.Add(int64(clock() - cpu))
	return err
}

// syncAll fdatasyncs what the writer put in the packs without syncing
// (ApplyCommitted's envelopes), then Badger.
func (s *Store) syncAll() error {
	if err := s.packs.syncDeferred(); err != nil {
		return err
	}
	return s.db.Sync()
}

// gather returns first and the groups committed after it that the next
// fsync should cover. When no request of first waits for the fsync (all
// are ApplyCommitted's), it collects for up to syncDelay, so that one
// fsync covers the commits of that time, and ends the wait as soon as a
// group that someone waits for (Apply's) arrives or the writer stops.
// Then it takes whatever else is committed already.
func (s *Store) gather(first []*applyReq) [][]*applyReq {
	batch := [][]*applyReq{first}
	var delay <-chan time.Time // nil: take only what is there
	if s.cfg.syncDelay > 0 && !awaited(first) {
		t := time.NewTimer(s.cfg.syncDelay)
		defer t.Stop()
		delay = t.C
	}
	for {
		var g []*applyReq
		ok := true
		if delay != nil {
			select {
			case g, ok = <-s.synced:
			case <-delay:
				delay = nil
				continue
			}
		} else {
			select {
			case g, ok = <-s.synced:
			default:
				return batch
			}
		}
		if !ok {
			return batch
		}
		batch = append(batch, g)
		if awaited(g) {
			delay = nil
		}
	}
}

// awaited reports whether a request of group waits for its fsync (Apply,
// not ApplyCommitted).
func awaited(group []*applyReq) bool {
	for _, r := range group {
		if !r.committedOnly {
			return true
		}
	}
	return false
}

// answer answers every request of group with err; the caller owns group,
// none of whose requests has been answered.
func answer(group []*applyReq, err error) {
	for _, r := range group {
		r.err = err
		close(r.done)
	}
}
