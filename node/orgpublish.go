package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Org returns the organisation this node publishes for (Config.Org, or
// the last SetOrg), or "" when it publishes as itself.
func (n *Node) Org() peer.ID {
	if p := n.org.Load(); p != nil {
		return *p
	}
	return ""
}

// SetOrg makes the node publish for org from now on ("" : as itself, a
// plain publisher), as if Config.Org had said so at start; the daemon
// calls it after `khantara org init`. org must be an organisation ID. The
// organisation's chain need not be known yet, but publishing fails until
// it delegates this node's key.
func (n *Node) SetOrg(org peer.ID) error {
	if org != "" && !protocol.IsOrg(org) {
		return fmt.Errorf("org: %s is not an organisation ID", org)
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	n.org.Store(&org)
	n.orgSeq = 0
	n.quotaMu.Lock()
	defer n.quotaMu.Unlock()
	return n.refreshPolicy(n.ctx, n.policy.load().trust)
}

// ownIDs are the node's own publisher IDs: its key and its organisation.
func (n *Node) ownIDs() []peer.ID { return []peer.ID{n.self, n.Org()} }

// Chain returns the chain of org as this node holds it: unknown (no
// genesis) when it holds no operation of org. The chain is immutable and
// shared: callers must not modify what it returns.
func (n *Node) Chain(org peer.ID) (*protocol.Chain, error) { return n.orgs.chain(org) }

// announceAs seals ann for org with this node's key, as a delegate: the
// publisher is org, auth the head of org's chain (which must delegate
// this node's key for ann's kind), the sequence number one above the
// highest the node has seen of org or used itself. It stores and
// publishes the record. The caller holds pubMu.
func (n *Node) announceAs(ctx context.Context, org peer.ID, ann *protocol.Announcement) (*protocol.Signed, error) {
	c, err := n.orgs.chain(org)
	if err != nil {
		return nil, err
	}
	if !c.Known() {
		return nil, fmt.Errorf("%w: this node holds no genesis of %s; submit it (khantara org init) or wait for sync", ErrNotDelegated, org)
	}
	st := c.Status(n.self)
	if st.Role != protocol.KeyDelegated || !slices.Contains(st.May, ann.Kind) {
		return nil, fmt.Errorf("%w: the head of %s (%s) does not delegate this node's key %s for %s (its role: %s)",
			ErrNotDelegated, org, c.Name(), n.self, ann.Kind, st.Role)
	}
	seq, err := n.nextSeq(org)
	if err != nil {
		return nil, err
	}
	seq = max(seq, n.orgSeq+1)
	ann.V, ann.Publisher, ann.Seq, ann.Auth = protocol.Version, org, seq, headHash(c)
	ann.Time = n.now().UTC().Truncate(time.Second)
	signed, err := protocol.Seal(ann, n.key)
	if err != nil {
		return nil, err
	}
	if err := c.Authorise(ann, n.self); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotDelegated, err)
	}
	// Under quotaMu, so that no change of the chain can be applied (and
	// its records judged again) between the check above and the write.
	n.quotaMu.Lock()
	if c2, err := n.orgs.chain(org); err != nil || c2 != c {
		if err == nil {
			err = c2.Authorise(ann, n.self)
		}
		if err != nil {
			n.quotaMu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrNotDelegated, err)
		}
	}
	err = n.storeOwn(ctx, signed)
	n.quotaMu.Unlock()
	if err != nil {
		return nil, err
	}
	n.orgSeq = seq
	n.publish(ctx, signed)
	return signed, nil
}

// Submit takes a record signed elsewhere (an organisation's operation
// signed by a rotation key, a membership list signed by a staff key, ...),
// checks it as gossip would, stores it durably, and publishes it. Errors:
// the record does not open (wrapping the protocol's sentinels), the trust
// policy does not keep its publisher (ErrNotKept), its time is too far
// ahead (ErrFuture), its chain is not known here yet
// (protocol.ErrChainPending: submit the operations before it first), it
// is not authorised (protocol.ErrUnauthorised, protocol.ErrRevoked), or a
// newer record holds its slot (ErrSuperseded). A record stored already is
// published again and returned without error.
func (n *Node) Submit(ctx context.Context, envelope []byte) (*protocol.Signed, error) {
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if err := n.checkSpace(); err != nil {
		return nil, err
	}
	sg, err := protocol.Open(envelope)
	if err != nil {
		return nil, err
	}
	if err := n.precheck(sg); err != nil {
		return nil, err
	}
	n.quotaMu.Lock()
	res, released, err := n.applyLocked(ctx, []store.Incoming{{Signed: sg}}, durable)
	n.quotaMu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, r := range released {
		n.publish(ctx, r)
	}
	switch res[0].Outcome {
	case store.Applied, store.Duplicate:
	case store.Stale:
		return nil, fmt.Errorf("%w: a newer record of %s holds %s", ErrSuperseded, sg.Announcement().Publisher, sg.Slot())
	default:
		// Judged differently on the write path: a chain changed meanwhile.
		_, err := n.orgs.authorise(sg)
		return nil, fmt.Errorf("the record was not stored: %w", errors.Join(err, errors.New("its organisation's chain changed while it was stored")))
	}
	n.publish(ctx, sg)
	return sg, nil
}

// precheck is Submit's part of the gossip validator's checks.
func (n *Node) precheck(sg *protocol.Signed) error {
	a := sg.Announcement()
	if !n.policy.keeps(a.Publisher) {
		return fmt.Errorf("%w: %s", ErrNotKept, a.Publisher)
	}
	if a.Time.After(n.now().Add(MaxClockSkew)) {
		return fmt.Errorf("%w: %s is more than %v ahead of this node's clock", ErrFuture, a.Time.Format(time.RFC3339), MaxClockSkew)
	}
	_, err := n.orgs.authorise(sg)
	switch {
	case errors.Is(err, protocol.ErrChainPending):
		return fmt.Errorf("the chain is not known yet (%w); submit the operations it needs first", err)
	case errors.Is(err, ErrOrgQuota):
		return fmt.Errorf("%w (%d)", err, protocol.MaxOrgOps)
	}
	return err
}

// SetTrust replaces the trust policy at run time (the daemon calls it when
// its configuration is reloaded, `khantara trust follow` for example):
// records of publishers the new policy no longer keeps are removed at
// once, as at start (the purge loop erases them from disk later); records
// of publishers it keeps again come back by gossip and sync.
func (n *Node) SetTrust(t Trust) error {
	if err := t.validate(); err != nil {
		return err
	}
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	n.quotaMu.Lock()
	defer n.quotaMu.Unlock()
	return n.refreshPolicy(n.ctx, t)
}

// refreshPolicy rebuilds the policy from t and the membership lists held,
// and removes the records of every publisher it no longer keeps. The
// caller holds quotaMu.
func (n *Node) refreshPolicy(ctx context.Context, t Trust) error {
	r, err := buildRules(t, n.ownIDs(), n.store)
	if err != nil {
		return err
	}
	n.policy.cur.Store(r)
	return n.enforcePolicy(ctx)
}
