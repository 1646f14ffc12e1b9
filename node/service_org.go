package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// The services the API needs for organisations beyond publishing:
// membership lists signed by the node, and the migration of a plain
// publisher into its organisation (PROTOCOL.md 12, org init --adopt).

// MovedReason starts the reason of the retractions Adopt publishes; the
// organisation's ID follows.
const MovedReason = "moved to "

// PublishMembers publishes a membership list for the node's organisation,
// signed by the node's key: the organisation's head must delegate the key
// for kind members (ErrNotDelegated otherwise, and when the node publishes
// for no organisation).
func (n *Node) PublishMembers(ctx context.Context, m *protocol.MemberList) (*protocol.Signed, error) {
	if n.Org() == "" {
		return nil, fmt.Errorf("%w: this node publishes for no organisation (khantara org init)", ErrNotDelegated)
	}
	return n.announce(ctx, &protocol.Announcement{Kind: protocol.KindMembers, Members: m})
}

// AdoptResult counts what Adopt published.
type AdoptResult struct {
	// Moved counts the practices republished under the organisation and
	// retracted as the node's own.
	Moved int
	// Profile reports whether the node's profile was republished.
	Profile bool
}

// Adopt moves the node's own plain publications into its organisation
// (Org must be set, and its head delegate the node's key for practice,
// retract and profile): each current practice the node published as
// itself is published again by the organisation, same ID and content,
// then its plain copy is retracted with the reason MovedReason + the
// organisation's ID; the plain profile is republished too. Each step is
// one durable write: after a crash, calling Adopt again finishes the job
// (a practice already retracted as plain is not moved again). The
// organisation's sequence numbers continue above the node's own.
func (n *Node) Adopt(ctx context.Context) (AdoptResult, error) {
	var res AdoptResult
	org := n.Org()
	if org == "" {
		return res, fmt.Errorf("%w: this node publishes for no organisation (khantara org init)", ErrNotDelegated)
	}
	if err := n.checkSpace(); err != nil {
		return res, err
	}
	var recs []*protocol.Signed
	for rec, err := range n.store.List(store.ListOptions{Publisher: n.self, Kinds: []protocol.Kind{protocol.KindPractice, protocol.KindProfile}}) {
		if err != nil {
			return res, fmt.Errorf("list the node's own records: %w", err)
		}
		recs = append(recs, rec.Signed)
	}
	for _, sg := range recs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		moved, err := n.adoptOne(ctx, org.String(), sg)
		if err != nil {
			return res, err
		}
		if sg.Announcement().Kind == protocol.KindProfile {
			res.Profile = moved
		} else if moved {
			res.Moved++
		}
	}
	return res, nil
}

// adoptOne republishes one plain record under the organisation and, for
// a practice, retracts the plain copy.
func (n *Node) adoptOne(ctx context.Context, org string, sg *protocol.Signed) (bool, error) {
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	if n.ctx.Err() != nil {
		return false, ErrClosed
	}
	plain := sg.Announcement()
	seq, err := n.nextSeq(n.self)
	if err != nil {
		return false, err
	}
	// The organisation's numbers continue above the node's own.
	n.orgSeq = max(n.orgSeq, seq-1)
	moved := &protocol.Announcement{Kind: plain.Kind, Practice: plain.Practice, Profile: plain.Profile}
	if _, err := n.announceAs(ctx, n.Org(), moved); err != nil {
		return false, fmt.Errorf("republish %s under the organisation: %w", sg.Slot(), err)
	}
	if plain.Kind != protocol.KindPractice {
		return true, nil
	}
	seq, err = n.nextSeq(n.self)
	if err != nil {
		return false, err
	}
	ret := &protocol.Announcement{V: protocol.Version, Publisher: n.self, Seq: seq,
		Time: n.now().UTC().Truncate(time.Second), Kind: protocol.KindRetract,
		Retract: &protocol.Retraction{ID: sg.Slot(), Reason: MovedReason + org}}
	signed, err := protocol.Seal(ret, n.key)
	if err != nil {
		return false, fmt.Errorf("retract the plain copy of %s: %w", sg.Slot(), err)
	}
	if err := n.storeOwn(ctx, signed); err != nil {
		return false, errors.Join(fmt.Errorf("retract the plain copy of %s", sg.Slot()), err)
	}
	n.publish(ctx, signed)
	return true, nil
}
