package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// The kinds organisations add (PROTOCOL.md section 12). Only an
// organisation publishes them.
const (
	// KindOrg is an operation of an organisation's chain (Announcement.Org).
	KindOrg Kind = "org"
	// KindMembers publishes a membership list (Announcement.Members).
	KindMembers Kind = "members"
)

// ProfileSlot is the subject of profile announcements. It cannot collide
// with a practice ID, which never contains '_'.
const ProfileSlot = "_profile"

// Announcement is the signed unit of the protocol: one publisher's
// statement at one point of its sequence. Exactly one of Practice,
// Retract, Profile, Org, Members and Experience is set, matching Kind.
type Announcement struct {
	// V is the protocol version, Version.
	V int `json:"v"`
	// Publisher is the peer ID (base58 in JSON) of the signer, for a plain
	// publisher, or of the organisation (OrgID). A genesis operation
	// leaves it out of its payload: Open, DecodeStored and Seal fill in
	// the ID derived from the payload, and EncodePayload leaves it out.
	Publisher peer.ID `json:"publisher,omitempty"`
	// Seq is the publisher's sequence number: 1..MaxSeq, strictly growing
	// across all the publisher's announcements.
	Seq uint64 `json:"seq"`
	// Time is when the publisher made the announcement (RFC 3339).
	Time time.Time `json:"time"`
	// Kind selects the payload.
	Kind Kind `json:"kind"`
	// Signer is the peer ID of the key that signs: set iff the publisher
	// is an organisation and the announcement is not a genesis (whose
	// signer is its first rotation key). Naming the signer in the payload
	// makes the hash cover it, so two keys can never sign one hash.
	Signer peer.ID `json:"signer,omitempty"`
	// Auth is the hash of the organisation operation that delegates the
	// signing key: set iff the publisher is an organisation and Kind is
	// not KindOrg.
	Auth Hash `json:"auth,omitzero"`

	Practice *FactSheet  `json:"practice,omitempty"`
	Retract  *Retraction `json:"retract,omitempty"`
	Profile  *Profile    `json:"profile,omitempty"`
	Org      *OrgOp      `json:"org,omitempty"`
	Members  *MemberList `json:"members,omitempty"`
	// Experience is the body of kind experience (PROTOCOL.md section 13).
	Experience *Experience `json:"experience,omitempty"`
}

// Slot is the subject of the announcement in the catalogue state: the
// practice ID for practices, the retracted slot (a practice ID or an
// experience record's slot) for retractions, ProfileSlot for profiles,
// MembersSlotPrefix and the list's name for membership lists, and
// Experience.Slot for experience records. It is "" for KindOrg, whose
// slot depends on the hash: use Signed.Slot.
func (a *Announcement) Slot() string {
	switch {
	case a.Kind == KindPractice && a.Practice != nil:
		return a.Practice.ID
	case a.Kind == KindRetract && a.Retract != nil:
		return a.Retract.ID
	case a.Kind == KindProfile:
		return ProfileSlot
	case a.Kind == KindMembers && a.Members != nil:
		return MembersSlotPrefix + a.Members.List
	case a.Kind == KindExperience && a.Experience != nil:
		return a.Experience.Slot()
	}
	return ""
}

// IsV1 reports whether the announcement is a v1 record (PROTOCOL.md
// 12.8): its publisher is a key ID and it is a practice whose sheet has
// no location member, a profile, or the retraction of a practice (its id
// a practice ID, not an experience record's slot). Every other record is
// a v2 record, experience records and their retractions and sheets with
// a location (even the empty {}, which v1's strict JSON refuses as an
// unknown member) included, which v1 peers cannot check and which
// therefore never reaches them.
func (a *Announcement) IsV1() bool {
	switch a.Kind {
	case KindPractice:
		return IsKey(a.Publisher) && (a.Practice == nil || a.Practice.Location == nil)
	case KindProfile:
		return IsKey(a.Publisher)
	case KindRetract:
		return IsKey(a.Publisher) && a.Retract != nil && validID(a.Retract.ID)
	}
	return false
}

// IsV1 reports whether s is a v1 record; see Announcement.IsV1.
func IsV1(s *Signed) bool { return s.ann.IsV1() }

// Validate checks the announcement and its payload against every rule of
// the protocol that needs no state (sections 4, 5, 12 and 13 of
// PROTOCOL.md)
// and returns nil or a *ValidationError.
func (a *Announcement) Validate() error {
	var p problems
	if a.V != Version {
		p.add("v", "must be %d, got %d", Version, a.V)
	}
	a.validateOrigin(&p)
	if a.Seq == 0 || a.Seq > MaxSeq {
		p.add("seq", "must be between 1 and %d, got %d", uint64(MaxSeq), a.Seq)
	}
	if a.Time.IsZero() {
		p.add("time", "is required")
	} else if y := a.Time.UTC().Year(); y < 2000 || y > MaxYear {
		p.add("time", "year %d is out of range", y)
	}
	a.validatePayload(&p)
	return p.err()
}

// under runs validate, which names fields after the prefix it is given,
// with none, and then puts prefix before the paths of the problems it
// found: a valid payload, the usual case, builds no path strings (joining
// the prefix to every field's path took a twentieth of Open).
func under(p *problems, prefix string, validate func(*problems, string)) {
	start := len(p.list)
	validate(p, "")
	for i := start; i < len(p.list); i++ {
		p.list[i].Path = prefix + p.list[i].Path
	}
}

