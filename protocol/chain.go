package protocol

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// OpState is the place of an operation in its organisation's chain.
type OpState uint8

// The states of an operation (PROTOCOL.md 12.4).
const (
	// OpCanonical: linked and on the canonical chain, genesis to head.
	OpCanonical OpState = iota
	// OpAbandoned: linked, but on a branch the canonical chain does not
	// take (overturned, or a losing sibling).
	OpAbandoned
	// OpPending: not linked yet: an operation between it and the genesis
	// (or the genesis) is not held. It may link when that arrives.
	OpPending
	// OpBroken: can never link: it breaks a linking rule against its prev,
	// or its prev is broken.
	OpBroken
)

// String returns the state's name: canonical, abandoned, pending, broken.
func (s OpState) String() string {
	switch s {
	case OpCanonical:
		return "canonical"
	case OpAbandoned:
		return "abandoned"
	case OpPending:
		return "pending"
	case OpBroken:
		return "broken"
	}
	return fmt.Sprintf("OpState(%d)", uint8(s))
}

// Linked reports whether the state is canonical or abandoned.
func (s OpState) Linked() bool { return s == OpCanonical || s == OpAbandoned }

// ChainOp is one operation as its chain judges it.
type ChainOp struct {
	// Op is the operation.
	Op *Signed
	// State is its place in the chain.
	State OpState
	// Reason says why a pending or broken operation is not linked.
	Reason string
	// Rank is, for a linked operation other than the genesis, its
	// effective rank among its siblings (0 is the highest); -1 otherwise.
	Rank int
}

// OrgEquivocation is an identity equivocation: linked operations with the
// same prev signed by the same rotation key. (One payload may be held
// signed by several keys, since the hash covers the payload only; every
// signature that links counts, for equivocation and for ratification.)
type OrgEquivocation struct {
	// Prev is the hash of the operation they all follow.
	Prev Hash
	// Signer is the rotation key that signed them all.
	Signer peer.ID
	// Ops are their hashes, in increasing order.
	Ops []Hash
}

// Chain is an organisation's operation log as one replica holds it
// (PROTOCOL.md 12.4): made by NewChain, immutable afterwards and safe for
// concurrent use. Callers must not modify what it returns.
type Chain struct {
	org   peer.ID
	gen   *chainOp // nil when the chain is unknown
	byH   map[Hash]*chainOp
	canon []*chainOp // genesis to head; empty when the chain is unknown
	all   []*chainOp // in the order of Ops
	equiv []OrgEquivocation
}

// chainOp is an operation while NewChain judges it.
type chainOp struct {
	ChainOp
	op       *OrgOp
	signedBy []peer.ID // its signer, once it links
	parent   *chainOp
	children []*chainOp // linked children, by hash
	signers  map[peer.ID]bool
	done     bool // state decided
}

func (x *chainOp) hash() Hash { return x.Op.Hash() }

// NewChain judges the operations of org among ops (anything else in ops
// is ignored): which link, which form the canonical chain, which
// equivocate. The result depends only on the set of operations, not on
// their order or duplicates. Its work is bounded by a small polynomial in
// len(ops) (at most MaxOrgOps per organisation are ever kept).
func NewChain(org peer.ID, ops []*Signed) *Chain {
	c := &Chain{org: org, byH: make(map[Hash]*chainOp)}
	for _, s := range ops {
		a := s.Announcement()
		if a.Kind != KindOrg || a.Org == nil || a.Publisher != org {
			continue
		}
		if c.byH[s.Hash()] != nil {
			// A duplicate: the payload names its signer (PROTOCOL.md
			// 12.3), so every envelope of one hash has the same signer.
			continue
		}
		c.byH[s.Hash()] = &chainOp{ChainOp: ChainOp{Op: s, Rank: -1}, op: a.Org}
	}
	for _, h := range slices.SortedFunc(maps.Keys(c.byH), compareHash) {
		c.decide(c.byH[h])
	}
	if c.gen != nil {
		c.rank(c.gen)
		c.canonical(c.gen)
		c.findEquivocations()
	}
	c.order()
	return c
}

// decide sets the state of x and of every operation between it and the
// genesis, walking prev links without recursion.
func (c *Chain) decide(x *chainOp) {
	var path []*chainOp
	seen := make(map[*chainOp]bool)
	for cur := x; cur != nil && !cur.done; {
		if seen[cur] { // impossible with real hashes; kept finite anyway
			cur.State, cur.Reason, cur.done = OpBroken, "prev loops back to it", true
			break
		}
		seen[cur] = true
		path = append(path, cur)
		if cur.op.Prev.IsZero() {
			break
		}
		cur = c.byH[cur.op.Prev]
	}
	for i := len(path) - 1; i >= 0; i-- {
		cur := path[i]
		if cur.done {
			continue
		}
		cur.done = true
		c.decideOne(cur)
	}
}

