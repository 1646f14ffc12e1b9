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
	// prefixSeen: 'h' pub seq(8) hash(32) -> empty. Primary: every
	// announcement ever applied, superseded ones included (hashes only).
	prefixSeen = 'h'
	// prefixSeq: 'q' pub seq(8) hash(32) -> slot. Derived: the state by sequence.
	prefixSeq = 'q'
	// prefixPublisher: 'p' pub -> summaryValue. Derived.
	prefixPublisher = 'p'
	// prefixEquivocation: 'x' pub seq(8) -> detectedAt(8). Derived from prefixSeen.
	prefixEquivocation = 'x'
	// prefixEvidence: 'e' pub seq(8) hash(32) -> envelope. Primary: the
	// announcement that lost an equivocation (same publisher and sequence,
	// same slot, higher hash), kept as proof and synced like state.
	prefixEvidence = 'e'
	// prefixMeta: 'm' name -> value. Schema version and the like.
	prefixMeta = 'm'
)

// schemaVersion is stored under metaSchema; Open refuses other versions.
const schemaVersion = 1

var metaSchema = []byte{prefixMeta, 's', 'c', 'h', 'e', 'm', 'a'}

// metaRebuilding is present while a rebuild runs; Open finishes it.
var metaRebuilding = []byte{prefixMeta, 'r', 'e', 'b', 'u', 'i', 'l', 'd'}

// derivedPrefixes are dropped and recreated by Rebuild.
var derivedPrefixes = [][]byte{{prefixSeq}, {prefixPublisher}, {prefixEquivocation}}

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