// validatePayload checks that the one payload Kind names is set, and the
// payload.
func (a *Announcement) validatePayload(p *problems) {
	set := 0
	for _, ok := range []bool{a.Practice != nil, a.Retract != nil, a.Profile != nil, a.Org != nil, a.Members != nil, a.Experience != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		p.add("", "exactly one of practice, retract, profile, org, members and experience must be set, got %d", set)
	}
	switch a.Kind {
	case KindPractice:
		if a.Practice == nil {
			p.add("practice", "is required for kind %q", a.Kind)
		} else {
			under(p, "practice.", a.Practice.validate)
		}
	case KindRetract:
		if a.Retract == nil {
			p.add("retract", "is required for kind %q", a.Kind)
		} else {
			under(p, "retract.", a.Retract.validate)
		}
	case KindProfile:
		if a.Profile == nil {
			p.add("profile", "is required for kind %q", a.Kind)
		} else {
			under(p, "profile.", a.Profile.validate)
		}
	case KindOrg:
		if a.Org == nil {
			p.add("org", "is required for kind %q", a.Kind)
		} else {
			under(p, "org.", a.Org.validate)
		}
	case KindMembers:
		if a.Members == nil {
			p.add("members", "is required for kind %q", a.Kind)
		} else {
			under(p, "members.", a.Members.validate)
		}
	case KindExperience:
		if a.Experience == nil {
			p.add("experience", "is required for kind %q", a.Kind)
		} else {
			under(p, "experience.", a.Experience.validate)
		}
	default:
		p.add("kind", "%q is not one of practice, retract, profile, org, members, experience", truncate(string(a.Kind), 40))
	}
}

// Hash identifies an announcement: the SHA-256 of its payload bytes. The
// payload names publisher and sequence, so two announcements with the same
// hash are the same statement, however their envelopes were encoded.
type Hash [32]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros, the value of an absent hash
// member (no payload hashes to it).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText returns the hash in lower-case hex, its JSON form.
func (h Hash) MarshalText() ([]byte, error) { return hex.AppendEncode(nil, h[:]), nil }

// UnmarshalText parses the JSON form: exactly 64 lower-case hex digits,
// not all zero.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash parses a hash written as exactly 64 lower-case hex digits,
// not all zero.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("a hash is 64 hex digits, got %d characters", len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return h, fmt.Errorf("a hash is written in lower-case hex digits, got %q at %d", c, i)
		}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, err
	}
	if h.IsZero() {
		return h, errors.New("a hash is not all zeros")
	}
	return h, nil
}

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
// (Announcement.Slot), and for an organisation operation OrgSlotPrefix
// and its own hash in hex: every operation is its own slot, so none ever
// supersedes another. Every package asks the Signed, not the
// Announcement, so that kinds whose slot depends on the hash have one.
func (s *Signed) Slot() string {
	if s.ann.Kind == KindOrg {
		return OrgSlotPrefix + s.hash.String()
	}
	return s.ann.Slot()
}

// Seal validates ann, signs it with key and returns the signed form. The
// publisher decides who may sign:
//   - empty or the key's peer ID: a plain publisher; an empty publisher
//     is set to the key's ID;
//   - an organisation ID: the key signs for the organisation, as a
//     delegate (ann.Auth names the operation that delegates it) or, for an
//     operation (KindOrg), as a rotation key. Seal cannot check that
//     authority, which needs the chain: see Chain.Authorise;
//   - a genesis operation (KindOrg without Org.Prev): the key must be
//     Org.Keys[0], and ann.Publisher, which must be empty or already the
//     derived ID, is set to OrgID of the payload.
//
// Any other publisher is ErrPublisherMismatch.
//
// A writer omits an optional member that has no value (PROTOCOL.md 4.1):
// Seal sets a practice's empty Location ({}) to nil, so the payload and
// IsV1 agree that the sheet gives none.
func Seal(ann *Announcement, key crypto.PrivKey) (*Signed, error) {
	if key.Type() != crypto.Ed25519 {
		return nil, ErrKeyType
	}
	if ann.Practice != nil && ann.Practice.Location != nil && ann.Practice.Location.Empty() {
		ann.Practice.Location = nil
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("derive peer ID: %w", err)
	}
	if err := sealPublisher(ann, id); err != nil {
		return nil, err
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
// errors). It does not validate the schema; see Announcement.Validate.
// A payload in the form every writer produces takes a fast path
// (fastjson.go) that decides as the general decoder would.
func DecodePayload(payload []byte) (*Announcement, error) {
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: payload is %d bytes, limit %d", ErrTooLarge, len(payload), MaxPayloadSize)
	}
	var a Announcement
	if decodeFast(payload, &a) {
		return &a, nil
	}
	a = Announcement{}
	if err := json.Unmarshal(payload, &a, payloadOptions); err != nil {
		if path, ok := invalidUTF8At(payload, err, &Announcement{}, payloadOptions); ok {
			return nil, &ValidationError{Problems: []FieldError{{Path: path, Msg: msgInvalidUTF8}}}
		}
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := checkNoNull(payload); err != nil {
		return nil, err
	}
	return &a, nil
}

// EncodePayload returns the JSON payload of an announcement, as Seal signs
// it. A genesis operation is encoded without its publisher, whatever
// a.Publisher holds (the publisher is derived from these bytes).
func EncodePayload(a *Announcement) ([]byte, error) {
	if a.isGenesis() && a.Publisher != "" {
		c := *a
		c.Publisher = ""
		a = &c
	}
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
