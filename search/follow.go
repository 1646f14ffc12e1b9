package search

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Backoff bounds of the follower: after a failed write or while the write
// gate is closed it waits, doubling from retryMin to retryMax, or until
// Notify or Close.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 10 * time.Second
	// idlePoll is how often an idle follower looks at the feed unasked.
	idlePoll = 2 * time.Second
)

// follow is the follower: the goroutine that keeps the live index equal
// to the store. It rebuilds the index when Open found none usable (or the
// store's feed epoch changes), then applies the store's change feed from
// the position the index holds, batch by batch, and waits for Notify when
// it has caught up. It stops when Close cancels ix.ctx.
func (ix *Index) follow() {
	defer close(ix.done)
	ctx := ix.ctx
	wait := time.Duration(0)
	for ctx.Err() == nil {
		if ix.reason != "" {
			start := time.Now()
			n, err := ix.Rebuild(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				wait = backoff(wait, retryMin, retryMax)
				ix.cfg.log.Warn("Could not rebuild the search index; retrying.", "err", err, "retry_in", wait)
				ix.pause(ctx, wait)
				continue
			}
			ix.cfg.log.Info("Rebuilt the search index.", "practices", n, "reason", ix.reason, "took", time.Since(start).Round(time.Millisecond))
			ix.reason, wait = "", 0
		}
		more, err := ix.step(ctx)
		switch {
		case errors.Is(err, errRenumbered):
			ix.reason = err.Error()
			ix.setState(func(s *Status) { s.Ready, s.State, s.Done, s.Total = false, StateRebuilding, 0, 0 })
			continue
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			wait = backoff(wait, retryMin, retryMax)
			if !errors.Is(err, errGate) {
				ix.cfg.log.Warn("Could not update the search index; retrying.", "err", err, "retry_in", wait)
			}
			ix.pause(ctx, wait)
			continue
		}
		wait = 0
		if !more {
			// Notify wakes it; the timeout catches a change whose
			// writer did not call Notify.
			ix.pause(ctx, idlePoll)
		}
	}
}

// errRenumbered: the store's feed epoch differs from the index's.
var errRenumbered = errors.New("the store's change feed was renumbered")

// errGate wraps the write gate's refusal.
var errGate = errors.New("index writes paused")

// step applies one batch of the feed after the index's position. It
// reports whether more changes may be waiting.
func (ix *Index) step(ctx context.Context) (bool, error) {
	storeEpoch, target := ix.st.Feed()
	ix.writeMu.Lock()
	epoch, pos := ix.epoch, ix.pos
	ix.writeMu.Unlock()
	if epoch != storeEpoch || pos > target {
		return false, errRenumbered
	}
	if pos == target {
		ix.setState(func(s *Status) {
			if !s.Ready {
				ix.cfg.log.Info("The search index is up to date with the store.", "position", pos, "replayed", s.Done)
			}
			s.Ready, s.State, s.Done, s.Total, s.Position, s.Error, s.Paused = true, StateReady, 0, 0, pos, "", false
		})
		return false, nil
	}
	keys, last, err := ix.changes(pos, target)
	if err != nil {
		return false, err
	}
	if last == pos {
		// Nothing after pos up to target: the entries were superseded by
		// later ones beyond what Feed reported. Move on next time.
		return true, nil
	}
	if err := ix.gate(); err != nil {
		return false, err
	}
	idx, err := ix.live()
	if err != nil {
		return false, err
	}
	b, err := ix.batchOf(idx, keys)
	if err != nil {
		return false, err
	}
	b.SetInternal(keyFeed, encodeFeed(epoch, last))

	ix.writeMu.Lock()
	if ix.closed {
		ix.writeMu.Unlock()
		return false, ErrClosed
	}
	if ix.epoch != epoch || ix.pos != pos || ix.cur != idx {
		ix.writeMu.Unlock()
		return true, nil // a Rebuild switched meanwhile: read again
	}
	err = ix.safeBatch(ix.cur, b, keys)
	if err == nil {
		ix.pos = last
	}
	ix.writeMu.Unlock()
	if err != nil {
		ix.setState(func(s *Status) { s.Error = err.Error() })
		return false, err
	}
	ix.setState(func(s *Status) {
		if !s.Ready {
			if s.State != StateCatchingUp || s.Total == 0 {
				s.State, s.Done, s.Total = StateCatchingUp, 0, target-pos
			}
			s.Done = min(s.Total, s.Done+uint64(len(keys)))
		}
		s.Position, s.Error, s.Paused = last, "", false
	})
	return true, nil
}

