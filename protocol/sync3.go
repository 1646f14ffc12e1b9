package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	"github.com/libp2p/go-libp2p/core/peer"
)

// /khantara/sync/3 (PROTOCOL.md 9.13): the frames, rules and limits of
// sync/2 with denser encodings. Bounds are byte strings in the order of
// key strings, written as the shortest string that separates two keys and
// compressed against the previous bound; fingerprints are 4 bytes salted
// by the initiator's HELLO; items carry 4 hash bytes and are compressed
// against the item (or range bound) before them.
const (
	// SyncProtocolID3 is the stream protocol of sync/3. An initiator
	// offers it first, then SyncProtocolID2 and SyncProtocolID.
	SyncProtocolID3 = "/khantara/sync/3"
	// SyncVersion3 is the version carried in the HELLOs of sync/3.
	SyncVersion3 = 3
	// SaltLen is the length of the salt in the initiator's sync/3 HELLO.
	SaltLen = 8
	// Fingerprint3Len is the length of a sync/3 fingerprint.
	Fingerprint3Len = 4
	// Prefix3Len is how many hash bytes a sync/3 item carries.
	Prefix3Len = 3
	// MaxKeyStringLen bounds a key string: the publisher's length byte,
	// the publisher, and 8 bytes of sequence.
	MaxKeyStringLen = 1 + MaxPeerIDLen + 8
)

// KeyString is the sync/3 key string of (publisher, seq): one byte of
// publisher length, the publisher's raw bytes, and seq as 8 big-endian
// bytes. Key strings in byte order are keys in the order of section 9.2.
func KeyString(p peer.ID, seq uint64) []byte {
	b := make([]byte, 0, 1+len(p)+8)
	return appendKeyString(b, p, seq)
}

func appendKeyString(b []byte, p peer.ID, seq uint64) []byte {
	b = append(b, byte(len(p)))
	b = append(b, p...)
	return binary.BigEndian.AppendUint64(b, seq)
}

// key is the key string of a bound: its Key when set, the empty string
// for the lowest bound, else KeyString of its publisher and sequence.
// It must not be called on Inf.
func (b Bound) key() []byte {
	switch {
	case b.Key != nil:
		return b.Key
	case b.Publisher == "" && b.Seq == 0:
		return nil
	}
	return KeyString(b.Publisher, b.Seq)
}

// SeparatingBound is the shortest sync/3 bound above the key (p1, s1) and
// at or below (p2, s2), which must be higher: the first byte where their
// key strings differ, and the bytes before it.
func SeparatingBound(p1 peer.ID, s1 uint64, p2 peer.ID, s2 uint64) Bound {
	a, b := KeyString(p1, s1), KeyString(p2, s2)
	n := commonPrefix(a, b)
	return Bound{Key: b[:min(n+1, len(b))]}
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// Fingerprint3 is a sync/3 fingerprint: the first 4 bytes of
// SHA-256(salt || sum || uvarint(count)), in a FingerprintLen array whose
// other bytes are zero.
func Fingerprint3(salt []byte, sum [32]byte, count uint64) [FingerprintLen]byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(sum[:])
	h.Write(binary.AppendUvarint(nil, count))
	var fp [FingerprintLen]byte
	copy(fp[:Fingerprint3Len], h.Sum(nil))
	return fp
}

// itemString is the sync/3 item string: the key string and the first
// Prefix3Len bytes of the hash.
func itemString(b []byte, it *ItemID) []byte {
	b = appendKeyString(b, it.Publisher, it.Seq)
	return append(b, it.Prefix[:Prefix3Len]...)
}

// compareKeys orders bounds by key string; neither may be Inf.
func compareKeys(a, b Bound) int { return bytes.Compare(a.key(), b.key()) }
