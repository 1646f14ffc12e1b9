package store

import "errors"

var (
	// ErrNotFound: no record under that publisher and ID.
	ErrNotFound = errors.New("not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrLocked: another process owns the data directory.
	ErrLocked = errors.New("data directory is in use by another process")
	// ErrCorrupt: a record on disk does not decode. Rebuild may help for
	// derived records; primary records need a restore or a re-sync.
	ErrCorrupt = errors.New("corrupt record")
	// ErrNoSpace: the data directory's filesystem has less free space than
	// the store keeps in reserve, so the store takes no writes until space
	// returns. Nothing was written; the caller may retry later.
	ErrNoSpace = errors.New("not enough free disk space")
)
