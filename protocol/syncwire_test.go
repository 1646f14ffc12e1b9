package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

var (
	pubA = peer.ID("\x00\x24\x08\x01\x12\x20" + string(bytes.Repeat([]byte{0xaa}, 32)))
	pubB = peer.ID("\x00\x24\x08\x01\x12\x20" + string(bytes.Repeat([]byte{0xbb}, 32)))
)

func sampleFrames() []Frame {
	it := func(p peer.ID, seq uint64, b byte) ItemID {
		return ItemID{Publisher: p, Seq: seq, Prefix: [HashPrefixLen]byte{b, 1, 2, 3, 4, 5, 6, 7}}
	}
	return []Frame{
		{Type: FrameHello, Hello: Hello{Version: 1, Network: "khantara"}},
		{Type: FrameRange, Range: Range{Upper: Bound{Publisher: pubA, Seq: 7}, Mode: ModeFingerprint, Fingerprint: [16]byte{1, 2}, Count: 300}},
		{Type: FrameRange, Range: Range{Upper: Bound{Publisher: pubA, Seq: 90}, Mode: ModeList, Items: []ItemID{it(pubA, 7, 1), it(pubA, 8, 2), it(pubB, 1, 3)}}},
		{Type: FrameRange, Range: Range{Upper: Bound{Inf: true}, Mode: ModeHave, Items: []ItemID{it(pubB, 4, 4)}}},
		{Type: FrameWant, Want: []ItemID{it(pubA, 1, 9)}},
		{Type: FrameEnvelope, Envelope: []byte("not really an envelope")},
		{Type: FrameEnd},
		{Type: FrameRange, Range: Range{Upper: Bound{Publisher: pubB, Seq: 2}, Mode: ModeSkip}},
		{Type: FrameError, Error: "bye"},
	}
}

func writeFrame(fw *FrameWriter, f *Frame) error {
	switch f.Type {
	case FrameHello:
		return fw.Hello(f.Hello)
	case FrameRange:
		return fw.Range(&f.Range)
	case FrameWant:
		return fw.Want(f.Want)
	case FrameEnvelope:
		return fw.Envelope(f.Envelope)
	case FrameEnd:
		return fw.End()
	case FrameError:
		return fw.Error(f.Error)
	}
	return nil
}

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	fw := NewFrameWriter(&buf)
	frames := sampleFrames()
	for i := range frames {
		if err := writeFrame(fw, &frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	written := int64(buf.Len())
	fr := NewFrameReader(&buf)
	for i, want := range frames {
		got, err := fr.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Type == FrameEnvelope {
			got.Envelope = bytes.Clone(got.Envelope)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("frame %d:\n got %+v\nwant %+v", i, *got, want)
		}
	}
	if _, err := fr.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
	if fr.Read != written || fw.Written != written {
		t.Fatalf("byte counts: read %d, written %d, buffer %d", fr.Read, fw.Written, written)
	}
}

func TestFrameViolations(t *testing.T) {
	for name, data := range map[string][]byte{
		"zero length":        {0},
		"over the size cap":  {0x81, 0x80, 0x10, 2},
		"unknown type":       {1, 99},
		"unknown mode":       {3, 2, 0, 9},
		"unknown bound tag":  {3, 2, 7, 0},
		"delta bound first":  {3, 2, 2, 5},
		"item count lies":    {4, 3, 0x80, 0x08, 0},
		"first item delta":   {12, 3, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		"trailing bytes":     {3, 5, 0xff, 0xff},
		"endless varint":     bytes.Repeat([]byte{0xff}, 11),
		"long network":       append([]byte{68, 1, 1, 65}, bytes.Repeat([]byte{'x'}, 65)...),
		"publisher too long": append([]byte{70, 2, 1, 66}, bytes.Repeat([]byte{'x'}, 67)...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewFrameReader(bytes.NewReader(data)).Next()
			if !errors.Is(err, ErrSyncViolation) {
				t.Fatalf("got %v, want a violation", err)
			}
		})
	}
	if _, err := NewFrameReader(bytes.NewReader([]byte{5, 1})).Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated frame: %v, want unexpected EOF", err)
	}
}

// FuzzFrameReader: any bytes either decode into frames that re-encode to
// the same bytes, or fail with a violation or EOF; never a panic.
func FuzzFrameReader(f *testing.F) {
	var buf bytes.Buffer
	fw := NewFrameWriter(&buf)
	frames := sampleFrames()
	for i := range frames {
		writeFrame(fw, &frames[i])
	}
	fw.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{0x03, 0x02, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bytes.NewReader(data))
		for {
			f, err := fr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrSyncViolation) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if f.Type == FrameRange && len(f.Range.Items) > MaxListItems || len(f.Want) > MaxListItems {
				t.Fatal("list over the limit accepted")
			}
		}
	})
}
