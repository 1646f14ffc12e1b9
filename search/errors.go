package search

import (
	"errors"
	"fmt"
)

// ErrBadQuery (params.go) is the package's other sentinel: the query, not
// the index, is at fault.

// ErrClosed is returned by every method once the index was closed.
var ErrClosed = errors.New("search index is closed")

// ErrNotReady means the index is incomplete (being rebuilt, or catching up
// with the store after a start), so a search would miss practices. The
// error is a *NotReadyError that says how far the index is; try again
// later.
var ErrNotReady = errors.New("search index is not ready")

// ErrWrite means a write to the index failed (bleve returned an error or
// panicked, as it can when the disk is full). The position the index
// holds did not advance; the follower retries with backoff.
var ErrWrite = errors.New("search index write failed")

// NotReadyError is the error of Search, Stats and Count while the index
// is incomplete. It matches ErrNotReady (errors.Is) and carries the
// index's Status at the time.
type NotReadyError struct {
	Status Status
}

// Error says what the index is doing and how far it is, as a sentence
// fragment a person can read: "the search index is being rebuilt: 5,120
// of 20,000 practices".
func (e *NotReadyError) Error() string {
	msg := e.progress()
	if e.Status.Paused {
		msg += ", paused while the disk is nearly full"
	}
	return msg
}

func (e *NotReadyError) progress() string {
	s := e.Status
	switch s.State {
	case StateRebuilding:
		if s.Total == 0 {
			return "the search index is being rebuilt"
		}
		return fmt.Sprintf("the search index is being rebuilt: %s of %s practices", thousands(s.Done), thousands(s.Total))
	case StateCatchingUp:
		return fmt.Sprintf("the search index is catching up with the store: %s of %s changes", thousands(s.Done), thousands(s.Total))
	}
	return "the search index is not ready"
}

// Unwrap makes a NotReadyError match ErrNotReady.
func (e *NotReadyError) Unwrap() error { return ErrNotReady }

// thousands formats n with commas between groups of three digits.
func thousands(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
