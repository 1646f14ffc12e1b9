package node

import (
	"context"

	"github.com/khantara/khantara/protocol"
)

// PublishExperience announces an experience record (PROTOCOL.md 13): it
// seals e with the next sequence number and the node's key, stores it
// durably, then gossips it (on the v2 topic: every experience record is a
// v2 record). When the node publishes for an organisation (Org), the
// organisation is the publisher, as with Publish, and its head must
// delegate the node's key for the kind experience (else the error wraps
// ErrNotDelegated). A new record with e's slot supersedes the previous
// one; Retract with the slot (e.Slot()) withdraws it. An invalid e is
// refused with a *protocol.ValidationError naming the fields.
func (n *Node) PublishExperience(ctx context.Context, e *protocol.Experience) (*protocol.Signed, error) {
	return n.announce(ctx, &protocol.Announcement{Kind: protocol.KindExperience, Experience: e})
}
