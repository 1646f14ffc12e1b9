package protocol

import (
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Org returns the organisation's ID.
func (c *Chain) Org() peer.ID { return c.org }

// Known reports whether the genesis is held: without it nothing of the
// organisation can be checked.
func (c *Chain) Known() bool { return c.gen != nil }

// Genesis returns the genesis operation, nil when the chain is unknown.
func (c *Chain) Genesis() *Signed {
	if c.gen == nil {
		return nil
	}
	return c.gen.Op
}

// Head returns the last operation of the canonical chain, nil when the
// chain is unknown.
func (c *Chain) Head() *Signed {
	if len(c.canon) == 0 {
		return nil
	}
	return c.canon[len(c.canon)-1].Op
}

// headOp returns the head's key state, nil when the chain is unknown.
func (c *Chain) headOp() *OrgOp {
	if len(c.canon) == 0 {
		return nil
	}
	return c.canon[len(c.canon)-1].op
}

// Name returns the organisation's name at the head, "" when unknown.
func (c *Chain) Name() string {
	if o := c.headOp(); o != nil {
		return o.Name
	}
	return ""
}

// Keys returns the rotation keys at the head, highest priority first.
func (c *Chain) Keys() []peer.ID {
	if o := c.headOp(); o != nil {
		return o.Keys
	}
	return nil
}

// Delegates returns the delegations at the head.
func (c *Chain) Delegates() []Delegation {
	if o := c.headOp(); o != nil {
		return o.Delegates
	}
	return nil
}

// Revocations returns the revocations at the head.
func (c *Chain) Revocations() []Revocation {
	if o := c.headOp(); o != nil {
		return o.Revoked
	}
	return nil
}

// Adopts returns the plain publisher the genesis adopts, if the head
// lists that key as a delegate or a revoked delegate (its signatures on
// the republished records prove its consent); "" otherwise.
func (c *Chain) Adopts() peer.ID {
	o := c.headOp()
	if o == nil || c.gen.op.Adopts == "" || !o.listsKey(c.gen.op.Adopts) {
		return ""
	}
	return c.gen.op.Adopts
}

// Ops returns every operation of the organisation held: the canonical
// chain from the genesis to the head, then abandoned, pending and broken
// operations, each group by seq and hash.
func (c *Chain) Ops() []ChainOp {
	out := make([]ChainOp, len(c.all))
	for i, x := range c.all {
		out[i] = x.ChainOp
	}
	return out
}

// Op returns the judgement of the operation with hash h, if held.
func (c *Chain) Op(h Hash) (ChainOp, bool) {
	if x, ok := c.byH[h]; ok {
		return x.ChainOp, true
	}
	return ChainOp{}, false
}

// Equivocations returns the identity equivocations among the linked
// operations, by prev and signer.
func (c *Chain) Equivocations() []OrgEquivocation { return c.equiv }

// KeyRole is what a key is to an organisation at the head.
type KeyRole uint8

// The roles of a key.
const (
	// KeyUnknown: the head does not name the key (or the chain is unknown).
	KeyUnknown KeyRole = iota
	// KeyRotation: one of the head's rotation keys.
	KeyRotation
	// KeyDelegated: a delegate of the head.
	KeyDelegated
	// KeyRevoked: a revoked delegate.
	KeyRevoked
)

// String returns the role's name: unknown, rotation, delegated, revoked.
func (r KeyRole) String() string {
	switch r {
	case KeyRotation:
		return "rotation"
	case KeyDelegated:
		return "delegated"
	case KeyRevoked:
		return "revoked"
	}
	return "unknown"
}

// KeyStatus is what the head says of one key.
type KeyStatus struct {
	// Role is the key's role.
	Role KeyRole
	// Priority is a rotation key's index in the head's keys (0 highest).
	Priority int
	// May lists the kinds a delegate may (or a revoked delegate could)
	// publish.
	May []Kind
	// Until ends a delegation when not zero.
	Until time.Time
	// From and Through bound the records of a revoked delegate that stay
	// valid: time before From and seq at most Through.
	From    time.Time
	Through uint64
}

// Status returns what the head says of key.
func (c *Chain) Status(key peer.ID) KeyStatus {
	o := c.headOp()
	if o == nil {
		return KeyStatus{}
	}
	if i := slices.Index(o.Keys, key); i >= 0 {
		return KeyStatus{Role: KeyRotation, Priority: i}
	}
	for _, d := range o.Delegates {
		if d.Key == key {
			return KeyStatus{Role: KeyDelegated, May: d.May, Until: d.Until}
		}
	}
	for _, r := range o.Revoked {
		if r.Key == key {
			return KeyStatus{Role: KeyRevoked, May: r.May, From: r.From, Through: r.Through}
		}
	}
	return KeyStatus{}
}

// Authorise decides whether the chain, as held, authorises a record of
// the organisation signed by signer (PROTOCOL.md 12.6). It returns nil, or
// an error wrapping ErrChainPending, ErrUnauthorised or ErrRevoked. For an
// operation (KindOrg) it checks that it links to its prev: nil for the
// genesis and for an operation that links, ErrChainPending when its prev
// is not linked yet, ErrUnauthorised when it never can.
func (c *Chain) Authorise(a *Announcement, signer peer.ID) error {
	if a.Publisher != c.org {
		return fmt.Errorf("%w: a record of %s is not judged by the chain of %s", ErrUnauthorised, a.Publisher, c.org)
	}
	if a.Kind == KindOrg {
		return c.authoriseOp(a, signer)
	}
	if c.gen == nil {
		return fmt.Errorf("%w: the genesis of %s is not held", ErrChainPending, c.org)
	}
	x, ok := c.byH[a.Auth]
	switch {
	case !ok:
		return fmt.Errorf("%w: operation %s (auth) is not held", ErrChainPending, a.Auth)
	case x.State == OpPending:
		return fmt.Errorf("%w: operation %s (auth) does not link yet: %s", ErrChainPending, a.Auth, x.Reason)
	case x.State == OpBroken:
		return fmt.Errorf("%w: operation %s (auth) can never link: %s", ErrUnauthorised, a.Auth, x.Reason)
	}
	if !slices.ContainsFunc(x.op.Delegates, func(d Delegation) bool { return d.Key == signer && slices.Contains(d.May, a.Kind) }) {
		return fmt.Errorf("%w: operation %s (auth) does not delegate %s for %s", ErrUnauthorised, a.Auth, signer, a.Kind)
	}
	return c.byHead(a, signer)
}

// byHead is step 4 of authorisation: the head's status of the signer.
func (c *Chain) byHead(a *Announcement, signer peer.ID) error {
	st := c.Status(signer)
	may := slices.Contains(st.May, a.Kind)
	switch {
	case st.Role == KeyDelegated && may && (st.Until.IsZero() || a.Time.Before(st.Until)):
		return nil
	case st.Role == KeyRevoked && may && a.Time.Before(st.From) && a.Seq <= st.Through:
		return nil
	case st.Role == KeyDelegated && may:
		return fmt.Errorf("%w: the delegation of %s ended at %s", ErrRevoked, signer, st.Until.Format(time.RFC3339))
	case st.Role == KeyRevoked && may:
		return fmt.Errorf("%w: %s is revoked from %s, through seq %d", ErrRevoked, signer, st.From.Format(time.RFC3339), st.Through)
	case st.Role == KeyUnknown:
		return fmt.Errorf("%w: the head does not name %s", ErrRevoked, signer)
	}
	return fmt.Errorf("%w: the head does not let %s (%s) publish %s", ErrRevoked, signer, st.Role, a.Kind)
}

// authoriseOp is Authorise for an operation.
func (c *Chain) authoriseOp(a *Announcement, signer peer.ID) error {
	if a.Org == nil {
		return fmt.Errorf("%w: kind org without an operation", ErrUnauthorised)
	}
	if a.Org.Prev.IsZero() {
		return nil // the publisher is derived from its payload: it is this org's genesis
	}
	p, ok := c.byH[a.Org.Prev]
	switch {
	case c.gen == nil:
		return fmt.Errorf("%w: the genesis of %s is not held", ErrChainPending, c.org)
	case !ok:
		return fmt.Errorf("%w: prev %s is not held", ErrChainPending, a.Org.Prev)
	case p.State == OpPending:
		return fmt.Errorf("%w: prev %s does not link yet: %s", ErrChainPending, a.Org.Prev, p.Reason)
	case p.State == OpBroken:
		return fmt.Errorf("%w: prev %s can never link: %s", ErrUnauthorised, a.Org.Prev, p.Reason)
	}
	if why := linkProblem(p.Op, a, signer); why != "" {
		return fmt.Errorf("%w: %s", ErrUnauthorised, why)
	}
	return nil
}
