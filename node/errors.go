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

	// ErrNotDelegated means the node publishes for an organisation whose
	// chain, as the node holds it, does not delegate the node's key for
	// what it was asked to publish (or is not known here yet).
	ErrNotDelegated = errors.New("this node's key is not delegated by its organisation")
	// ErrNotKept means the trust policy does not keep the publisher of a
	// submitted record.
	ErrNotKept = errors.New("the trust policy does not keep this publisher")
	// ErrFuture means a submitted record's time is more than MaxClockSkew
	// ahead of the node's clock.
	ErrFuture = errors.New("the record's time is in the future")
	// ErrSuperseded means a newer record of the same publisher holds the
	// slot of a submitted record.
	ErrSuperseded = errors.New("the record is superseded")
	// ErrOrgQuota means an organisation already has protocol.MaxOrgOps
	// operations here; more are not kept (gossip ignores them, reason
	// quota).
	ErrOrgQuota = errors.New("the organisation has the most operations a node keeps")

	// errEventsEnded: the host's event bus closed a subscription the
	// node still reads.
	errEventsEnded     = errors.New("the host's connection events ended")
	errUnaskedEnvelope = fmt.Errorf("%w: envelope that was not asked for", protocol.ErrSyncViolation)
	errRangeOrder      = fmt.Errorf("%w: ranges out of order", protocol.ErrSyncViolation)
	errRangeCoverage   = fmt.Errorf("%w: ranges do not reach the end of the key space", protocol.ErrSyncViolation)
)
