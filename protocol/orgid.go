package protocol

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/mr-tron/base58/base58"
)

// Organisation identifiers and slots (PROTOCOL.md 12.1 and 12.3).
const (
	// OrgSlotPrefix starts the slot of an organisation operation; the
	// operation's hash in hex follows (Signed.Slot).
	OrgSlotPrefix = "_org/"
	// MembersSlotPrefix starts the slot of a membership list; the list's
	// name follows.
	MembersSlotPrefix = "_members/"

	// orgIDLen is the length of an organisation ID in bytes: the
	// multihash code 0x12 (sha2-256), the length 20, and 20 digest bytes.
	orgIDLen = 22
	// orgDigestLen is the digest length an organisation ID keeps.
	orgDigestLen = 20
)

// keyIDPrefix starts the peer ID of every Ed25519 key: the identity
// multihash of 36 bytes, then the protobuf PublicKey with Type Ed25519
// and 32 bytes of Data (PROTOCOL.md section 2).
const keyIDPrefix = "\x00\x24\x08\x01\x12\x20"

// OrgID returns the ID of the organisation whose genesis operation has
// this payload: the multihash 0x12 0x14 followed by the first 20 bytes of
// the payload's SHA-256. It is held in a peer.ID, whose String is base58btc
// like any libp2p ID.
func OrgID(genesisPayload []byte) peer.ID {
	sum := sha256.Sum256(genesisPayload)
	return orgIDFromHash(sum)
}

// orgIDFromHash is OrgID of a payload whose hash is h.
func orgIDFromHash(h Hash) peer.ID {
	b := make([]byte, 0, orgIDLen)
	b = append(b, 0x12, orgDigestLen)
	return peer.ID(append(b, h[:orgDigestLen]...))
}

// IsOrg reports whether id has the form of an organisation ID: a sha2-256
// multihash truncated to 20 bytes.
func IsOrg(id peer.ID) bool {
	return len(id) == orgIDLen && id[0] == 0x12 && id[1] == orgDigestLen
}

// IsKey reports whether id is the peer ID of an Ed25519 key, the only
// peer IDs that sign announcements.
func IsKey(id peer.ID) bool {
	return len(id) == len(keyIDPrefix)+32 && string(id[:len(keyIDPrefix)]) == keyIDPrefix
}

// MaxIDText bounds the text of a peer ID that DecodeID parses: an
// organisation ID is 29 or 30 characters and a key ID 52; no other is valid in
// a payload.
const MaxIDText = 128

// DecodeID parses the text form of a publisher ID: the base58btc of an
// organisation ID, or anything peer.Decode accepts (the base58btc of a key
// ID, written "12D3KooW..."). peer.Decode itself refuses organisation IDs,
// whose text starts with neither "Qm" nor "1": every package parses
// publisher IDs from users, URLs and JSON with DecodeID. Text longer than
// MaxIDText is refused before any decoding.
func DecodeID(s string) (peer.ID, error) {
	if len(s) > MaxIDText {
		// Base58 decoding takes time quadratic in the length: a payload
		// of one long ID would cost a second.
		return "", fmt.Errorf("a peer ID is at most %d characters, got %d", MaxIDText, len(s))
	}
	slot := &decodedIDs[maphash.String(idSeed, s)%uint64(len(decodedIDs))]
	if e := slot.Load(); e != nil && e.text == s {
		return e.id, nil
	}
	id, err := decodeID(s)
	if err == nil {
		slot.Store(&decodedID{text: strings.Clone(s), id: id})
	}
	return id, err
}

// decodedIDs remembers recent results of DecodeID, one per slot of a small
// table: a replica decodes the same few publishers' IDs over and over, and
// base58 is slow to decode. A slot holds whatever ID hashed to it last.
var (
	decodedIDs [256]atomic.Pointer[decodedID]
	idSeed     = maphash.MakeSeed()
)

type decodedID struct {
	text string
	id   peer.ID
}

// decodeID is DecodeID without its bound and table.
func decodeID(s string) (peer.ID, error) {
	if len(s) <= 2*orgIDLen {
		if b, err := base58.Decode(s); err == nil && IsOrg(peer.ID(b)) {
			if id := peer.ID(b); id.String() == s {
				return id, nil
			}
		}
	}
	return peer.Decode(s)
}

// payloadOptions decode announcement JSON: strict, with peer IDs parsed
// by DecodeID.
var payloadOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.WithUnmarshalers(json.JoinUnmarshalers(
		json.UnmarshalFromFunc(func(dec *jsontext.Decoder, id *peer.ID) error {
			if dec.PeekKind() != '"' {
				return errors.ErrUnsupported // the default reports the type error
			}
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			v, err := DecodeID(tok.String())
			if err != nil {
				return err
			}
			*id = v
			return nil
		}),
		json.UnmarshalFromFunc(unmarshalRevocation),
	)),
)

