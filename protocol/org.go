package protocol

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits of organisations (PROTOCOL.md 12.2 and 12.5). Like every limit,
// they are part of the protocol.
const (
	// MaxRotationKeys bounds an operation's keys.
	MaxRotationKeys = 5
	// MaxDelegates bounds an operation's delegates.
	MaxDelegates = 100
	// MaxRevoked bounds an operation's revoked entries.
	MaxRevoked = 256
	// MaxMembers bounds the members of a membership list.
	MaxMembers = 2000
	// MaxOrgOps bounds the operations a node keeps of one organisation;
	// more are ignored (quota).
	MaxOrgOps = 64
)

// DelegableKinds are the kinds a delegate may be allowed to publish, in
// their canonical order. Only append.
var DelegableKinds = []Kind{KindPractice, KindRetract, KindProfile, KindMembers, KindExperience}

// OrgOp is an operation of an organisation (kind org): the organisation's
// whole key state after it. A genesis operation has no Prev.
type OrgOp struct {
	// Prev is the hash of the previous operation; zero (absent) in a
	// genesis.
	Prev Hash `json:"prev,omitzero"`
	// Name is the organisation's name.
	Name string `json:"name"`
	// Keys are the rotation keys, highest priority first: they sign the
	// next operation, and only operations.
	Keys []peer.ID `json:"keys"`
	// Delegates are the keys that may publish for the organisation.
	Delegates []Delegation `json:"delegates,omitempty"`
	// Revoked are former delegates; revocation is final.
	Revoked []Revocation `json:"revoked,omitempty"`
	// Adopts is, in a genesis only, the plain publisher this organisation
	// continues (migration).
	Adopts peer.ID `json:"adopts,omitempty"`
}

// Delegation lets a key publish some kinds for an organisation.
type Delegation struct {
	// Key is the delegate's peer ID.
	Key peer.ID `json:"key"`
	// May lists the kinds it may publish, from DelegableKinds.
	May []Kind `json:"may"`
	// Until, when set, ends the delegation: records whose time is not
	// before it are not authorised.
	Until time.Time `json:"until,omitzero"`
}

// Revocation ends a delegation. Records of the key with a time before
// From and a sequence number at most Through stay valid.
type Revocation struct {
	// Key is the former delegate's peer ID.
	Key peer.ID `json:"key"`
	// May lists the kinds it was allowed, from DelegableKinds.
	May []Kind `json:"may"`
	// From is the time from which its records are not valid.
	From time.Time `json:"from"`
	// Through is the highest sequence number of its records that stay
	// valid (0: none).
	Through uint64 `json:"through"`

	// noThrough is set when a decoded revocation had no through member:
	// required, though 0 is a value (Validate reports it).
	noThrough bool
}

// revocationWire is a Revocation as the payload holds it: Through a
// pointer, so that an absent through is told from 0.
type revocationWire struct {
	Key     peer.ID   `json:"key"`
	May     []Kind    `json:"may"`
	From    time.Time `json:"from"`
	Through *uint64   `json:"through"`
}

// unmarshalRevocation decodes a revocation with the decoder's options
// (payloadOptions: strict, peer IDs by DecodeID), noting an absent
// through.
func unmarshalRevocation(dec *jsontext.Decoder, r *Revocation) error {
	var w revocationWire
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	*r = Revocation{Key: w.Key, May: w.May, From: w.From, noThrough: w.Through == nil}
	if w.Through != nil {
		r.Through = *w.Through
	}
	return nil
}

// Validate checks the operation's static rules; see FactSheet.Validate.
// Whether it is a genesis is read from Prev.
func (o *OrgOp) Validate() error {
	var p problems
	o.validate(&p, "")
	return p.err()
}

func (o *OrgOp) validate(p *problems, prefix string) {
	checkLine(p, prefix+"name", o.Name, MaxNameLen, true)
	switch n := len(o.Keys); {
	case n == 0:
		p.add(prefix+"keys", "needs at least one rotation key")
	case n > MaxRotationKeys:
		p.add(prefix+"keys", "at most %d rotation keys, got %d", MaxRotationKeys, n)
	}
	seen := make(map[peer.ID]string, len(o.Keys)+len(o.Delegates)+len(o.Revoked))
	key := func(path string, id peer.ID) {
		switch {
		case !IsKey(id):
			p.add(path, "must be the peer ID of an Ed25519 key")
		case seen[id] != "":
			p.add(path, "%s already appears at %s: a key appears once in keys, delegates and revoked", id, seen[id])
		default:
			seen[id] = path
		}
	}
	for i, k := range o.Keys {
		key(fmt.Sprintf("%skeys[%d]", prefix, i), k)
	}
	if len(o.Delegates) > MaxDelegates {
		p.add(prefix+"delegates", "at most %d delegates, got %d", MaxDelegates, len(o.Delegates))
	}
	for i, d := range o.Delegates {
		path := fmt.Sprintf("%sdelegates[%d]", prefix, i)
		key(path+".key", d.Key)
		checkMay(p, path+".may", d.May)
		if !d.Until.IsZero() {
			checkTime(p, path+".until", d.Until)
		}
	}
	if len(o.Revoked) > MaxRevoked {
		p.add(prefix+"revoked", "at most %d revoked keys, got %d", MaxRevoked, len(o.Revoked))
	}
	for i, r := range o.Revoked {
		path := fmt.Sprintf("%srevoked[%d]", prefix, i)
		key(path+".key", r.Key)
		checkMay(p, path+".may", r.May)
		if r.From.IsZero() {
			p.add(path+".from", "is required")
		} else {
			checkTime(p, path+".from", r.From)
		}
		if r.noThrough {
			p.add(path+".through", "is required (0 keeps none of the key's records)")
		} else if r.Through > MaxSeq {
			p.add(path+".through", "must be at most %d, got %d", uint64(MaxSeq), r.Through)
		}
	}
	if o.Prev.IsZero() {
		if len(o.Revoked) > 0 {
			p.add(prefix+"revoked", "must be empty in a genesis operation")
		}
		if o.Adopts != "" && !IsKey(o.Adopts) {
			p.add(prefix+"adopts", "must be the peer ID of an Ed25519 key (a plain publisher)")
		}
	} else if o.Adopts != "" {
		p.add(prefix+"adopts", "is allowed in a genesis operation only")
	}
}

// checkMay checks a list of delegated kinds: non-empty, distinct, each
// from DelegableKinds.
func checkMay(p *problems, path string, may []Kind) {
	if len(may) == 0 {
		p.add(path, "needs at least one of %s", kindList(DelegableKinds))
	}
	for i, k := range may {
		switch {
		case !slices.Contains(DelegableKinds, k):
			p.add(fmt.Sprintf("%s[%d]", path, i), "%q is not one of %s", truncate(string(k), 40), kindList(DelegableKinds))
		case slices.Contains(may[:i], k):
			p.add(fmt.Sprintf("%s[%d]", path, i), "%q appears twice", k)
		}
	}
}

// checkTime checks a time member as the announcement's time: year 2000
// to MaxYear.
func checkTime(p *problems, path string, t time.Time) {
	if y := t.UTC().Year(); y < 2000 || y > MaxYear {
		p.add(path, "year %d is out of range", y)
	}
}

func kindList(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
