package protocol

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The helpers below derive operations for the CLI and the surfaces. They
// are pure: the caller passes the time, and seals the result with a
// rotation key (Seal): a genesis with rotationKeys[0], any later
// operation with a key of the head it follows.

// NewGenesis returns the genesis operation of a new organisation named
// name, with rotationKeys (highest priority first) and the delegations
// given, at time t. The announcement is validated, not sealed.
func NewGenesis(name string, rotationKeys []crypto.PubKey, t time.Time, delegates ...Delegation) (*Announcement, error) {
	keys, err := keyIDs(rotationKeys)
	if err != nil {
		return nil, err
	}
	a := &Announcement{V: Version, Seq: 1, Time: t.UTC(), Kind: KindOrg, Org: &OrgOp{
		Name: name, Keys: keys, Delegates: slices.Clone(delegates),
	}}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// NextOp returns an operation that follows head and changes nothing: its
// prev is head's hash, its key state a copy of head's. seq 0 means head's
// seq + 1; any other seq must be above head's; t must not be before head's
// time. The other helpers start from it.
func NextOp(head *Signed, seq uint64, t time.Time) (*Announcement, error) {
	ha := head.Announcement()
	if ha.Kind != KindOrg || ha.Org == nil {
		return nil, fmt.Errorf("%s is not an organisation operation", head.Hash())
	}
	if seq == 0 {
		seq = ha.Seq + 1
	}
	if seq <= ha.Seq {
		return nil, fmt.Errorf("seq %d is not above the head's %d", seq, ha.Seq)
	}
	if t.Before(ha.Time) {
		return nil, fmt.Errorf("time %s is before the head's %s", t.Format(time.RFC3339), ha.Time.Format(time.RFC3339))
	}
	o := ha.Org
	next := &OrgOp{Prev: head.Hash(), Name: o.Name, Keys: slices.Clone(o.Keys), Revoked: slices.Clone(o.Revoked)}
	for _, d := range o.Delegates {
		d.May = slices.Clone(d.May)
		next.Delegates = append(next.Delegates, d)
	}
	for i := range next.Revoked {
		next.Revoked[i].May = slices.Clone(next.Revoked[i].May)
	}
	return &Announcement{V: Version, Publisher: ha.Publisher, Seq: seq, Time: t.UTC(), Kind: KindOrg, Org: next}, nil
}

// Delegate returns the operation after head that delegates d.Key for
// d.May until d.Until (zero: no end), replacing the key's delegation if
// it has one. A rotation key or a revoked key cannot be delegated.
func Delegate(head *Signed, seq uint64, t time.Time, d Delegation) (*Announcement, error) {
	a, err := NextOp(head, seq, t)
	if err != nil {
		return nil, err
	}
	o := a.Org
	switch {
	case slices.Contains(o.Keys, d.Key):
		return nil, fmt.Errorf("%s is a rotation key: rotation keys are never delegates", d.Key)
	case slices.ContainsFunc(o.Revoked, func(r Revocation) bool { return r.Key == d.Key }):
		return nil, fmt.Errorf("%s is revoked: revocation is final; delegate a new key", d.Key)
	}
	d.May = slices.Clone(d.May)
	if i := slices.IndexFunc(o.Delegates, func(x Delegation) bool { return x.Key == d.Key }); i >= 0 {
		o.Delegates[i] = d
	} else {
		o.Delegates = append(o.Delegates, d)
	}
	return validated(a)
}

// Revoke returns the operation after head that revokes the delegate key:
// its records with a time before from and a seq at most through stay
// valid, no others.
func Revoke(head *Signed, seq uint64, t time.Time, key peer.ID, from time.Time, through uint64) (*Announcement, error) {
	a, err := NextOp(head, seq, t)
	if err != nil {
		return nil, err
	}
	o := a.Org
	i := slices.IndexFunc(o.Delegates, func(x Delegation) bool { return x.Key == key })
	if i < 0 {
		return nil, fmt.Errorf("%s is not a delegate of the head", key)
	}
	o.Revoked = append(o.Revoked, Revocation{Key: key, May: o.Delegates[i].May, From: from.UTC(), Through: through})
	o.Delegates = slices.Delete(o.Delegates, i, i+1)
	return validated(a)
}

// Rotate returns the operation after head whose rotation keys are keys,
// highest priority first. It must be sealed by a key of head: a rotation
// signed by a lower-priority key can be overturned by a higher one until
// that priority ratifies it (PROTOCOL.md 12.4).
func Rotate(head *Signed, seq uint64, t time.Time, keys []crypto.PubKey) (*Announcement, error) {
	a, err := NextOp(head, seq, t)
	if err != nil {
		return nil, err
	}
	if a.Org.Keys, err = keyIDs(keys); err != nil {
		return nil, err
	}
	return validated(a)
}

func validated(a *Announcement) (*Announcement, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// keyIDs returns the peer IDs of Ed25519 public keys.
func keyIDs(keys []crypto.PubKey) ([]peer.ID, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one rotation key is needed")
	}
	ids := make([]peer.ID, len(keys))
	for i, k := range keys {
		if k.Type() != crypto.Ed25519 {
			return nil, ErrKeyType
		}
		id, err := peer.IDFromPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("derive peer ID: %w", err)
		}
		ids[i] = id
	}
	return ids, nil
}
