package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// /khantara/sync/4 (PROTOCOL.md 9.14): sync/3 with two additions that
// settle a few differences in two round trips. The initiator's first
// message may carry a SKETCH of its whole set (an invertible table of
// counts and hash sums, from which the responder reads off the records
// only one side holds when they are few), and a WANT item may name a
// record by the first 8 bytes of its hash alone.
const (
	// SyncProtocolID4 is the stream protocol of sync/4. An initiator
	// offers it first, then SyncProtocolID3, SyncProtocolID2 and
	// SyncProtocolID.
	SyncProtocolID4 = "/khantara/sync/4"
	// SyncVersion4 is the version carried in the HELLOs of sync/4.
	SyncVersion4 = 4
	// FrameSketch is the sync/4 frame that carries a sketch.
	FrameSketch FrameType = 7
	// SketchCellLen is the size of one sketch cell on the wire: a count
	// byte, an 8-byte sum and a 4-byte check.
	SketchCellLen = 13
	// SketchTables is how many sub-tables a sketch has; every record is
	// counted in one cell of each.
	SketchTables = 3
	// MaxSketchWidth bounds the cells of one sub-table.
	MaxSketchWidth = 64
	// itemHash is the sync/4 item kind that names a record by the first
	// HashPrefixLen bytes of its hash (WANT only).
	itemHash = 3
)

// SketchCell is one cell of a sketch: over the records counted in it, their
// number modulo 256, the sum modulo 2^64 of the first 8 bytes of their
// hashes read as little-endian integers, and the sum modulo 2^32 of their
// checks (SketchPlace).
type SketchCell struct {
	Count uint8
	Sum   uint64
	Check uint32
}

// Sketch is the body of a SKETCH frame: SketchTables sub-tables of equal
// width, one after the other.
type Sketch []SketchCell

// Width is the number of cells of each sub-table.
func (s Sketch) Width() int { return len(s) / SketchTables }

// SketchPlace returns, for a record whose hash begins with h8, its cell in
// each sub-table of a sketch of the given width and its check: with g =
// SHA-256(salt || h8), cell j is j*width + (g[4j:4j+4] as a little-endian
// uint32) mod width, and the check is g[12:16] as a little-endian uint32.
func SketchPlace(salt []byte, h8 [HashPrefixLen]byte, width int) (cells [SketchTables]int, check uint32) {
	hs := sha256.New()
	hs.Write(salt)
	hs.Write(h8[:])
	var g [sha256.Size]byte
	hs.Sum(g[:0])
	for j := range SketchTables {
		cells[j] = j*width + int(binary.LittleEndian.Uint32(g[4*j:])%uint32(width))
	}
	return cells, binary.LittleEndian.Uint32(g[12:])
}

// Add counts (sign 1) or uncounts (sign -1) the record whose hash begins
// with h8 in the sketch.
func (s Sketch) Add(salt []byte, h8 [HashPrefixLen]byte, sign int) {
	cells, check := SketchPlace(salt, h8, s.Width())
	v := binary.LittleEndian.Uint64(h8[:])
	for _, i := range cells {
		c := &s[i]
		if sign < 0 {
			c.Count--
			c.Sum -= v
			c.Check -= check
			continue
		}
		c.Count++
		c.Sum += v
		c.Check += check
	}
}

// Sketch writes a SKETCH frame (sync/4 only).
func (fw *FrameWriter) Sketch(s Sketch) error {
	if !fw.v4 {
		return fmt.Errorf("a sketch on a sync session of version < 4")
	}
	b := fw.buf[:0]
	for _, c := range s {
		b = append(b, c.Count)
		b = binary.LittleEndian.AppendUint64(b, c.Sum)
		b = binary.LittleEndian.AppendUint32(b, c.Check)
	}
	fw.buf = b
	return fw.frame(FrameSketch, b)
}

// sketch reads the rest of a frame as a SKETCH body (v4: on sync/4; on
// others the frame type is unknown): a whole number of cells, a positive
// multiple of SketchTables and at most SketchTables*MaxSketchWidth.
func (d *decoder) sketch(v4 bool) Sketch {
	b := d.b
	d.b = nil
	n := len(b) / SketchCellLen
	switch {
	case !v4:
		d.fail("unknown frame type %d", FrameSketch)
		return nil
	case len(b)%SketchCellLen != 0 || n == 0 || n%SketchTables != 0 || n > SketchTables*MaxSketchWidth:
		d.fail("sketch of %d bytes", len(b))
		return nil
	}
	s := make(Sketch, n)
	for i := range s {
		c := b[i*SketchCellLen:]
		s[i] = SketchCell{Count: c[0], Sum: binary.LittleEndian.Uint64(c[1:]), Check: binary.LittleEndian.Uint32(c[9:])}
	}
	return s
}

// NewSync4 returns the frame reader and writer of a /khantara/sync/4
// stream: those of sync/3 (NewSync3) that also read and write SKETCH
// frames and WANT items that name a hash.
func NewSync4(r io.Reader, w io.Writer) (*FrameReader, *FrameWriter) {
	fr, fw := NewSync3(r, w)
	fr.v4, fw.v4 = true, true
	return fr, fw
}

// HashItem is the sync/4 WANT item that names a record by the first
// HashPrefixLen bytes of its hash: an ItemID with no publisher.
func HashItem(h8 [HashPrefixLen]byte) ItemID { return ItemID{Prefix: h8} }

// IsHashItem reports whether it names a record by its hash alone.
func (it ItemID) IsHashItem() bool { return it.Publisher == "" }
