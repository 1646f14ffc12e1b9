package store

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"github.com/khantara/khantara/protocol"
)

// Accumulator is the sum, modulo 2^256, of announcement hashes read as
// little-endian 256-bit integers. Adding and removing one hash is O(1), and
// the sum over a set does not depend on order, so a publisher's digest is
// kept current on every write. The zero value is the empty set.
type Accumulator [32]byte

// Add adds h to the sum.
func (a *Accumulator) Add(h protocol.Hash) {
	var carry uint64
	for i := 0; i < 32; i += 8 {
		x := binary.LittleEndian.Uint64(a[i:])
		y := binary.LittleEndian.Uint64(h[i:])
		s, c := bits.Add64(x, y, carry)
		binary.LittleEndian.PutUint64(a[i:], s)
		carry = c
	}
}

// Sub removes h from the sum.
func (a *Accumulator) Sub(h protocol.Hash) {
	var borrow uint64
	for i := 0; i < 32; i += 8 {
		x := binary.LittleEndian.Uint64(a[i:])
		y := binary.LittleEndian.Uint64(h[i:])
		d, b := bits.Sub64(x, y, borrow)
		binary.LittleEndian.PutUint64(a[i:], d)
		borrow = b
	}
}

// Merge adds another accumulator's sum.
func (a *Accumulator) Merge(o Accumulator) { a.Add(protocol.Hash(o)) }

// Digest summarises a set of announcements (one publisher's, or the whole
// catalogue's): how many there are, the highest sequence among them, and
// their accumulated hashes. Two sets with equal fingerprints are, but for a
// 2^-128 chance, equal.
type Digest struct {
	Count  uint64
	MaxSeq uint64
	Sum    Accumulator
}

// Fingerprint is the first 16 bytes of SHA-256(Sum || uvarint(Count)):
// what peers compare to decide that two sets are equal.
func (d Digest) Fingerprint() [16]byte {
	h := sha256.New()
	h.Write(d.Sum[:])
	h.Write(binary.AppendUvarint(nil, d.Count))
	var fp [16]byte
	copy(fp[:], h.Sum(nil))
	return fp
}
