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
)
