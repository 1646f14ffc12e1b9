package store

import (
	"encoding/binary"
	"fmt"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Key prefixes. Every key starts with one byte naming its record type;
// publisher IDs are the raw peer-ID bytes behind a one-byte length.
const (
	// prefixState: 's' pub slot -> stateValue. Primary.
	prefixState = 's'
	// prefixSeen: 'h' pub seq(8) hash(32) -> signer. Primary: every
	// announcement ever applied, superseded ones included (hashes only).
	// The value is empty when the publisher signed it (every plain
	// publisher's records, so stores written before organisations need no
	// change) and the signer's raw peer-ID bytes otherwise (a delegate or
	// rotation key of an organisation): see seenValue.
	prefixSeen = 'h'
	// prefixSeq: 'q' pub seq(8) hash(32) -> pos(8) flags(1) slot.
	// Derived: the state by sequence, with its position in the change
	// feed and whether it is a v1 record (seqV1).
	prefixSeq = 'q'
	// prefixPublisher: 'p' pub -> summaryValue. Derived.
	prefixPublisher = 'p'
	// prefixEquivocation: 'x' pub seq(8) signer -> detectedAt(8). Derived
	// from prefixSeen: signer signed two announcements of pub with that
	// sequence. The signer is left out when it is the publisher, as in
	// the seen log (equivocationKey).
	prefixEquivocation = 'x'
	// prefixEvidence: 'e' pub seq(8) hash(32) -> envelope. Primary: the
	// announcement that lost an equivocation (same publisher, signer and
	// sequence, same slot, higher hash), kept as proof and synced like state.
	prefixEvidence = 'e'
	// prefixMeta: 'm' name -> value. Schema version and the like.
	prefixMeta = 'm'
	// prefixChange: 'c' pos(8) -> len(pub)(1) pub slot. Derived: the
	// change feed (feed.go), one entry per slot, at the position of the
	// slot's last change.
	prefixChange = 'c'
	// prefixAbout: 'a' len(about)(1) about len(id)(1) id pub slot ->
	// type(1). Derived: the live experience records (state records of
	// kind experience) about the practice (about, id), by their
	// publisher and slot (pub is written as pubKey writes it); the value
	// is the record's experience type (experienceTypeCode).
	prefixAbout = 'a'
)

// schemaVersion is stored under metaSchema. Open upgrades a version-1
// store (no change feed, no byte counts) and a version-2 store (no v1
// flags, no experience counts, v1 digests or experience index) by
// rebuilding its derived records, and a version-3 store (no packs) by
// stamping it, and refuses any other version. An older build refuses a
// store of version 4, whose state values it could not read.
const schemaVersion = 4

var metaSchema = []byte{prefixMeta, 's', 'c', 'h', 'e', 'm', 'a'}

// metaRebuilding is present while a rebuild runs; Open finishes it.
var metaRebuilding = []byte{prefixMeta, 'r', 'e', 'b', 'u', 'i', 'l', 'd'}

// metaPosition holds the feed position of the last committed change;
// metaEpoch the feed's epoch (feed.go). Both are derived.
var (
	metaPosition = []byte{prefixMeta, 'p', 'o', 's'}
	metaEpoch    = []byte{prefixMeta, 'e', 'p', 'o', 'c', 'h'}
)

// derivedPrefixes are dropped and recreated by Rebuild.
var derivedPrefixes = [][]byte{{prefixSeq}, {prefixPublisher}, {prefixEquivocation}, {prefixChange}, {prefixAbout}}

func pubKey(prefix byte, pub peer.ID) []byte {
	b := make([]byte, 0, 2+len(pub)+8+32+16)
	b = append(b, prefix, byte(len(pub)))
	return append(b, pub...)
}

func stateKey(pub peer.ID, slot string) []byte {
	return append(pubKey(prefixState, pub), slot...)
}

func seqKey(prefix byte, pub peer.ID, seq uint64, h protocol.Hash) []byte {
	b := binary.BigEndian.AppendUint64(pubKey(prefix, pub), seq)
	return append(b, h[:]...)
}

func seqPrefix(prefix byte, pub peer.ID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(pubKey(prefix, pub), seq)
}

// seenValue is the value of a seen-log entry of pub signed by signer:
// empty when the publisher signed it, else the signer's raw bytes.
func seenValue(pub, signer peer.ID) []byte {
	if signer == pub || signer == "" {
		return nil
	}
	return []byte(signer)
}

// seenSigner reads the signer back from a seen-log value of pub.
func seenSigner(pub peer.ID, v []byte) peer.ID {
	if len(v) == 0 {
		return pub
	}
	return peer.ID(v)
}

// equivocationKey is the key of signer's equivocation at (pub, seq); the
// signer is left out when it is the publisher.
func equivocationKey(pub peer.ID, seq uint64, signer peer.ID) []byte {
	return append(seqPrefix(prefixEquivocation, pub, seq), seenValue(pub, signer)...)
}

func changeKey(pos uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixChange}, pos)
}

