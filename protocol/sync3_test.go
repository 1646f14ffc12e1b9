package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

func item3(p peer.ID, seq uint64, b byte) ItemID {
	return ItemID{Publisher: p, Seq: seq, Prefix: [HashPrefixLen]byte{b, 1, 2}}
}

// TestSync3FramesRoundTrip: frames written by one side's sync/3 writer
// read back the same on the other side, across two messages, the second
// naming bounds and items of the first by index.
func TestSync3FramesRoundTrip(t *testing.T) {
	var ab, ba bytes.Buffer
	ra, wa := NewSync3(&ba, &ab)
	rb, wb := NewSync3(&ab, &ba)
	x4 := SeparatingBound(pubA, 3, pubA, 4)
	m1 := []Range{
		{Upper: x4, Mode: ModeFingerprint, Fingerprint: [16]byte{1, 2, 3, 4}},
		{Upper: SeparatingBound(pubA, 9, pubB, 1), Mode: ModeList, Items: []ItemID{item3(pubA, 4, 9), item3(pubA, 5, 8)}},
		{Upper: Bound{Inf: true}, Mode: ModeHave, Items: []ItemID{item3(pubB, 1, 7)}},
	}
	for i := range m1 {
		if err := wa.Range(&m1[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := wa.Want([]ItemID{item3(pubB, 2, 6)}); err != nil {
		t.Fatal(err)
	}
	if err := wa.End(); err != nil {
		t.Fatal(err)
	}
	got := readMessage(t, rb)
	if !reflect.DeepEqual(got.ranges, m1) {
		t.Fatalf("ranges read back:\n%+v\nwant\n%+v", got.ranges, m1)
	}
	// The answer names x4 (a bound of m1) and A4, B1 (items of m1).
	m2 := []Range{{Upper: x4, Mode: ModeSkip}, {Upper: Bound{Inf: true}, Mode: ModeHave, Items: []ItemID{item3(pubB, 3, 5)}}}
	wants := []ItemID{item3(pubA, 4, 9), item3(pubB, 1, 7)}
	for i := range m2 {
		if err := wb.Range(&m2[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Want(wants); err != nil {
		t.Fatal(err)
	}
	n := ba.Len()
	if err := wb.End(); err != nil {
		t.Fatal(err)
	}
	// Skip by reference (1 byte), the ∞ HAVE with an item of B's
	// publisher named by reference, two WANT items by reference.
	if size := ba.Len() - n; size > 20 {
		t.Errorf("the answer took %d bytes, want references to keep it under 20", size)
	}
	got = readMessage(t, ra)
	if !reflect.DeepEqual(got.ranges, m2) || !reflect.DeepEqual(got.wants, wants) {
		t.Fatalf("answer read back: %+v %+v", got.ranges, got.wants)
	}
}

type readMsg struct {
	ranges []Range
	wants  []ItemID
}

func readMessage(t *testing.T, fr *FrameReader) readMsg {
	t.Helper()
	var m readMsg
	for {
		f, err := fr.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch f.Type {
		case FrameRange:
			m.ranges = append(m.ranges, f.Range)
		case FrameWant:
			m.wants = append(m.wants, f.Want...)
		case FrameEnd:
			return m
		default:
			t.Fatalf("frame type %d", f.Type)
		}
	}
}

// TestSync3Violations: malformed sync/3 bodies are violations, never
// panics.
func TestSync3Violations(t *testing.T) {
	cases := []struct {
		name  string
		frame []byte // type and body
	}{
		{"empty RANGE frame", []byte{2}},
		{"bound shares bytes of no previous bound", []byte{2, (2*3 + 1) << 2, 1, 5}},
		{"bound refers to a message never sent", []byte{2, 2 << 2}},
		{"bound of no bytes", []byte{2, 1 << 2, 0}},
		{"bound too long", append([]byte{2, 1 << 2, 80}, make([]byte, 80)...)},
		{"truncated bound", []byte{2, 1 << 2, 4, 1, 2}},
		{"truncated fingerprint", []byte{2, 1, 1, 2}},
		{"item kind 3", []byte{2, 2, 1, 3}},
		{"item refers to a message never sent", []byte{2, 2, 1, 1}},
		{"item publisher of no bytes", append([]byte{2, 2, 1, 0, 0}, make([]byte, 11)...)},
		{"item publisher of 65 bytes", []byte{2, 2, 1, 0, 65}},
		{"truncated item", []byte{2, 2, 1, 0, 2, 9, 9}},
		{"more items than bytes", []byte{3, 9, 0}},
		{"list over 1,024", []byte{3, 0x81, 0x08}},
		{"trailing range bytes", []byte{2, 0, 7}},
	}
	for _, c := range cases {
		var in bytes.Buffer
		in.WriteByte(byte(len(c.frame)))
		in.Write(c.frame)
		fr, _ := NewSync3(&in, &bytes.Buffer{})
		var err error
		for err == nil {
			_, err = fr.Next()
		}
		if !errors.Is(err, ErrSyncViolation) {
			t.Errorf("%s: %v, want a violation", c.name, err)
		}
	}
}

// TestSeparatingBound: the bound between two keys is the shortest prefix
// of the higher one's key string above the lower one's.
func TestSeparatingBound(t *testing.T) {
	b := SeparatingBound(pubA, 300, pubA, 301)
	if want := append(KeyString(pubA, 301)[:1+len(pubA)+7:1+len(pubA)+7], 0x2d); !bytes.Equal(b.Key, want) {
		t.Fatalf("in one publisher: %x, want %x", b.Key, want)
	}
	b = SeparatingBound(pubA, 9, pubB, 1)
	if want := []byte{0x26, 0, 0x24, 8, 1, 0x12, 0x20, 0xbb}; !bytes.Equal(b.Key, want) {
		t.Fatalf("between publishers: %x, want %x", b.Key, want)
	}
	for _, k := range []Bound{{Publisher: pubA, Seq: 9}, {Publisher: pubA, Seq: 1 << 40}} {
		if k.Compare(b) >= 0 {
			t.Errorf("%v not below the bound", k)
		}
	}
	if (Bound{Publisher: pubB, Seq: 0}).Compare(b) < 0 {
		t.Error("(B, 0) below the bound")
	}
}

// TestSync3ReferenceCap: the kind-1 items of one message, LIST, HAVE and
// WANT together, may name at most as many items as the message they name
// held; one more is a violation.
func TestSync3ReferenceCap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		frames    []byte // after the peer's message of 2 listed items
		violation bool
	}{
		{"two in a WANT", []byte{4, 3, 2, 1, 5, 1, 5}, false},
		{"three in a WANT", []byte{5, 3, 3, 1, 5, 1}, true},
		{"two in a LIST, one in a WANT", []byte{5, 2, 2, 2, 1, 5, 3, 3, 1, 1}, true},
	} {
		var ab, in bytes.Buffer
		_, wa := NewSync3(&bytes.Buffer{}, &ab)
		rg := Range{Upper: Bound{Inf: true}, Mode: ModeList, Items: []ItemID{item3(pubA, 1, 1), item3(pubA, 2, 2)}}
		if wa.Range(&rg) != nil || wa.End() != nil {
			t.Fatal("writing the first message failed")
		}
		// The reader of the other direction shares the writer's state.
		fr, _ := NewSync3(&in, &bytes.Buffer{})
		fr.refs = wa.refs
		in.Write(tc.frames)
		var err error
		for err == nil {
			_, err = fr.Next()
		}
		if got := errors.Is(err, ErrSyncViolation); got != tc.violation {
			t.Errorf("%s: %v, want a violation: %v", tc.name, err, tc.violation)
		}
	}
}

// TestSync4Frames: a sketch and a WANT by hash read back as written on
// sync/4; a malformed sketch, kind 3 outside a sync/4 WANT, and a SKETCH
// on sync/3 are violations.
func TestSync4Frames(t *testing.T) {
	var buf bytes.Buffer
	fr, _ := NewSync4(&buf, &bytes.Buffer{})
	_, fw := NewSync4(&bytes.Buffer{}, &buf)
	salt := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	sk := make(Sketch, 3*SketchTables)
	sk.Add(salt, [8]byte{9, 9}, 1)
	sk.Add(salt, [8]byte{7}, 1)
	sk.Add(salt, [8]byte{7}, -1)
	want := []ItemID{item3(pubA, 4, 9), HashItem([8]byte{1, 2, 3, 4, 5, 6, 7, 8}), item3(pubA, 5, 8)}
	if fw.Sketch(sk) != nil || fw.Want(want) != nil || fw.End() != nil {
		t.Fatal("write failed")
	}
	got := map[FrameType]*Frame{}
	for {
		f, err := fr.Next()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Type] = f
		if f.Type == FrameEnd {
			break
		}
	}
	if !reflect.DeepEqual(got[FrameSketch].Sketch, sk) || !reflect.DeepEqual(got[FrameWant].Want, want) {
		t.Fatalf("read back %+v and %+v", got[FrameSketch].Sketch, got[FrameWant].Want)
	}
	// One record added and kept, one added and taken out: each sub-table
	// counts one.
	for j := range SketchTables {
		if c := sk[3*j].Count + sk[3*j+1].Count + sk[3*j+2].Count; c != 1 {
			t.Errorf("sub-table %d counts %d records, want 1", j, c)
		}
	}
	for _, c := range []struct {
		name  string
		v4    bool
		frame []byte
	}{
		{"sketch of no cells", true, []byte{7}},
		{"sketch of 2 cells", true, append([]byte{7}, make([]byte, 26)...)},
		{"sketch not whole cells", true, append([]byte{7}, make([]byte, 40)...)},
		{"sketch on sync/3", false, append([]byte{7}, make([]byte, 39)...)},
		{"hash item in a LIST", true, append([]byte{2, 2, 1, 3}, make([]byte, 8)...)},
		{"hash item with v = 1", true, append([]byte{3, 1, 7}, make([]byte, 8)...)},
		{"hash item on sync/3", false, append([]byte{3, 1, 3}, make([]byte, 8)...)},
		{"truncated hash item", true, []byte{3, 1, 3, 1, 2}},
	} {
		var in bytes.Buffer
		in.WriteByte(byte(len(c.frame)))
		in.Write(c.frame)
		fr, _ := NewSync3(&in, &bytes.Buffer{})
		if c.v4 {
			fr, _ = NewSync4(&in, &bytes.Buffer{})
		}
		var err error
		for err == nil {
			_, err = fr.Next()
		}
		if !errors.Is(err, ErrSyncViolation) {
			t.Errorf("%s: %v, want a violation", c.name, err)
		}
	}
}
