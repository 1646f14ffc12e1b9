package node

import (
	"cmp"
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
//  1. the batch's operations, with the pending operations they make
//     linkable (taken out of the pool), are judged together (opJudge)
//     and stored first, in one write (released operations are published
//     as in step 5), then the chains of their organisations are rebuilt;
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
// The caller holds quotaMu. d applies to batch and to what it releases.
func (n *Node) applyLocked(ctx context.Context, batch []store.Incoming, d durability) ([]store.Result, []*protocol.Signed, error) {
	var released []*protocol.Signed
	var out []store.Result
	items, own := batch, len(batch) // the first own items are the caller's
	for rounds := 0; len(items) > 0 && rounds <= MaxPending; rounds++ {
		items = n.withLinkableOps(items)
		rr, err := n.applyRound(ctx, items, d)
		if err != nil {
			return nil, nil, err
		}
		if rounds == 0 {
			out = rr.res[:own:own]
		}
		for i := own; i < len(items); i++ {
			if r := rr.res[i]; r.Outcome == store.Applied || r.Equivocation {
				released = append(released, items[i].Signed)
			}
		}
		own = 0
		if err := n.afterRound(ctx, rr); err != nil {
			return nil, nil, err
		}
		items = n.releasePending(rr.newOps)
	}
	return out, released, nil
}

// withLinkableOps returns items followed by the operations the pending
// pool holds that the operations among items make linkable, taken out of
// the pool: an operation and those that waited for it are judged
// together and stored in one write, so that no reader of the store (a
// sync peer, the search index) sees a chain stop at an operation whose
// successors this node already holds. An operation released here is
// judged again by opJudge; one that turns out pending after all (its
// prev was refused) goes back to the pool.
func (n *Node) withLinkableOps(items []store.Incoming) []store.Incoming {
	round := map[peer.ID][]*protocol.Signed{}
	var orgIDs []peer.ID
	in := map[protocol.Hash]bool{}
	for _, it := range items {
		if isOp(it.Signed) {
			org := it.Signed.Announcement().Publisher
			if round[org] == nil {
				orgIDs = append(orgIDs, org)
			}
			round[org] = append(round[org], it.Signed)
			in[it.Signed.Hash()] = true
		}
	}
	out := slices.Clip(items)
	for _, org := range orgIDs {
		held := n.pending.ops(org)
		if len(held) == 0 {
			continue
		}
		c, err := n.orgs.chain(org)
		if err != nil {
			continue // the round reports it
		}
		next := withOps(c, org, append(round[org], held...))
		pick := map[protocol.Hash]bool{}
		for _, sg := range held {
			if op, ok := next.Op(sg.Hash()); ok && op.State.Linked() || in[sg.Hash()] {
				pick[sg.Hash()] = true
			}
		}
		for _, h := range n.pending.takeHashes(org, pick) {
			if !in[h.sg.Hash()] {
				out = append(out, store.Incoming{Signed: h.sg, From: fromString(h.from)})
			}
		}
	}
	return out
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
func (n *Node) applyRound(ctx context.Context, items []store.Incoming, d durability) (roundResult, error) {
	rr := roundResult{res: make([]store.Result, len(items))}
	var ops, rest []int
	for i, in := range items {
		if isOp(in.Signed) {
			ops = append(ops, i)
		} else {
			rest = append(rest, i)
		}
	}
	oj := n.newOpJudge(items, ops)
	if err := n.storeJudged(ctx, items, ops, rr.res, oj.judge, d); err != nil {
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
			if b := oj.heads[org]; !b.IsZero() && headHash(c) != b {
				rr.newHeads = append(rr.newHeads, org)
			}
		}
	}
	if err := n.storeJudged(ctx, items, rest, rr.res, n.authorised, d); err != nil {
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

// authorised is the verdict of orgs.authorise on sg.
func (n *Node) authorised(sg *protocol.Signed) error {
	_, err := n.orgs.authorise(sg)
	return err
}

// storeJudged judges items[idx...] against the policy and by judge, holds
// the pending ones, and stores those that pass in one write, in the order
// of idx, writing their results into res.
func (n *Node) storeJudged(ctx context.Context, items []store.Incoming, idx []int, res []store.Result, judge func(*protocol.Signed) error, d durability) error {
	if len(idx) == 0 {
		return nil
	}
	rules := n.policy.load()
	var keep []store.Incoming
	var at []int
	for _, i := range idx {
		in := items[i]
		if !rules.keeps(in.Signed.Announcement().Publisher) {
			n.stats.ignored[reasonIndex(ReasonPolicy)].Add(1)
			continue
		}
		if ok, ferr := n.judged(in, judge(in.Signed)); ferr != nil {
			return ferr
		} else if ok {
			keep = append(keep, in)
			at = append(at, i)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	r, err := n.storeBatch(ctx, keep, d)
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

// opJudge judges the operations of one round (applyRound) against the
// chain of the operations stored and those of the round, so that an
// operation whose prev comes in the same round (from the batch or from
// the pending pool, withLinkableOps) links, and both are stored in one
// write. The operations are judged in seq order, as a prev always has
// the lower seq (PROTOCOL.md 12.4), and one is stored only if its prev is
// stored already or is judged storable before it: whatever refuses a
// prev (policy, quota), no operation is stored without it (12.10).
type opJudge struct {
	n      *Node
	round  map[peer.ID][]*protocol.Signed // the round's operations, by organisation
	chains map[peer.ID]*opChains
	// heads holds the head of each organisation judged, before the round.
	heads map[peer.ID]protocol.Hash
}

// opChains is what opJudge knows of one organisation.
type opChains struct {
	held *protocol.Chain        // as stored
	next *protocol.Chain        // held's operations and the round's
	kept map[protocol.Hash]bool // the round's operations judged storable
}

// newOpJudge returns the judge of items[ops...] and sorts ops by seq.
func (n *Node) newOpJudge(items []store.Incoming, ops []int) *opJudge {
	slices.SortStableFunc(ops, func(x, y int) int {
		return cmp.Compare(items[x].Signed.Announcement().Seq, items[y].Signed.Announcement().Seq)
	})
	j := &opJudge{n: n, round: map[peer.ID][]*protocol.Signed{}, chains: map[peer.ID]*opChains{}, heads: map[peer.ID]protocol.Hash{}}
	for _, i := range ops {
		sg := items[i].Signed
		j.round[sg.Announcement().Publisher] = append(j.round[sg.Announcement().Publisher], sg)
	}
	return j
}

// judge is the verdict on operation sg, as orgs.authorise gives it (the
// same errors), against the chain with the round's operations.
func (j *opJudge) judge(sg *protocol.Signed) error {
	a := sg.Announcement()
	oc := j.chains[a.Publisher]
	if oc == nil {
		held, err := j.n.orgs.chain(a.Publisher)
		if err != nil {
			return err
		}
		oc = &opChains{held: held, next: withOps(held, a.Publisher, j.round[a.Publisher]), kept: map[protocol.Hash]bool{}}
		j.chains[a.Publisher], j.heads[a.Publisher] = oc, headHash(held)
	}
	if _, stored := oc.held.Op(sg.Hash()); stored {
		return oc.held.Authorise(a, sg.Signer()) // the store finds it a duplicate
	}
	if k := len(oc.held.Ops()) + len(oc.kept); k >= protocol.MaxOrgOps {
		return fmt.Errorf("%w: %s holds %d", ErrOrgQuota, a.Publisher, k)
	}
	if err := oc.next.Authorise(a, sg.Signer()); err != nil {
		return err
	}
	if p := a.Org.Prev; !p.IsZero() && !oc.kept[p] {
		if _, stored := oc.held.Op(p); !stored {
			return fmt.Errorf("%w: prev %s is not stored", protocol.ErrChainPending, p)
		}
	}
	oc.kept[sg.Hash()] = true
	return nil
}