// changeValue is the value of a feed entry: len(pub)(1) pub slot.
func changeValue(pub peer.ID, slot string) []byte {
	b := make([]byte, 0, 1+len(pub)+len(slot))
	b = append(b, byte(len(pub)))
	b = append(b, pub...)
	return append(b, slot...)
}

// seqV1 is the flag of a 'q' record whose state is a v1 record
// (protocol.IsV1), which a sync/1 session reconciles (V1Keys).
const seqV1 = 1

// seqValue is the value of a 'q' record: pos(8) flags(1) slot.
func seqValue(pos uint64, v1 bool, slot string) []byte {
	b := make([]byte, 0, 9+len(slot))
	b = binary.BigEndian.AppendUint64(b, pos)
	var flags byte
	if v1 {
		flags |= seqV1
	}
	return append(append(b, flags), slot...)
}

// splitSeqValue decodes a 'q' value into the feed position and the slot.
func splitSeqValue(v []byte) (uint64, string, error) {
	pos, _, slot, err := splitSeqValueV1(v)
	return pos, slot, err
}

// splitSeqValueV1 decodes a 'q' value into the feed position, whether
// the record is a v1 record, and the slot.
func splitSeqValueV1(v []byte) (pos uint64, v1 bool, slot string, err error) {
	if len(v) < 9 {
		return 0, false, "", fmt.Errorf("%w: sequence record of %d bytes", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), v[8]&seqV1 != 0, string(v[9:]), nil
}

// aboutPrefix is the prefix of the index entries of the experience
// records about the practice (about, id).
func aboutPrefix(about peer.ID, id string) []byte {
	b := make([]byte, 0, 3+len(about)+len(id)+40+16)
	b = append(b, prefixAbout, byte(len(about)))
	b = append(b, about...)
	b = append(b, byte(len(id)))
	return append(b, id...)
}

// aboutKey is the index entry of the experience record (pub, slot) about
// the practice (about, id).
func aboutKey(about peer.ID, id string, pub peer.ID, slot string) []byte {
	b := append(aboutPrefix(about, id), byte(len(pub)))
	b = append(b, pub...)
	return append(b, slot...)
}

// splitPub reads the publisher out of a key made by pubKey and returns the rest.
func splitPub(key []byte) (peer.ID, []byte, error) {
	if len(key) < 2 || len(key) < 2+int(key[1]) {
		return "", nil, fmt.Errorf("%w: short key %x", ErrCorrupt, key)
	}
	n := int(key[1])
	return peer.ID(key[2 : 2+n]), key[2+n:], nil
}

// splitSeqKey decodes the tail of a seq-ordered key: seq(8) hash(32).
func splitSeqKey(rest []byte) (uint64, protocol.Hash, error) {
	var h protocol.Hash
	if len(rest) != 40 {
		return 0, h, fmt.Errorf("%w: sequence key tail of %d bytes", ErrCorrupt, len(rest))
	}
	copy(h[:], rest[8:])
	return binary.BigEndian.Uint64(rest), h, nil
}
