package protocol

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
)

// FrameReader decodes frames, enforcing every limit before it allocates.
// It is not safe for concurrent use.
type FrameReader struct {
	r       *bufio.Reader
	lastPub peer.ID
	// v3 selects the encodings of sync/3; lastKey is its previous bound,
	// ranges the ranges of the current RANGE frame not yet returned.
	v3      bool
	v4      bool
	lastKey []byte
	ranges  []byte
	refs    *refs
	buf     []byte
	// Read counts the bytes read so far.
	Read int64
}

// NewFrameReader returns a FrameReader on r.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next reads one frame. It returns io.EOF at a clean end of stream and an
// error wrapping ErrSyncViolation for anything malformed or over a limit.
// Byte slices in the frame are only valid until the next call.
func (fr *FrameReader) Next() (*Frame, error) {
	if len(fr.ranges) > 0 {
		// The next range of a sync/3 RANGE frame.
		return fr.nextRange3(fr.ranges)
	}
	n, err := fr.length()
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxFrameSize {
		return nil, violation("frame length %d outside 1..%d", n, MaxFrameSize)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	b := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	fr.Read += int64(n) + int64(uvarintLen(n))
	f := &Frame{Type: FrameType(b[0])}
	d := decoder{b: b[1:]}
	switch f.Type {
	case FrameHello:
		f.Hello.Version = d.uvarint()
		l := d.uvarint()
		if l > 64 {
			return nil, violation("network name of %d bytes", l)
		}
		f.Hello.Network = string(d.bytes(int(l)))
		if fr.v3 && len(d.b) == SaltLen {
			f.Hello.Salt = append([]byte(nil), d.bytes(SaltLen)...)
		}
	case FrameRange:
		if fr.v3 {
			if len(d.b) == 0 {
				return nil, violation("empty RANGE frame")
			}
			return fr.nextRange3(d.b)
		}
		if err := fr.decodeRange(&d, &f.Range); err != nil {
			return nil, err
		}
	case FrameWant:
		if fr.v3 {
			d.v4 = fr.v4
			f.Want = d.items3(fr.refs, nil, false)
			break
		}
		f.Want = d.items()
	case FrameEnvelope:
		if len(d.b) > MaxEnvelopeSize {
			return nil, violation("envelope of %d bytes exceeds %d", len(d.b), MaxEnvelopeSize)
		}
		f.Envelope = d.b
		d.b = nil
	case FrameEnd:
		fr.lastPub, fr.lastKey = "", nil
		if fr.refs != nil {
			fr.refs.recvEnd()
		}
	case FrameError:
		f.Error = string(d.b)
		d.b = nil
	case FrameSketch:
		f.Sketch = d.sketch(fr.v4)
	default:
		return nil, violation("unknown frame type %d", b[0])
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, violation("%d trailing bytes in frame type %d", len(d.b), b[0])
	}
	return f, nil
}

// length reads a frame's uvarint length prefix: io.EOF before its first
// byte, io.ErrUnexpectedEOF inside it, a violation past 10 bytes.
func (fr *FrameReader) length() (uint64, error) {
	var v uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c, err := fr.r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, violation("frame length varint longer than %d bytes", binary.MaxVarintLen64)
}

func (fr *FrameReader) decodeRange(d *decoder, r *Range) error {
	switch tag := d.byte(); tag {
	case 0:
		r.Upper.Inf = true
	case 1:
		r.Upper.Publisher = d.pub()
		r.Upper.Seq = d.uvarint()
		fr.lastPub = r.Upper.Publisher
	case 2:
		if fr.lastPub == "" {
			return violation("bound refers to a previous publisher that does not exist")
		}
		r.Upper.Publisher = fr.lastPub
		r.Upper.Seq = d.uvarint()
	default:
		if d.err == nil {
			return violation("unknown bound tag %d", tag)
		}
	}
	r.Mode = Mode(d.byte())
	switch r.Mode {
	case ModeSkip:
	case ModeFingerprint:
		copy(r.Fingerprint[:], d.bytes(FingerprintLen))
		r.Count = d.uvarint()
	case ModeList, ModeHave:
		r.Items = d.items()
	default:
		if d.err == nil {
			return violation("unknown range mode %d", r.Mode)
		}
	}
	return d.err
}

type decoder struct {
	b   []byte
	err error
	// v4: reading a sync/4 WANT, whose items may name a hash (kind 3).
	v4 bool
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = violation(format, args...)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated frame")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("truncated frame")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) pub() peer.ID {
	l := d.uvarint()
	if l == 0 || l > MaxPeerIDLen {
		d.fail("publisher ID of %d bytes", l)
		return ""
	}
	return peer.ID(d.bytes(int(l)))
}

func (d *decoder) items() []ItemID {
	n := d.uvarint()
	if n > MaxListItems {
		d.fail("list of %d items exceeds %d", n, MaxListItems)
		return nil
	}
	// Each item takes at least 1+1+HashPrefixLen bytes: refuse counts the
	// frame cannot hold before allocating for them.
	if n > uint64(len(d.b)/(2+HashPrefixLen)) {
		d.fail("list of %d items in %d bytes", n, len(d.b))
		return nil
	}
	items := make([]ItemID, 0, n)
	var last peer.ID
	for i := uint64(0); i < n && d.err == nil; i++ {
		var it ItemID
		switch tag := d.byte(); tag {
		case 0:
			if i == 0 {
				d.fail("first item refers to a previous publisher")
			}
			it.Publisher = last
		case 1:
			it.Publisher = d.pub()
			last = it.Publisher
		default:
			d.fail("unknown item tag %d", tag)
		}
		it.Seq = d.uvarint()
		copy(it.Prefix[:], d.bytes(HashPrefixLen))
		items = append(items, it)
	}
	return items
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
