package protocol

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits of the sync protocol (PROTOCOL.md section 9). A peer that exceeds
// one is cut off: the session is reset and nothing more is read from it.
const (
	// SyncVersion is the version number carried in HELLO.
	SyncVersion = 1
	// MaxFrameSize bounds one frame: its type byte and body (128 KiB).
	MaxFrameSize = 128 << 10
	// MaxListItems bounds the items of one LIST, HAVE or WANT frame; at
	// most 84 bytes each, 1024 of them always fit in a frame.
	MaxListItems = 1024
	// MaxRangesPerMessage bounds the RANGE frames of one message.
	MaxRangesPerMessage = 4096
	// MaxWantsPerMessage bounds the items one message may ask for, so that
	// the answer fits a bounded number of envelopes.
	MaxWantsPerMessage = 4096
	// MaxPeerIDLen bounds the raw bytes of a publisher ID on the wire.
	MaxPeerIDLen = 64
	// HashPrefixLen is how many leading bytes of an announcement hash name
	// it in item lists.
	HashPrefixLen = 8
	// FingerprintLen is the length of a range fingerprint.
	FingerprintLen = 16
)

// FrameType is the first byte of every sync frame. Values only grow.
type FrameType byte

// Frame types of /khantara/sync/1.
const (
	FrameHello    FrameType = 1
	FrameRange    FrameType = 2
	FrameWant     FrameType = 3
	FrameEnvelope FrameType = 4
	FrameEnd      FrameType = 5
	FrameError    FrameType = 6
)

// Mode says what a RANGE frame carries about its range. Values only grow.
type Mode byte

// Range modes.
const (
	// ModeSkip: nothing more to do in this range.
	ModeSkip Mode = 0
	// ModeFingerprint: the sender's fingerprint and count over the range.
	ModeFingerprint Mode = 1
	// ModeList: every item the sender holds in the range.
	ModeList Mode = 2
	// ModeHave: the items the sender holds in the range that were missing
	// from the receiver's LIST.
	ModeHave Mode = 3
)

// ErrSyncViolation wraps every malformed or over-limit sync frame.
var ErrSyncViolation = errors.New("sync protocol violation")

func violation(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyncViolation, fmt.Sprintf(format, args...))
}

// Bound is an exclusive upper end of a range in the key order: publisher
// (by length, then bytes), then sequence. Inf is past every key. The zero
// Bound (empty publisher, sequence 0) is the lowest key, where the first
// range of a message starts.
type Bound struct {
	Publisher peer.ID
	Seq       uint64
	Inf       bool
}

// Compare orders bounds and keys: -1, 0 or +1.
func (b Bound) Compare(o Bound) int {
	switch {
	case b.Inf && o.Inf:
		return 0
	case b.Inf:
		return 1
	case o.Inf:
		return -1
	}
	if c := ComparePublishers(b.Publisher, o.Publisher); c != 0 {
		return c
	}
	switch {
	case b.Seq < o.Seq:
		return -1
	case b.Seq > o.Seq:
		return 1
	}
	return 0
}

// ComparePublishers orders publisher IDs by length, then bytes.
func ComparePublishers(a, b peer.ID) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return bytes.Compare([]byte(a), []byte(b))
}

// ItemID names an announcement in sync lists: publisher, sequence and the
// first HashPrefixLen bytes of its hash.
type ItemID struct {
	Publisher peer.ID
	Seq       uint64
	Prefix    [HashPrefixLen]byte
}

// Range is the body of a RANGE frame.
type Range struct {
	Upper       Bound
	Mode        Mode
	Fingerprint [FingerprintLen]byte // ModeFingerprint
	Count       uint64               // ModeFingerprint
	Items       []ItemID             // ModeList, ModeHave
}

// Hello is the body of a HELLO frame.
type Hello struct {
	Version uint64
	Network string
}

// Frame is one decoded sync frame; exactly the field of its Type is set.
type Frame struct {
	Type     FrameType
	Hello    Hello
	Range    Range
	Want     []ItemID
	Envelope []byte
	Error    string
}

// FrameWriter encodes frames. Bounds are delta-encoded against the previous
// RANGE frame since the last END, so the writer keeps that state; it is not
// safe for concurrent use.
type FrameWriter struct {
	w       *bufio.Writer
	lastPub peer.ID
	buf     []byte
	// Written counts the bytes written so far.
	Written int64
}

