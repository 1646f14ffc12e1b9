package store

import "errors"

var (
	// ErrNotFound means no record under that publisher and ID.
	ErrNotFound = errors.New("not found")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrLocked means another process owns the data directory.
	ErrLocked = errors.New("data directory is in use by another process")
	// ErrCorrupt means a record on disk does not decode. Rebuild may help for
	// derived records; primary records need a restore or a re-sync.
	ErrCorrupt = errors.New("corrupt record")
	// ErrNoSpace means the data directory's filesystem has less free space than
	// the store keeps in reserve, so the store takes no writes until space
	// returns. Nothing was written; the caller may retry later.
	ErrNoSpace = errors.New("not enough free disk space")
)
