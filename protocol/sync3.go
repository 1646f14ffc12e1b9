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
	Prefix3Len = 4
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

// appendBound3 writes a sync/3 range header, bound and mode, compressed
// against prev, and returns the bytes and the bound's key string (the
// next prev). The header is uvarint(4*x + mode): x = 0 for ∞, else the
// bound shares x-1 leading bytes with prev and uvarint(k) and k new bytes
// follow.
func appendBound3(b, prev []byte, u Bound, mode Mode) ([]byte, []byte) {
	if u.Inf {
		return binary.AppendUvarint(b, uint64(mode)), prev
	}
	k := u.key()
	n := commonPrefix(prev, k)
	b = binary.AppendUvarint(b, (uint64(n)+1)<<2|uint64(mode))
	b = binary.AppendUvarint(b, uint64(len(k)-n))
	return append(b, k[n:]...), k
}

// appendItems3 writes sync/3 items, the first compressed against base.
func appendItems3(b, base []byte, items []ItemID) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	prev := base
	var cur []byte
	for i := range items {
		cur = itemString(cur[:0], &items[i])
		n := commonPrefix(prev, cur)
		if n == len(cur) {
			n-- // a repeated item still carries one byte
		}
		b = binary.AppendUvarint(b, uint64(n))
		b = binary.AppendUvarint(b, uint64(len(cur)-n))
		b = append(b, cur[n:]...)
		prev = append(prev[:0:0], cur...)
	}
	return b
}

// bound3 reads a sync/3 range header and bound compressed against *prev
// and updates *prev.
func (d *decoder) bound3(prev *[]byte) (Bound, Mode) {
	h := d.uvarint()
	mode, x := Mode(h&3), h>>2
	if d.err != nil {
		return Bound{}, mode
	}
	if x == 0 {
		return Bound{Inf: true}, mode
	}
	shared, k := x-1, d.uvarint()
	if shared > uint64(len(*prev)) || k > MaxKeyStringLen || shared+k == 0 || shared+k > MaxKeyStringLen {
		d.fail("bad bound: %d shared bytes of %d, %d new", shared, len(*prev), k)
		return Bound{}, mode
	}
	key := make([]byte, 0, shared+k)
	key = append(key, (*prev)[:shared]...)
	key = append(key, d.bytes(int(k))...)
	*prev = key
	return Bound{Key: key}, mode
}

// items3 reads sync/3 items, the first compressed against base.
func (d *decoder) items3(base []byte) []ItemID {
	n := d.uvarint()
	if n > MaxListItems {
		d.fail("list of %d items exceeds %d", n, MaxListItems)
		return nil
	}
	// Each item takes at least 3 bytes.
	if n > uint64(len(d.b)/3) {
		d.fail("list of %d items in %d bytes", n, len(d.b))
		return nil
	}
	items := make([]ItemID, 0, n)
	prev := base
	for i := uint64(0); i < n && d.err == nil; i++ {
		shared, m := d.uvarint(), d.uvarint()
		if d.err != nil {
			break
		}
		if shared > uint64(len(prev)) || m == 0 || shared+m > MaxKeyStringLen+Prefix3Len {
			d.fail("bad item: %d shared bytes of %d, %d new", shared, len(prev), m)
			break
		}
		cur := make([]byte, 0, shared+m)
		cur = append(cur, prev[:shared]...)
		cur = append(cur, d.bytes(int(m))...)
		if d.err != nil {
			break
		}
		l := int(cur[0])
		if l < 1 || l > MaxPeerIDLen || len(cur) != 1+l+8+Prefix3Len {
			d.fail("item of %d bytes with a publisher of %d", len(cur), l)
			break
		}
		it := ItemID{Publisher: peer.ID(cur[1 : 1+l]), Seq: binary.BigEndian.Uint64(cur[1+l:])}
		copy(it.Prefix[:], cur[1+l+8:])
		items = append(items, it)
		prev = cur
	}
	return items
}

// compareKeys orders bounds by key string; neither may be Inf.
func compareKeys(a, b Bound) int { return bytes.Compare(a.key(), b.key()) }

// range3 adds a range to the sync/3 RANGE frame being filled, which
// frame, Flush and End write out: a range header (bound and mode), the
// bound's new bytes, the mode data. The items of LIST and HAVE are
// compressed against the range's lower bound.
func (fw *FrameWriter) range3(r *Range) error {
	lower := fw.lastKey
	b, next := appendBound3(fw.buf[:0], lower, r.Upper, r.Mode)
	switch r.Mode {
	case ModeFingerprint:
		b = append(b, r.Fingerprint[:Fingerprint3Len]...)
	case ModeList, ModeHave:
		b = appendItems3(b, lower, r.Items)
	}
	fw.buf, fw.lastKey = b, next
	if len(fw.ranges)+len(b)+1 > MaxFrameSize {
		if err := fw.flushRanges(); err != nil {
			return err
		}
	}
	fw.ranges = append(fw.ranges, b...)
	return nil
}

// flushRanges writes the RANGE frame being filled.
func (fw *FrameWriter) flushRanges() error {
	body := fw.ranges
	fw.ranges = nil
	err := fw.frame(FrameRange, body)
	fw.ranges = body[:0]
	return err
}

// nextRange3 decodes the first range of b, the rest of a sync/3 RANGE
// frame, and keeps what follows for the next call of Next.
func (fr *FrameReader) nextRange3(b []byte) (*Frame, error) {
	f := &Frame{Type: FrameRange}
	d := decoder{b: b}
	lower := fr.lastKey
	f.Range.Upper, f.Range.Mode = d.bound3(&fr.lastKey)
	switch f.Range.Mode {
	case ModeSkip:
	case ModeFingerprint:
		copy(f.Range.Fingerprint[:], d.bytes(Fingerprint3Len))
	case ModeList, ModeHave:
		f.Range.Items = d.items3(lower)
	}
	fr.ranges = d.b
	if d.err != nil {
		fr.ranges = nil
		return nil, d.err
	}
	return f, nil
}
