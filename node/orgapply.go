package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The apply path of organisations. Whatever brings a record (gossip, sync,
// Submit, the pending pool), it is stored by apply, which holds quotaMu,
// so one batch at a time is judged against the chains and written:
//
//  1. the batch's operations are judged (orgs.authorise) and stored
//     first, then the chains of their organisations are rebuilt;
//  2. the other records are judged against those chains and stored;
//  3. when an organisation's head changed, its stored records are judged
//     again and those the new head no longer authorises are removed
//     (store.RemoveWhere): they come back if the head changes back;
//  4. in lists mode, a new membership list of a followed organisation
//     rebuilds the trust policy;
//  5. the pending records of every organisation with a new operation are
//     judged again: those now valid go through the same steps (and are
//     published, since gossip did not forward them while pending).
//
// A record that pends is held in the pending pool; one that is not
// authorised, or not kept by the policy, is skipped (its result has no
// Outcome). Gossip and sync judged each record before already; judging
// again here closes the window in which a chain changed meanwhile.

// roundResult is what one round of applyLocked did.
type roundResult struct {
	res      []store.Result // by item
	newOps   []peer.ID      // organisations with an applied operation
	newHeads []peer.ID      // organisations whose head changed
	lists    bool           // a followed organisation's list was applied
}

// applyLocked applies batch and then every pending record it releases.
// It returns batch's results and the released records that were applied.
// The caller holds quotaMu.
func (n *Node) applyLocked(ctx context.Context, batch []store.Incoming) ([]store.Result, []*protocol.Signed, error) {
	var released []*protocol.Signed
	items, first := batch, true
	var out []store.Result
	for rounds := 0; len(items) > 0 && rounds <= MaxPending; rounds++ {
		rr, err := n.applyRound(ctx, items)
		if err != nil {
			return nil, nil, err
		}
		if first {
			out, first = rr.res, false
		} else {
			for i, r := range rr.res {
				if r.Outcome == store.Applied || r.Equivocation {
					released = append(released, items[i].Signed)
				}
			}
		}
		if err := n.afterRound(ctx, rr); err != nil {
			return nil, nil, err
		}
		items = n.releasePending(rr.newOps)
	}
	return out, released, nil
}

// releasePending takes the pending records of orgs and returns those their
// chains now decide (valid or not), putting the others back with their
// deadlines.
func (n *Node) releasePending(orgIDs []peer.ID) []store.Incoming {
	var items []store.Incoming
	var still []heldRecord
	for _, org := range orgIDs {
		for _, h := range n.pending.take(org) {
			if _, err := n.orgs.authorise(h.sg); errors.Is(err, protocol.ErrChainPending) {
				still = append(still, h)
				continue
			}
			items = append(items, store.Incoming{Signed: h.sg, From: fromString(h.from)})
		}
	}
	n.pending.putBack(still)
	return items
}

func fromString(p peer.ID) string {
	if p == "" {
		return ""
	}
	return p.String()
}

// applyRound judges and stores one round: operations first, then the rest.
func (n *Node) applyRound(ctx context.Context, items []store.Incoming) (roundResult, error) {
	rr := roundResult{res: make([]store.Result, len(items))}
	var ops, rest []int
	for i, in := range items {
		if isOp(in.Signed) {
			ops = append(ops, i)
		} else {
			rest = append(rest, i)
		}
	}
	before := map[peer.ID]protocol.Hash{}
	if err := n.storeJudged(ctx, items, ops, rr.res, before); err != nil {
		return rr, err
	}
	for _, i := range ops {
		if org := items[i].Signed.Announcement().Publisher; rr.res[i].Outcome == store.Applied && !slices.Contains(rr.newOps, org) {
			rr.newOps = append(rr.newOps, org)
		}
	}
	if len(rr.newOps) > 0 {
		n.orgs.invalidate(rr.newOps...)
		for _, org := range rr.newOps {
			c, err := n.orgs.chain(org)
			if err != nil {
				return rr, err
			}
			// A chain that was unknown held no record to judge again.
			if b := before[org]; !b.IsZero() && headHash(c) != b {
				rr.newHeads = append(rr.newHeads, org)
			}
		}
	}
	if err := n.storeJudged(ctx, items, rest, rr.res, nil); err != nil {
		return rr, err
	}
	rules := n.policy.load()
	for _, i := range rest {
		a := items[i].Signed.Announcement()
		if rr.res[i].Outcome == store.Applied && a.Kind == protocol.KindMembers && rules.follows(a.Publisher) {
			rr.lists = true
		}
	}
	return rr, nil
}

// storeJudged judges items[idx...] against the policy and the chains,
// holds the pending ones, and stores those that pass, writing their
// results into res. When heads is not nil, it records there the head of
// each organisation judged before anything is stored.
func (n *Node) storeJudged(ctx context.Context, items []store.Incoming, idx []int, res []store.Result, heads map[peer.ID]protocol.Hash) error {
	if len(idx) == 0 {
		return nil
	}
	rules := n.policy.load()
	counted := map[peer.ID]int{} // operations per organisation in this round
	var keep []store.Incoming
	var at []int
	for _, i := range idx {
		in := items[i]
		a := in.Signed.Announcement()
		if !rules.keeps(a.Publisher) {
			n.stats.ignored[reasonIndex(ReasonPolicy)].Add(1)
			continue
		}
		c, err := n.orgs.authorise(in.Signed)
		if heads != nil && c != nil {
			if _, ok := heads[a.Publisher]; !ok {
				heads[a.Publisher] = headHash(c)
			}
		}
		if err == nil && c != nil && isOp(in.Signed) {
			if _, stored := c.Op(in.Signed.Hash()); !stored {
				if counted[a.Publisher]++; len(c.Ops())+counted[a.Publisher] > protocol.MaxOrgOps {
					err = ErrOrgQuota
				}
			}
		}
		if ok, ferr := n.judged(in, err); ferr != nil {
			return ferr
		} else if ok {
			keep = append(keep, in)
			at = append(at, i)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	r, err := n.storeBatch(ctx, keep)
	if err != nil {
		return err
	}
	for k, i := range at {
		res[i] = r[k]
	}
	return nil
}

// judged acts on the verdict err of orgs.authorise for in on the apply
// path: it reports whether to store in, holds it when pending, and counts
// why it is skipped otherwise. It fails only if the store cannot be read.
func (n *Node) judged(in store.Incoming, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, protocol.ErrChainPending):
		from, _ := peer.Decode(in.From)
		if n.pending.hold(in.Signed, from, n.orgs.generation()) == holdOK {
			n.stats.ignored[reasonIndex(ReasonPending)].Add(1)
		}
	case errors.Is(err, protocol.ErrUnauthorised):
		n.stats.rejected[reasonIndex(ReasonUnauthorised)].Add(1)
	case errors.Is(err, protocol.ErrRevoked):
		n.stats.ignored[reasonIndex(ReasonRevoked)].Add(1)
	case errors.Is(err, ErrOrgQuota):
		n.stats.ignored[reasonIndex(ReasonQuota)].Add(1)
	default:
		return false, err
	}
	return false, nil
}

// afterRound removes the records that lost their authority when a head
// changed, and rebuilds the trust policy after a followed organisation's
// list changed.
func (n *Node) afterRound(ctx context.Context, rr roundResult) error {
	for _, org := range rr.newHeads {
		k, err := n.reauthorise(ctx, org)
		if err != nil {
			return err
		}
		if k > 0 && n.policy.load().follows(org) {
			rr.lists = true // a list may have been among them
		}
	}
	if rr.lists {
		return n.refreshPolicy(ctx, n.policy.load().trust)
	}
	return nil
}

// reauthorise judges every stored record of org against its chain again
// and removes those it no longer authorises (PROTOCOL.md 12, records that
// lose authority), with their seen hashes, so they can come back if the
// head changes again. It returns how many it removed. The caller holds
// quotaMu.
func (n *Node) reauthorise(ctx context.Context, org peer.ID) (int, error) {
	c, err := n.orgs.chain(org)
	if err != nil {
		return 0, err
	}
	k, err := n.store.RemoveWhere(ctx, org, func(sg *protocol.Signed) bool {
		if isOp(sg) {
			return false // operations are judged by the chain itself, never removed
		}
		err := c.Authorise(sg.Announcement(), sg.Signer())
		return err != nil && !errors.Is(err, protocol.ErrChainPending)
	})
	if err != nil {
		return 0, fmt.Errorf("remove the records of %s its new head does not authorise: %w", org, err)
	}
	if k > 0 {
		n.log.Info("Removed records an organisation's new head does not authorise.", "org", org, "records", k, "head", headHash(c))
		n.notifyIndex(org)
	}
	return k, nil
}

// notifyIndex tells the search index that pub's records changed.
func (n *Node) notifyIndex(pub peer.ID) {
	if n.index != nil {
		n.index.Notify(pub, "")
	}
}
