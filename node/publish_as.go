package node

import (
	"context"
	"fmt"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PublishAs announces ann for org, which need not be the organisation the
// node publishes for (Org): a network's node publishing a member's
// practices under the member's ID, once the member delegated the node's
// key. ann names the kind and its body (practice, retract, profile,
// members or experience); PublishAs fills in the publisher, sequence number, time and
// auth, seals it with the node's key, stores and publishes it. The head
// of org's chain, as this node holds it, must delegate the node's key
// for ann's kind: otherwise the error wraps ErrNotDelegated.
func (n *Node) PublishAs(ctx context.Context, org peer.ID, ann *protocol.Announcement) (*protocol.Signed, error) {
	if !protocol.IsOrg(org) {
		return nil, fmt.Errorf("publish as %s: not an organisation ID", org)
	}
	switch ann.Kind {
	case protocol.KindPractice, protocol.KindRetract, protocol.KindProfile, protocol.KindMembers, protocol.KindExperience:
	default:
		return nil, fmt.Errorf("publish as %s: a delegate publishes practices, retractions, profiles, membership lists and experience records, not %q", org, ann.Kind)
	}
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if err := n.checkSpace(); err != nil {
		return nil, err
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	if org == n.Org() {
		return n.announceAs(ctx, org, ann)
	}
	// orgSeq is the sequence of the node's own organisation: another
	// organisation's starts from what the store has seen of it, and the
	// node's own is left as it was.
	own := n.orgSeq
	defer func() { n.orgSeq = own }()
	n.orgSeq = 0
	return n.announceAs(ctx, org, ann)
}