// NewFrameWriter returns a FrameWriter on w.
func NewFrameWriter(w io.Writer) *FrameWriter {
	return &FrameWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Flush writes buffered frames to the underlying writer.
func (fw *FrameWriter) Flush() error { return fw.w.Flush() }

func (fw *FrameWriter) frame(t FrameType, body []byte) error {
	if len(body)+1 > MaxFrameSize {
		return fmt.Errorf("sync frame of %d bytes exceeds %d", len(body)+1, MaxFrameSize)
	}
	var hdr [binary.MaxVarintLen64 + 1]byte
	n := binary.PutUvarint(hdr[:], uint64(len(body)+1))
	hdr[n] = byte(t)
	if _, err := fw.w.Write(hdr[:n+1]); err != nil {
		return err
	}
	_, err := fw.w.Write(body)
	fw.Written += int64(n + 1 + len(body))
	return err
}

// Hello writes a HELLO frame.
func (fw *FrameWriter) Hello(h Hello) error {
	b := binary.AppendUvarint(fw.buf[:0], h.Version)
	b = binary.AppendUvarint(b, uint64(len(h.Network)))
	fw.buf = append(b, h.Network...)
	return fw.frame(FrameHello, fw.buf)
}

// Range writes a RANGE frame.
func (fw *FrameWriter) Range(r *Range) error {
	b := fw.buf[:0]
	switch {
	case r.Upper.Inf:
		b = append(b, 0)
	case fw.lastPub != "" && r.Upper.Publisher == fw.lastPub:
		b = append(b, 2)
		b = binary.AppendUvarint(b, r.Upper.Seq)
	default:
		b = append(b, 1)
		b = appendPub(b, r.Upper.Publisher)
		b = binary.AppendUvarint(b, r.Upper.Seq)
		fw.lastPub = r.Upper.Publisher
	}
	b = append(b, byte(r.Mode))
	switch r.Mode {
	case ModeFingerprint:
		b = append(b, r.Fingerprint[:]...)
		b = binary.AppendUvarint(b, r.Count)
	case ModeList, ModeHave:
		b = appendItems(b, r.Items)
	}
	fw.buf = b
	return fw.frame(FrameRange, b)
}

// Want writes a WANT frame.
func (fw *FrameWriter) Want(items []ItemID) error {
	fw.buf = appendItems(fw.buf[:0], items)
	return fw.frame(FrameWant, fw.buf)
}

// Envelope writes an ENVELOPE frame.
func (fw *FrameWriter) Envelope(env []byte) error { return fw.frame(FrameEnvelope, env) }

// End writes an END frame, closing the message, and flushes.
func (fw *FrameWriter) End() error {
	fw.lastPub = ""
	if err := fw.frame(FrameEnd, nil); err != nil {
		return err
	}
	return fw.Flush()
}

// Error writes an ERROR frame with a reason (truncated to 256 bytes) and flushes.
func (fw *FrameWriter) Error(reason string) error {
	if len(reason) > 256 {
		reason = reason[:256]
	}
	if err := fw.frame(FrameError, []byte(reason)); err != nil {
		return err
	}
	return fw.Flush()
}

func appendPub(b []byte, p peer.ID) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendItems(b []byte, items []ItemID) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	var last peer.ID
	for i := range items {
		it := &items[i]
		if i > 0 && it.Publisher == last {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = appendPub(b, it.Publisher)
			last = it.Publisher
		}
		b = binary.AppendUvarint(b, it.Seq)
		b = append(b, it.Prefix[:]...)
	}
	return b
}

// FrameReader decodes frames, enforcing every limit before it allocates.
// It is not safe for concurrent use.
type FrameReader struct {
	r       *bufio.Reader
	lastPub peer.ID
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
	case FrameRange:
		if err := fr.decodeRange(&d, &f.Range); err != nil {
			return nil, err
		}
	case FrameWant:
		f.Want = d.items()
	case FrameEnvelope:
		if len(d.b) > MaxEnvelopeSize {
			return nil, violation("envelope of %d bytes exceeds %d", len(d.b), MaxEnvelopeSize)
		}
		f.Envelope = d.b
		d.b = nil
	case FrameEnd:
		fr.lastPub = ""
	case FrameError:
		f.Error = string(d.b)
		d.b = nil
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
