package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

// Kind says what an announcement carries. A wire enum: values only grow.
type Kind string

// The kinds of protocol v1.
const (
	// KindPractice publishes or updates a practice (Announcement.Practice).
	KindPractice Kind = "practice"
	// KindRetract withdraws a practice (Announcement.Retract).
	KindRetract Kind = "retract"
	// KindProfile publishes the publisher's profile (Announcement.Profile).
	KindProfile Kind = "profile"
)

// ProfileSlot is the subject of profile announcements. It cannot collide
// with a practice ID, which never contains '_'.
const ProfileSlot = "_profile"

// Announcement is the signed unit of protocol v1: one publisher's statement
// at one point of its sequence. Exactly one of Practice, Retract and
// Profile is set, matching Kind.
type Announcement struct {
	// V is the protocol version, Version.
	V int `json:"v"`
	// Publisher is the signer's peer ID (base58 in JSON).
	Publisher peer.ID `json:"publisher"`
	// Seq is the publisher's sequence number: 1..MaxSeq, strictly growing
	// across all the publisher's announcements.
	Seq uint64 `json:"seq"`
	// Time is when the publisher made the announcement (RFC 3339).
	Time time.Time `json:"time"`
	// Kind selects the payload.
	Kind Kind `json:"kind"`

	Practice *FactSheet  `json:"practice,omitempty"`
	Retract  *Retraction `json:"retract,omitempty"`
	Profile  *Profile    `json:"profile,omitempty"`
}

// Slot is the subject of the announcement in the catalogue state: the
// practice ID for practices and retractions, ProfileSlot for profiles.
func (a *Announcement) Slot() string {
	switch {
	case a.Kind == KindPractice && a.Practice != nil:
		return a.Practice.ID
	case a.Kind == KindRetract && a.Retract != nil:
		return a.Retract.ID
	case a.Kind == KindProfile:
		return ProfileSlot
	}
	return ""
}

// Validate checks the announcement and its payload against every rule of
// protocol v1 and returns nil or a *ValidationError.
func (a *Announcement) Validate() error {
	var p problems
	if a.V != Version {
		p.add("v", "must be %d, got %d", Version, a.V)
	}
	if a.Publisher == "" {
		p.add("publisher", "is required")
	} else if err := a.Publisher.Validate(); err != nil {
		p.add("publisher", "is not a peer ID: %v", err)
	}
	if a.Seq == 0 || a.Seq > MaxSeq {
		p.add("seq", "must be between 1 and %d, got %d", uint64(MaxSeq), a.Seq)
	}
	if a.Time.IsZero() {
		p.add("time", "is required")
	} else if y := a.Time.UTC().Year(); y < 2000 || y > MaxYear {
		p.add("time", "year %d is out of range", y)
	}
	set := 0
	for _, ok := range []bool{a.Practice != nil, a.Retract != nil, a.Profile != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		p.add("", "exactly one of practice, retract and profile must be set, got %d", set)
	}
	switch a.Kind {
	case KindPractice:
		if a.Practice == nil {
			p.add("practice", "is required for kind %q", a.Kind)
		} else {
			a.Practice.validate(&p, "practice.")
		}
	case KindRetract:
		if a.Retract == nil {
			p.add("retract", "is required for kind %q", a.Kind)
		} else {
			a.Retract.validate(&p, "retract.")
		}
	case KindProfile:
		if a.Profile == nil {
			p.add("profile", "is required for kind %q", a.Kind)
		} else {
			a.Profile.validate(&p, "profile.")
		}
	default:
		p.add("kind", "%q is not one of practice, retract, profile", truncate(string(a.Kind), 40))
	}
	return p.err()
}

// Hash identifies an announcement: the SHA-256 of its payload bytes. The
// payload names publisher and sequence, so two announcements with the same
// hash are the same statement, however their envelopes were encoded.
type Hash [32]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Signed is an announcement whose envelope has been verified: made only by
// Open and Seal, so holding one proves the checks passed. Immutable and
// safe for concurrent use; callers must not modify what it returns.
type Signed struct {
	ann      *Announcement
	envelope []byte
	hash     Hash
	signer   peer.ID
}

