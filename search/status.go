package search

import (
	"context"
	"time"
)

// State names what the index is doing; see Status.
type State string

// The states of an index. A ready index may lag the store by the changes
// the follower has not applied yet (usually milliseconds); Flush waits
// for them.
const (
	// StateRebuilding: the index is being built from the store and has
	// no complete version to search.
	StateRebuilding State = "rebuilding"
	// StateCatchingUp: the index opened and replays the store's changes
	// after the position it holds (after a crash, the unpersisted tail).
	StateCatchingUp State = "catching up"
	// StateReady: the index is complete up to its Position and follows
	// the store.
	StateReady State = "ready"
	// StateClosed: Close was called.
	StateClosed State = "closed"
)

// Status says how complete the index is.
type Status struct {
	// State is what the index is doing.
	State State `json:"state"`
	// Ready is true once the index is complete: Search and Stats work.
	// It stays true while a Rebuild requested on a ready index runs
	// (searches use the live index until the switch).
	Ready bool `json:"ready"`
	// Done and Total measure the current phase: practices indexed of
	// those to index while rebuilding (the experience records come after
	// them, with Done at Total), changes replayed of those to replay
	// while catching up. Both are 0 when ready.
	Done  uint64 `json:"done"`
	Total uint64 `json:"total"`
	// Position is the store's feed position the index holds;
	// StorePosition the store's latest (store.Store.Position).
	Position      uint64 `json:"position"`
	StorePosition uint64 `json:"store_position"`
	// Error is the last write error, while the follower retries it ("" once
	// a write succeeds).
	Error string `json:"error,omitempty"`
	// Paused is true while the write gate (WithWriteGate) holds writes
	// back; Error then says why.
	Paused bool `json:"paused,omitempty"`
}

// Status returns how complete the index is. Safe for concurrent use.
func (ix *Index) Status() Status {
	ix.stateMu.Lock()
	s := ix.state
	ix.stateMu.Unlock()
	s.StorePosition = ix.st.Position()
	return s
}

// setState changes the status under stateMu and wakes its waiters.
func (ix *Index) setState(f func(*Status)) {
	ix.stateMu.Lock()
	defer ix.stateMu.Unlock()
	f(&ix.state)
	close(ix.changed)
	ix.changed = make(chan struct{})
}

// usable returns nil when the live index may be searched, or why not.
// The caller holds idxMu (shared or not).
func (ix *Index) usable() error {
	st := ix.Status()
	switch {
	case st.State == StateClosed:
		return ErrClosed
	case !st.Ready || ix.cur == nil:
		return &NotReadyError{Status: st}
	}
	return nil
}

// Flush waits until the index is ready and holds every change the store
// had committed when Flush was called, or ctx ends, or the index closes
// (ErrClosed).
func (ix *Index) Flush(ctx context.Context) error {
	target := ix.st.Position()
	ix.notify()
	for {
		ix.stateMu.Lock()
		s, ch := ix.state, ix.changed
		ix.stateMu.Unlock()
		switch {
		case s.State == StateClosed:
			return ErrClosed
		case s.Ready && s.Position >= target:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes the follower.
func (ix *Index) notify() {
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// pause waits for d, or until Notify or Close; it reports false when the
// index is closing.
func (ix *Index) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ix.wake:
	case <-ctx.Done():
		return false
	}
	return true
}

// backoff doubles d within [min, max].
func backoff(d, lo, hi time.Duration) time.Duration {
	return min(max(2*d, lo), hi)
}
