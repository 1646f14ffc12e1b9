package node

import (
	"errors"
	"fmt"

	"github.com/khantara/khantara/protocol"
)

var (
	// ErrClosed is returned by the node's methods once it was closed.
	ErrClosed = errors.New("node is closed")
	// ErrNetworkMismatch means a sync peer belongs to another network.
	ErrNetworkMismatch = errors.New("peer is on another network")
	// ErrLoopStopped means one of the node's background loops (gossip reader,
	// ingest, sync scheduler, discovery, purge, space watcher) stopped
	// with an error while the node ran, so the node stopped too. Serve,
	// Err and Close return it wrapped, with the loop's name and error.
	ErrLoopStopped = errors.New("a background loop of the node stopped")

	// errEventsEnded: the host's event bus closed a subscription the
	// node still reads.
	errEventsEnded     = errors.New("the host's connection events ended")
	errUnaskedEnvelope = fmt.Errorf("%w: envelope that was not asked for", protocol.ErrSyncViolation)
	errRangeOrder      = fmt.Errorf("%w: ranges out of order", protocol.ErrSyncViolation)
	errRangeCoverage   = fmt.Errorf("%w: ranges do not reach the end of the key space", protocol.ErrSyncViolation)
)