// decideOne sets the state of x, whose prev (if held) is decided. Linked
// operations are OpAbandoned until canonical marks the chain.
func (c *Chain) decideOne(x *chainOp) {
	if x.op.Prev.IsZero() {
		if orgIDFromHash(x.hash()) == c.org {
			x.State, c.gen = OpAbandoned, x
			x.signedBy = []peer.ID{x.Op.Signer()}
		} else {
			x.State, x.Reason = OpBroken, "a genesis of another organisation"
		}
		return
	}
	p := c.byH[x.op.Prev]
	switch {
	case p == nil:
		x.State, x.Reason = OpPending, "prev "+x.op.Prev.String()+" is not held"
	case p.State == OpPending:
		x.State, x.Reason = OpPending, p.Reason
	case p.State == OpBroken:
		x.State, x.Reason = OpBroken, "prev "+p.hash().String()+" is broken"
	default:
		if why := linkProblem(p.Op, x.Op.Announcement(), x.Op.Signer()); why != "" {
			x.State, x.Reason = OpBroken, why
			return
		}
		x.signedBy = []peer.ID{x.Op.Signer()}
		x.State, x.parent = OpAbandoned, p
		p.children = append(p.children, x)
	}
}

// linkProblem says why operation a signed by signer cannot follow the
// linked operation p, or "" if it can (PROTOCOL.md 12.4, linking).
func linkProblem(p *Signed, a *Announcement, signer peer.ID) string {
	pa, po := p.Announcement(), p.Announcement().Org
	switch {
	case !slices.Contains(po.Keys, signer):
		return fmt.Sprintf("signer %s is not a rotation key of prev", signer)
	case a.Seq <= pa.Seq:
		return fmt.Sprintf("seq %d is not above prev's %d", a.Seq, pa.Seq)
	case a.Time.Before(pa.Time):
		return "time is before prev's"
	}
	o := a.Org
	for _, d := range po.Delegates {
		if !o.listsKey(d.Key) {
			return fmt.Sprintf("delegate %s of prev is neither delegated nor revoked", d.Key)
		}
	}
	for _, r := range po.Revoked {
		i := slices.IndexFunc(o.Revoked, func(q Revocation) bool { return q.Key == r.Key })
		if i < 0 || !sameRevocation(o.Revoked[i], r) {
			return fmt.Sprintf("revoked entry of %s is dropped or changed", r.Key)
		}
	}
	return ""
}

// listsKey reports whether k is a delegate or revoked in o.
func (o *OrgOp) listsKey(k peer.ID) bool {
	return slices.ContainsFunc(o.Delegates, func(d Delegation) bool { return d.Key == k }) ||
		slices.ContainsFunc(o.Revoked, func(r Revocation) bool { return r.Key == k })
}

func sameRevocation(a, b Revocation) bool {
	return a.Key == b.Key && slices.Equal(a.May, b.May) && a.From.Equal(b.From) && a.Through == b.Through
}

// rank computes, bottom-up, the signers of every linked subtree and the
// effective rank of every linked operation but the genesis: the lowest
// index in its parent's keys of a key that signed it or anything on it.
func (c *Chain) rank(g *chainOp) {
	order := []*chainOp{g} // breadth first: parents before children
	for i := 0; i < len(order); i++ {
		x := order[i]
		slices.SortFunc(x.children, func(a, b *chainOp) int { return compareHash(a.hash(), b.hash()) })
		order = append(order, x.children...)
	}
	for i := len(order) - 1; i >= 0; i-- {
		x := order[i]
		x.signers = make(map[peer.ID]bool)
		for _, s := range x.signedBy {
			x.signers[s] = true
		}
		for _, ch := range x.children {
			for s := range ch.signers {
				x.signers[s] = true
			}
			ch.Rank = slices.IndexFunc(x.op.Keys, func(k peer.ID) bool { return ch.signers[k] })
		}
	}
}

// canonical marks the canonical chain: from the genesis, the child of
// lowest rank, ties to the lower hash.
func (c *Chain) canonical(g *chainOp) {
	for x := g; x != nil; {
		x.State = OpCanonical
		c.canon = append(c.canon, x)
		var next *chainOp
		for _, ch := range x.children { // sorted by hash: the first of a rank wins
			if next == nil || ch.Rank < next.Rank {
				next = ch
			}
		}
		x = next
	}
}

// findEquivocations lists the linked siblings that share a signer.
func (c *Chain) findEquivocations() {
	for _, x := range c.byH {
		bySigner := make(map[peer.ID][]Hash)
		for _, ch := range x.children {
			for _, s := range ch.signedBy {
				bySigner[s] = append(bySigner[s], ch.hash())
			}
		}
		for s, hs := range bySigner {
			if len(hs) > 1 {
				c.equiv = append(c.equiv, OrgEquivocation{Prev: x.hash(), Signer: s, Ops: hs})
			}
		}
	}
	slices.SortFunc(c.equiv, func(a, b OrgEquivocation) int {
		return cmp.Or(compareHash(a.Prev, b.Prev), cmp.Compare(a.Signer, b.Signer))
	})
}

// order sorts the operations for Ops: canonical chain first, then
// abandoned, pending and broken ones, each by seq and hash.
func (c *Chain) order() {
	c.all = append(c.all, c.canon...)
	var rest []*chainOp
	for _, x := range c.byH {
		if x.State != OpCanonical {
			rest = append(rest, x)
		}
	}
	slices.SortFunc(rest, func(a, b *chainOp) int {
		return cmp.Or(cmp.Compare(a.State, b.State), cmp.Compare(a.Op.Announcement().Seq, b.Op.Announcement().Seq), compareHash(a.hash(), b.hash()))
	})
	c.all = append(c.all, rest...)
}

func compareHash(a, b Hash) int { return bytes.Compare(a[:], b[:]) }
