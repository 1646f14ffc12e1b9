package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Authorising what sync fetches (PROTOCOL.md 9.7 and 12.6): a record of an
// organisation is stored only when the organisation's chain, as this node
// holds it, authorises it, exactly as gossip decides. A plain publisher's
// record needs no chain (section 3.1 has checked its signer).
//
// The node's apply path (orgapply.go) does the storing: operations first,
// then the records judged against the chains as stored, pending ones into
// the pending pool (which judges them again when an operation of their
// organisation is applied, by gossip or by a later message or session),
// revoked ones skipped. What sync adds is the judgement of the peer: a
// record the chain proves unauthorised is a violation of the session.

// storeFetched checks and stores the envelopes of one message. Every
// record of an organisation is first judged by the chain of the operations
// held here plus those of the message (so an operation and the records it
// authorises may arrive together, in any order): one the chain proves
// unauthorised is a violation (the peer served a record no replica may
// hold), found before anything of the message is stored (PROTOCOL.md
// 9.10). Pending records are not the peer's fault (it may not have sent
// the operation yet: it comes later in the session, or in the next); nor
// are those the head no longer authorises (the peer's chain view may be
// older). Both are counted, and apply decides their fate.
//
// The storing itself runs behind the session (sync_apply.go): first the
// previous message's batch is waited for, since the chains this message
// is judged by may hold its operations; then this batch is judged and
// handed to the applier, and the session goes on.
func (ss *session) storeFetched(ctx context.Context, opened []*protocol.Signed) error {
	if err := ss.waitStored(); err != nil {
		return err
	}
	if err := ss.vetFetched(opened); err != nil {
		return err
	}
	ss.storeBehind(ctx, opened)
	return nil
}

// vetFetched judges the records of organisations among recs as described
// at storeFetched, counting the pending and the revoked ones.
func (ss *session) vetFetched(recs []*protocol.Signed) error {
	var ops map[peer.ID][]*protocol.Signed // the message's operations, by org
	for _, sg := range recs {
		if a := sg.Announcement(); a.Kind == protocol.KindOrg {
			if ops == nil {
				ops = map[peer.ID][]*protocol.Signed{}
			}
			ops[a.Publisher] = append(ops[a.Publisher], sg)
		}
	}
	chains := map[peer.ID]*protocol.Chain{}
	for _, sg := range recs {
		a := sg.Announcement()
		if protocol.IsKey(a.Publisher) {
			continue
		}
		c, ok := chains[a.Publisher]
		if !ok {
			held, err := ss.n.orgs.chain(a.Publisher)
			if err != nil {
				return err
			}
			c = withOps(held, a.Publisher, ops[a.Publisher])
			chains[a.Publisher] = c
		}
		switch err := c.Authorise(a, sg.Signer()); {
		case err == nil:
		case errors.Is(err, protocol.ErrChainPending):
			ss.chainPending++
		case errors.Is(err, protocol.ErrRevoked):
			ss.revoked++
		case errors.Is(err, protocol.ErrUnauthorised):
			return fmt.Errorf("%w: served an unauthorised record %s/%d: %v", protocol.ErrSyncViolation, a.Publisher, a.Seq, err)
		default:
			return err
		}
	}
	return nil
}

// withOps returns held, or when extra has operations, the chain of org
// made of held's operations and extra's.
func withOps(held *protocol.Chain, org peer.ID, extra []*protocol.Signed) *protocol.Chain {
	if len(extra) == 0 {
		return held
	}
	ops := make([]*protocol.Signed, 0, len(held.Ops())+len(extra))
	for _, op := range held.Ops() {
		ops = append(ops, op.Op)
	}
	return protocol.NewChain(org, append(ops, extra...))
}

// storeBatch stores recs through the node's apply path and returns how
// many were applied and how many were news (applied, or an equivocation
// recorded). It touches no field of ss, so it may run on the applier's
// goroutine.
func (ss *session) storeBatch(ctx context.Context, recs []*protocol.Signed) (applied, learned int, err error) {
	batch := make([]store.Incoming, len(recs))
	for i, sg := range recs {
		batch[i] = store.Incoming{Signed: sg, From: ss.peer.String()}
	}
	res, err := ss.n.apply(context.WithoutCancel(ctx), batch, durable)
	if err != nil {
		return 0, 0, fmt.Errorf("store synced announcements: %w", err)
	}
	for _, r := range res {
		if r.Outcome == store.Applied {
			applied++
		}
		if r.Outcome == store.Applied || r.Equivocation {
			learned++
		}
	}
	ss.n.stats.syncApplied.Add(uint64(applied))
	return applied, learned, nil
}
