package node

import (
	"errors"
	"fmt"

	"github.com/khantara/khantara/protocol"
)

var (
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("node is closed")
	// ErrNetworkMismatch: a sync peer belongs to another network.
	ErrNetworkMismatch = errors.New("peer is on another network")

	errRangeOrder    = fmt.Errorf("%w: ranges out of order", protocol.ErrSyncViolation)
	errRangeCoverage = fmt.Errorf("%w: ranges do not reach the end of the key space", protocol.ErrSyncViolation)
)
