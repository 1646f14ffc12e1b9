package search

import "errors"

// ErrBadQuery (params.go) is the package's other sentinel: the query, not
// the index, is at fault.

// ErrClosed: the index was closed.
var ErrClosed = errors.New("search index is closed")