// changes returns the slots of the feed entries after pos, up to
// batchSize slots and not far beyond position to, and the position of
// the last entry read (pos when there is none).
func (ix *Index) changes(pos, to uint64) ([]docKey, uint64, error) {
	var keys []docKey
	seen := map[docKey]bool{}
	last := pos
	for c, err := range ix.st.Changes(pos) {
		if err != nil {
			return nil, pos, err
		}
		k := docKey{c.Publisher, c.Slot}
		last = c.Pos
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		if len(keys) >= ix.cfg.batchSize || c.Pos >= to {
			break
		}
	}
	return keys, last, nil
}

// replay writes the changes after position from, up to about position to,
// into idx (not the live index), with their feed position, and returns
// the position idx then holds. Rebuild calls it with writeMu held.
func (ix *Index) replay(idx bleve.Index, epoch string, from, to uint64) (uint64, error) {
	for from < to {
		keys, last, err := ix.changes(from, to)
		if err != nil {
			return from, err
		}
		if last == from {
			break
		}
		b, err := ix.batchOf(idx, keys)
		if err != nil {
			return from, err
		}
		b.SetInternal(keyFeed, encodeFeed(epoch, last))
		if err := ix.safeBatch(idx, b, keys); err != nil {
			return from, err
		}
		from = last
	}
	return from, nil
}

// gate asks the write gate (WithWriteGate) whether the index may write.
func (ix *Index) gate() error {
	if ix.cfg.gate == nil {
		return nil
	}
	if err := ix.cfg.gate(); err != nil {
		ix.setState(func(s *Status) { s.Paused, s.Error = true, err.Error() })
		return fmt.Errorf("%w: %w", errGate, err)
	}
	return nil
}

// live returns the live index.
func (ix *Index) live() (bleve.Index, error) {
	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if ix.cur == nil {
		return nil, ErrClosed
	}
	return ix.cur, nil
}

// safeBatch writes b to idx and turns a panic inside bleve into an error:
// after ENOSPC, zapx has been seen to panic ("assignment to entry in nil
// map"), and a full disk must not kill the process. keys are the slots
// in b, for the test hook.
func (ix *Index) safeBatch(idx bleve.Index, b *bleve.Batch, keys []docKey) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: bleve panicked: %v", ErrWrite, r)
		}
	}()
	if ix.cfg.batchHook != nil {
		if err := ix.cfg.batchHook(keys); err != nil {
			return fmt.Errorf("%w: %w", ErrWrite, err)
		}
	}
	if err := idx.Batch(b); err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return nil
}

// Notify wakes the follower: call it after the store has applied a change
// (the arguments are ignored, and kept for the callers' sake; the store's
// change feed says what changed). Applied also hands over the decoded
// announcements. It never blocks; after Close it does
// nothing.
func (ix *Index) Notify(peer.ID, string) { ix.notify() }

// Update waits until the index holds every change the store has
// committed, (pub, slot)'s included; it is Notify followed by Flush, for
// callers that need the index current before they go on. It returns
// ErrClosed once the index is closed.
func (ix *Index) Update(pub peer.ID, slot string) error {
	ix.Notify(pub, slot)
	return ix.Flush(ix.ctx)
}