// isGenesis reports whether a is the first operation of an organisation:
// kind org without prev.
func (a *Announcement) isGenesis() bool {
	return a.Kind == KindOrg && a.Org != nil && a.Org.Prev.IsZero()
}

// openPublisher is step 8 of Open (PROTOCOL.md 3.1 and 12.3): a key
// publisher must be the signer; an organisation's signer is left to the
// chain; a genesis must leave its publisher out, gets the one derived from
// payload, and must be signed by its first rotation key.
func openPublisher(a *Announcement, payload []byte, signer peer.ID) error {
	if a.isGenesis() {
		if a.Publisher != "" {
			return &ValidationError{Problems: []FieldError{{Path: "publisher", Msg: "must be absent in a genesis operation: the organisation ID is derived from the payload"}}}
		}
		a.Publisher = OrgID(payload)
		return genesisSigner(a, signer)
	}
	if IsOrg(a.Publisher) {
		if a.Signer != signer {
			return fmt.Errorf("%w: signer %s, key %s", ErrPublisherMismatch, truncate(a.Signer.String(), 60), signer)
		}
		return nil
	}
	if a.Publisher == signer {
		return nil
	}
	return fmt.Errorf("%w: publisher %s, signer %s", ErrPublisherMismatch, truncate(a.Publisher.String(), 60), signer)
}

// genesisSigner checks that a genesis is signed by its keys[0]. A genesis
// without keys is left to Validate.
func genesisSigner(a *Announcement, signer peer.ID) error {
	if len(a.Org.Keys) > 0 && a.Org.Keys[0] != signer {
		return fmt.Errorf("%w: a genesis is signed by keys[0] %s, signer %s", ErrPublisherMismatch, truncate(a.Org.Keys[0].String(), 60), signer)
	}
	return nil
}

// sealPublisher is openPublisher for Seal, which computes the payload
// itself (see Seal for the rules).
func sealPublisher(a *Announcement, signer peer.ID) error {
	if a.isGenesis() {
		payload, err := EncodePayload(a)
		if err != nil {
			return fmt.Errorf("encode genesis: %w", err)
		}
		id := OrgID(payload)
		if a.Publisher != "" && a.Publisher != id {
			return fmt.Errorf("%w: a genesis's publisher is derived (%s), got %s", ErrPublisherMismatch, id, truncate(a.Publisher.String(), 60))
		}
		a.Publisher = id
		return genesisSigner(a, signer)
	}
	if a.Publisher == "" {
		a.Publisher = signer
	}
	if IsOrg(a.Publisher) {
		if a.Signer == "" {
			a.Signer = signer
		}
		if a.Signer != signer {
			return fmt.Errorf("%w: signer %s, key %s", ErrPublisherMismatch, a.Signer, signer)
		}
		return nil
	}
	if a.Publisher == signer {
		return nil
	}
	return fmt.Errorf("%w: publisher %s, key %s", ErrPublisherMismatch, a.Publisher, signer)
}

// validateOrigin checks publisher and auth against the kind (PROTOCOL.md
// 12.2): org and members only from organisations, auth iff an
// organisation publishes anything but an operation.
func (a *Announcement) validateOrigin(p *problems) {
	genesis := a.isGenesis()
	if a.Signer != "" && (genesis || !IsOrg(a.Publisher)) {
		p.add("signer", "must be absent unless an organisation publishes (a genesis is signed by keys[0], a key publisher by itself)")
	}
	switch {
	case a.Publisher == "":
		if !genesis {
			p.add("publisher", "is required")
		}
	case IsOrg(a.Publisher):
		// A missing signer is Open's step 8 (openPublisher): Seal fills it in.
		if a.Signer != "" && !IsKey(a.Signer) {
			p.add("signer", "is not the peer ID of an Ed25519 key")
		}
		switch {
		case a.Kind == KindOrg && a.Auth != Hash{}:
			p.add("auth", "must be absent in an organisation operation (rotation keys sign operations)")
		case a.Kind != KindOrg && a.Auth.IsZero():
			p.add("auth", "is required when an organisation publishes: the hash of the operation that delegates the signing key")
		}
	case IsKey(a.Publisher):
		if !a.Auth.IsZero() {
			p.add("auth", "must be absent when the publisher is a key")
		}
		if a.Kind == KindOrg || a.Kind == KindMembers {
			p.add("publisher", "must be an organisation ID for kind %q", a.Kind)
		}
	default:
		p.add("publisher", "is neither the peer ID of an Ed25519 key nor an organisation ID")
	}
	if a.Kind != KindOrg || a.Org == nil {
		return
	}
	if genesis {
		if a.Seq != 1 {
			p.add("seq", "must be 1 in a genesis operation, got %d", a.Seq)
		}
		return
	}
	if a.Seq < 2 {
		p.add("seq", "must be at least 2 in an operation with prev, got %d", a.Seq)
	}
}
