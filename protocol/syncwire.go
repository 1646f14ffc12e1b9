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

// SyncProtocolID2 is the libp2p stream protocol of catch-up sync that
// covers every record, v1 and v2 (PROTOCOL.md 9.1). Its frames, HELLO
// version included, and rules are those of SyncProtocolID
// ("/khantara/sync/1"); a session on SyncProtocolID reconciles only v1
// records (IsV1), so that a peer from before organisations never meets a
// record it cannot check. An initiator offers SyncProtocolID2 first.
const SyncProtocolID2 = "/khantara/sync/2"

// SyncProtocols lists the sync stream protocols in the order an initiator
// offers them: SyncProtocolID4, SyncProtocolID3, SyncProtocolID2, then
// SyncProtocolID.
func SyncProtocols() []string {
	return []string{SyncProtocolID4, SyncProtocolID3, SyncProtocolID2, SyncProtocolID}
}

// FrameType is the first byte of every sync frame. Values only grow.
type FrameType byte

// Frame types of /khantara/sync/1 and /khantara/sync/2.
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
	// Key, when set, is a sync/3 bound (PROTOCOL.md 9.13): a byte string
	// compared with key strings (KeyString); Publisher and Seq are unused.
	Key []byte
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
	case b.Key != nil || o.Key != nil:
		return compareKeys(b, o)
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
	// Salt is the initiator's salt in sync/3 (SaltLen bytes; empty in the
	// responder's HELLO and in sync/1 and sync/2).
	Salt []byte
}

// Frame is one decoded sync frame; exactly the field of its Type is set.
type Frame struct {
	Type     FrameType
	Hello    Hello
	Range    Range
	Want     []ItemID
	Envelope []byte
	Error    string
	// Sketch is the body of a sync/4 SKETCH frame.
	Sketch Sketch
}

// FrameWriter encodes frames. Bounds are delta-encoded against the previous
// RANGE frame since the last END, so the writer keeps that state; it is not
// safe for concurrent use.
type FrameWriter struct {
	w       *bufio.Writer
	lastPub peer.ID
	// v3 selects the encodings of sync/3; lastKey is its previous bound,
	// ranges the body of the RANGE frame being filled.
	v3      bool
	v4      bool
	lastKey []byte
	ranges  []byte
	refs    *refs
	buf     []byte
	// Written counts the bytes written so far.
	Written int64
}

// NewFrameWriter returns a FrameWriter on w.
func NewFrameWriter(w io.Writer) *FrameWriter {
	return &FrameWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Flush writes buffered frames to the underlying writer.
func (fw *FrameWriter) Flush() error {
	if len(fw.ranges) > 0 {
		if err := fw.flushRanges(); err != nil {
			return err
		}
	}
	return fw.w.Flush()
}

func (fw *FrameWriter) frame(t FrameType, body []byte) error {
	if t != FrameRange && len(fw.ranges) > 0 {
		if err := fw.flushRanges(); err != nil {
			return err
		}
	}
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
	b = append(b, h.Network...)
	fw.buf = append(b, h.Salt...)
	return fw.frame(FrameHello, fw.buf)
}

// Range writes a RANGE frame.
func (fw *FrameWriter) Range(r *Range) error {
	if fw.v3 {
		return fw.range3(r)
	}
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
	if fw.v3 {
		fw.buf = fw.refs.appendItems3(fw.buf[:0], nil, items, false, fw.v4)
		return fw.frame(FrameWant, fw.buf)
	}
	fw.buf = appendItems(fw.buf[:0], items)
	return fw.frame(FrameWant, fw.buf)
}

// Envelope writes an ENVELOPE frame.
func (fw *FrameWriter) Envelope(env []byte) error { return fw.frame(FrameEnvelope, env) }

// End writes an END frame, closing the message, and flushes.
func (fw *FrameWriter) End() error {
	fw.lastPub, fw.lastKey = "", nil
	if fw.refs != nil {
		fw.refs.sentEnd()
	}
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
