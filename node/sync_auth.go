package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Authorising what sync fetches (PROTOCOL.md 9.7 and 12): a record of an
// organisation is stored only when the organisation's chain, as this node
// holds it, authorises it, exactly as gossip decides. A plain publisher's
// record needs no chain (section 3.1 has checked its signer).

// maxHeldPerSession bounds the records a session holds because their
// chain is pending (design section 9's bound for a node's pool); past it,
// the oldest go. Each was asked for, so at most 4,096 arrive per message.
const maxHeldPerSession = 1024

// fetched sorts the envelopes of one message, with those still held from
// earlier messages of the session, by what judging them needs.
type fetched struct {
	plain []*protocol.Signed             // publisher is a key: no chain
	ops   map[peer.ID][]*protocol.Signed // organisation operations, by org
	rest  []*protocol.Signed             // other records of organisations
	order []peer.ID                      // the orgs of ops, in arrival order
}

func sortFetched(recs []*protocol.Signed) *fetched {
	f := &fetched{ops: map[peer.ID][]*protocol.Signed{}}
	for _, sg := range recs {
		a := sg.Announcement()
		switch {
		case protocol.IsKey(a.Publisher):
			f.plain = append(f.plain, sg)
		case a.Kind == protocol.KindOrg:
			if _, ok := f.ops[a.Publisher]; !ok {
				f.order = append(f.order, a.Publisher)
			}
			f.ops[a.Publisher] = append(f.ops[a.Publisher], sg)
		default:
			f.rest = append(f.rest, sg)
		}
	}
	return f
}

// storeFetched authorises and stores the envelopes of one message. Every
// record of an organisation is first judged by a chain of the operations
// stored here plus those of the message (so an operation whose prev
// arrives in the same message links): one the chain proves unauthorised
// is a violation (the peer served a record no replica may hold), found
// before anything of the message is stored (PROTOCOL.md 9.10). The
// operations that link are stored first, with the plain records; the
// other records are then judged again by the chains as now stored (an
// operation may not have been kept, over quota). A record whose chain is
// pending is held and judged again with the next message; one the head no
// longer authorises is skipped without penalty (the peer's chain view may
// be older than ours).
func (ss *session) storeFetched(ctx context.Context, opened []*protocol.Signed) error {
	recs := opened
	if len(ss.held) > 0 {
		recs = append(ss.held, opened...)
		ss.held = nil
	}
	f := sortFetched(recs)
	var ops []*protocol.Signed
	for _, org := range f.order {
		ops = append(ops, f.ops[org]...)
	}
	pre := ss.chains(f.ops)
	ok, err := ss.authorise(ops, pre)
	if err != nil {
		return err
	}
	if err := vetFetched(f.rest, pre); err != nil {
		return err
	}
	if err := ss.storeBatch(ctx, append(f.plain, ok...)); err != nil {
		return err
	}
	if ok, err = ss.authorise(f.rest, ss.chains(nil)); err != nil {
		return err
	}
	if err := ss.storeBatch(ctx, ok); err != nil {
		return err
	}
	if k := len(ss.held) - maxHeldPerSession; k > 0 {
		ss.held = append(ss.held[:0:0], ss.held[k:]...)
		ss.dropped += k
	}
	return nil
}

// chains returns a function giving an organisation's chain from the
// operations stored here plus extra's, each built once per call of chains.
func (ss *session) chains(extra map[peer.ID][]*protocol.Signed) func(peer.ID) (*protocol.Chain, error) {
	built := map[peer.ID]*protocol.Chain{}
	return func(org peer.ID) (*protocol.Chain, error) {
		if c, ok := built[org]; ok {
			return c, nil
		}
		ops, err := ss.n.store.OrgOps(org)
		if err != nil {
			return nil, fmt.Errorf("read the operations of %s: %w", org, err)
		}
		c := protocol.NewChain(org, append(ops, extra[org]...))
		built[org] = c
		return c, nil
	}
}

// authorise returns the records of recs their chains authorise; it holds
// the pending ones in ss.held and counts the skipped ones.
func (ss *session) authorise(recs []*protocol.Signed, chain func(peer.ID) (*protocol.Chain, error)) ([]*protocol.Signed, error) {
	var ok []*protocol.Signed
	for _, sg := range recs {
		a := sg.Announcement()
		c, err := chain(a.Publisher)
		if err != nil {
			return nil, err
		}
		switch err := c.Authorise(a, sg.Signer()); {
		case err == nil:
			ok = append(ok, sg)
		case errors.Is(err, protocol.ErrChainPending):
			ss.held = append(ss.held, sg)
		case errors.Is(err, protocol.ErrRevoked):
			ss.revoked++
		case errors.Is(err, protocol.ErrUnauthorised):
			return nil, servedUnauthorised(a, err)
		default:
			return nil, err
		}
	}
	return ok, nil
}

// vetFetched returns a violation if a chain proves one of recs unauthorised.
func vetFetched(recs []*protocol.Signed, chain func(peer.ID) (*protocol.Chain, error)) error {
	for _, sg := range recs {
		a := sg.Announcement()
		c, err := chain(a.Publisher)
		if err != nil {
			return err
		}
		if err := c.Authorise(a, sg.Signer()); errors.Is(err, protocol.ErrUnauthorised) {
			return servedUnauthorised(a, err)
		}
	}
	return nil
}

func servedUnauthorised(a *protocol.Announcement, err error) error {
	return fmt.Errorf("%w: served an unauthorised record %s/%d: %v", protocol.ErrSyncViolation, a.Publisher, a.Seq, err)
}

// storeBatch stores recs and counts what changed.
func (ss *session) storeBatch(ctx context.Context, recs []*protocol.Signed) error {
	if len(recs) == 0 {
		return nil
	}
	batch := make([]store.Incoming, len(recs))
	for i, sg := range recs {
		batch[i] = store.Incoming{Signed: sg, From: ss.peer.String()}
	}
	res, err := ss.n.apply(context.WithoutCancel(ctx), batch)
	if err != nil {
		return fmt.Errorf("store synced announcements: %w", err)
	}
	k := 0
	for _, r := range res {
		if r.Outcome == store.Applied {
			k++
		}
		if r.Outcome == store.Applied || r.Equivocation {
			ss.learned++
		}
	}
	ss.applied += k
	ss.n.stats.syncApplied.Add(uint64(k))
	return nil
}
