package node

import "errors"

var (
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("node is closed")
	// ErrNetworkMismatch: a sync peer belongs to another network.
	ErrNetworkMismatch = errors.New("peer is on another network")

	errRangeOrder    = errors.New("sync ranges out of order")
	errRangeCoverage = errors.New("sync ranges do not reach the end of the key space")
)