// Announcement returns the decoded announcement.
func (s *Signed) Announcement() *Announcement { return s.ann }

// Envelope returns the envelope in its canonical encoding (the protobuf
// as go-libp2p marshals it; unknown fields a relay may have added are
// gone). For an envelope that arrived canonical, as every writer sends
// it, these are the bytes as received.
func (s *Signed) Envelope() []byte { return s.envelope }

// Hash returns the announcement's identity.
func (s *Signed) Hash() Hash { return s.hash }

// Signer returns the peer ID of the key that signed the envelope. For a
// plain publisher it is the publisher.
func (s *Signed) Signer() peer.ID { return s.signer }

// Slot returns the announcement's slot in the catalogue state
// (Announcement.Slot). Every package asks the Signed, not the
// Announcement, so that kinds whose slot depends on the hash have one.
func (s *Signed) Slot() string { return s.ann.Slot() }

// Seal validates ann, signs it with key and returns the signed form. The
// publisher must be the key's peer ID; if ann.Publisher is empty it is set.
func Seal(ann *Announcement, key crypto.PrivKey) (*Signed, error) {
	if key.Type() != crypto.Ed25519 {
		return nil, ErrKeyType
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("derive peer ID: %w", err)
	}
	if ann.Publisher == "" {
		ann.Publisher = id
	}
	if ann.Publisher != id {
		return nil, fmt.Errorf("%w: publisher %s, key %s", ErrPublisherMismatch, ann.Publisher, id)
	}
	if err := ann.Validate(); err != nil {
		return nil, err
	}
	env, err := record.Seal(&wireRecord{ann: ann}, key)
	if err != nil {
		return nil, fmt.Errorf("seal announcement: %w", err)
	}
	if len(env.RawPayload) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: payload is %d bytes, limit %d", ErrTooLarge, len(env.RawPayload), MaxPayloadSize)
	}
	data, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal envelope: %w", err)
	}
	if len(data) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: envelope is %d bytes, limit %d", ErrTooLarge, len(data), MaxEnvelopeSize)
	}
	return &Signed{ann: ann, envelope: data, hash: sha256.Sum256(env.RawPayload), signer: id}, nil
}

// DecodePayload decodes announcement JSON strictly (unknown members,
// duplicate names, invalid UTF-8, case-mismatched names and null are
// errors). It
// does not validate the schema; see Announcement.Validate.
func DecodePayload(payload []byte) (*Announcement, error) {
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: payload is %d bytes, limit %d", ErrTooLarge, len(payload), MaxPayloadSize)
	}
	var a Announcement
	if err := json.Unmarshal(payload, &a, json.RejectUnknownMembers(true)); err != nil {
		if path, ok := invalidUTF8At(payload, err, &Announcement{}, json.RejectUnknownMembers(true)); ok {
			return nil, &ValidationError{Problems: []FieldError{{Path: path, Msg: msgInvalidUTF8}}}
		}
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := checkNoNull(payload); err != nil {
		return nil, err
	}
	return &a, nil
}

// EncodePayload returns the JSON payload of an announcement, as Seal signs it.
func EncodePayload(a *Announcement) ([]byte, error) {
	return json.Marshal(a, json.Deterministic(true))
}

// wireRecord adapts Announcement to go-libp2p's record.Record. err keeps
// the payload decoding error, which ConsumeTypedEnvelope only wraps as text.
type wireRecord struct {
	ann *Announcement
	err error
}

func (r *wireRecord) Domain() string { return EnvelopeDomain }
func (r *wireRecord) Codec() []byte  { return []byte(PayloadType) }

func (r *wireRecord) MarshalRecord() ([]byte, error) { return EncodePayload(r.ann) }

func (r *wireRecord) UnmarshalRecord(b []byte) error {
	r.ann, r.err = DecodePayload(b)
	return r.err
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
