package protocol

import (
	"encoding/binary"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
)

// refs is what the reader and the writer of one sync/3 stream share: the
// bounds and the LIST and HAVE items of the last message each side sent,
// which the other side's next message may name by their index instead of
// spelling them out (PROTOCOL.md 9.13).
type refs struct {
	// sent: the last message this side sent, and the one it is writing.
	sentBounds, curSentBounds [][]byte
	sentItems, curSentItems   []ItemID
	// recv: the last message the peer sent, by index, and the one being
	// read.
	recvBounds, curRecvBounds map[string]int
	recvItems, curRecvItems   map[ItemID]int
	recvPubs, curRecvPubs     map[peer.ID]int
	nRecvBounds, nRecvItems   int
	// nRecvRefs counts the kind-1 items (references to an item of this
	// side's last message) of the message being read: at most as many as
	// that message's LIST and HAVE items (PROTOCOL.md 9.13), so that a
	// peer cannot make this side hold an item for each byte it sends.
	nRecvRefs int
}

func newRefs() *refs {
	return &refs{curRecvBounds: map[string]int{}, curRecvItems: map[ItemID]int{}, curRecvPubs: map[peer.ID]int{}}
}

// sentEnd closes the message this side was writing.
func (r *refs) sentEnd() {
	r.sentBounds, r.curSentBounds = r.curSentBounds, nil
	r.sentItems, r.curSentItems = r.curSentItems, nil
}

// recvEnd closes the message the peer was sending.
func (r *refs) recvEnd() {
	r.recvBounds, r.curRecvBounds = r.curRecvBounds, map[string]int{}
	r.recvItems, r.curRecvItems = r.curRecvItems, map[ItemID]int{}
	r.recvPubs, r.curRecvPubs = r.curRecvPubs, map[peer.ID]int{}
	r.nRecvBounds, r.nRecvItems, r.nRecvRefs = 0, 0, 0
}

func (r *refs) recvBound(k []byte) {
	if _, ok := r.curRecvBounds[string(k)]; !ok {
		r.curRecvBounds[string(k)] = r.nRecvBounds
	}
	r.nRecvBounds++
}

func (r *refs) recvItem(it ItemID) {
	if _, ok := r.curRecvItems[it]; !ok {
		r.curRecvItems[it] = r.nRecvItems
	}
	if _, ok := r.curRecvPubs[it.Publisher]; !ok {
		r.curRecvPubs[it.Publisher] = r.nRecvItems
	}
	r.nRecvItems++
}

// NewSync3 returns the frame reader and writer of a /khantara/sync/3
// stream (PROTOCOL.md 9.13): they share the state by which a message
// names the bounds and items of the peer's last message.
func NewSync3(r io.Reader, w io.Writer) (*FrameReader, *FrameWriter) {
	fr, fw := NewFrameReader(r), NewFrameWriter(w)
	fr.v3, fw.v3 = true, true
	fr.refs = newRefs()
	fw.refs = fr.refs
	return fr, fw
}

// appendBound3 writes a sync/3 range header, bound and mode, and returns
// the bytes and the bound's key string (the next prev). The header is
// uvarint(4*x + mode): x = 0 for ∞; x odd: the bound shares (x-1)/2
// leading bytes with prev, and uvarint(k) and k new bytes follow; x even:
// it is bound x/2-1 of the peer's last message.
func (r *refs) appendBound3(b, prev []byte, u Bound, mode Mode) ([]byte, []byte) {
	if u.Inf {
		return binary.AppendUvarint(b, uint64(mode)), prev
	}
	k := u.key()
	r.curSentBounds = append(r.curSentBounds, k)
	n := commonPrefix(prev, k)
	lit := (uint64(2*n)+1)<<2 | uint64(mode)
	if i, ok := r.recvBounds[string(k)]; ok {
		ref := uint64(2*i+2)<<2 | uint64(mode)
		if uvarintLen(ref) < uvarintLen(lit)+uvarintLen(uint64(len(k)-n))+len(k)-n {
			return binary.AppendUvarint(b, ref), k
		}
	}
	b = binary.AppendUvarint(b, lit)
	b = binary.AppendUvarint(b, uint64(len(k)-n))
	return append(b, k[n:]...), k
}

// Item kinds of sync/3: the low two bits of an item's header uvarint(y),
// y = 4*v + kind.
const (
	// itemLiteral: the item string after the v bytes it shares with the
	// one before (for the first, with the range's lower bound), as many
	// bytes as the item string has left (its first byte, when v = 0,
	// gives the publisher's length).
	itemLiteral = 0
	// itemRef: item v of the peer's last message.
	itemRef = 1
	// itemPub: the publisher of item v of the peer's last message, then
	// uvarint(seq) and the Prefix3Len hash bytes.
	itemPub = 2
)

// appendItems3 writes sync/3 items: uvarint(count), then the items, each
// the cheapest of its kinds.
func (r *refs) appendItems3(b, base []byte, items []ItemID, list, v4 bool) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	prev := base
	var cur []byte
	for i := range items {
		it := &items[i]
		if v4 && !list && it.IsHashItem() {
			// sync/4: a WANT item naming a record by its hash.
			b = append(b, itemHash)
			b = append(b, it.Prefix[:]...)
			continue
		}
		if list {
			r.curSentItems = append(r.curSentItems, *it)
		}
		cur = itemString(cur[:0], it)
		if j, ok := r.recvItems[*it]; ok {
			b = binary.AppendUvarint(b, uint64(4*j+itemRef))
			prev = append(prev[:0:0], cur...)
			continue
		}
		n := commonPrefix(prev, cur)
		lit := uvarintLen(uint64(4*n)) + len(cur) - n
		if j, ok := r.recvPubs[it.Publisher]; ok && n < 1+len(it.Publisher) {
			h := uint64(4*j + itemPub)
			if uvarintLen(h)+uvarintLen(it.Seq)+Prefix3Len < lit {
				b = binary.AppendUvarint(b, h)
				b = binary.AppendUvarint(b, it.Seq)
				b = append(b, it.Prefix[:Prefix3Len]...)
				prev = append(prev[:0:0], cur...)
				continue
			}
		}
		b = binary.AppendUvarint(b, uint64(4*n+itemLiteral))
		b = append(b, cur[n:]...)
		prev = append(prev[:0:0], cur...)
	}
	return b
}

// bound3 reads a sync/3 range header and bound and updates *prev.
func (d *decoder) bound3(r *refs, prev *[]byte) (Bound, Mode) {
	h := d.uvarint()
	mode, x := Mode(h&3), h>>2
	if d.err != nil {
		return Bound{}, mode
	}
	if x == 0 {
		return Bound{Inf: true}, mode
	}
	var key []byte
	if x%2 == 0 {
		i := x/2 - 1
		if i >= uint64(len(r.sentBounds)) {
			d.fail("bound %d of a message of %d", i, len(r.sentBounds))
			return Bound{}, mode
		}
		key = r.sentBounds[i]
	} else {
		shared, k := (x-1)/2, d.uvarint()
		if shared > uint64(len(*prev)) || k > MaxKeyStringLen || shared+k == 0 || shared+k > MaxKeyStringLen {
			d.fail("bad bound: %d shared bytes of %d, %d new", shared, len(*prev), k)
			return Bound{}, mode
		}
		key = make([]byte, 0, shared+k)
		key = append(key, (*prev)[:shared]...)
		key = append(key, d.bytes(int(k))...)
	}
	*prev = key
	r.recvBound(key)
	return Bound{Key: key}, mode
}

// items3 reads sync/3 items, the first literal one compressed against
// base; list: of a LIST or HAVE range (which later messages may name).
func (d *decoder) items3(r *refs, base []byte, list bool) []ItemID {
	n := d.uvarint()
	if n > MaxListItems {
		d.fail("list of %d items exceeds %d", n, MaxListItems)
		return nil
	}
	// Each item takes at least a byte.
	if n > uint64(len(d.b)) {
		d.fail("list of %d items in %d bytes", n, len(d.b))
		return nil
	}
	items := make([]ItemID, 0, n)
	prev := base
	for i := uint64(0); i < n && d.err == nil; i++ {
		it, cur, ok := d.item3(r, prev, list)
		if !ok {
			break
		}
		if list {
			r.recvItem(it)
		}
		items = append(items, it)
		prev = cur
	}
	return items
}

// item3 reads one item and returns it and its item string.
func (d *decoder) item3(r *refs, prev []byte, list bool) (ItemID, []byte, bool) {
	y := d.uvarint()
	if d.err != nil {
		return ItemID{}, nil, false
	}
	v := y >> 2
	switch y & 3 {
	case itemRef, itemPub:
		if v >= uint64(len(r.sentItems)) {
			d.fail("item %d of a message of %d", v, len(r.sentItems))
			return ItemID{}, nil, false
		}
		if y&3 == itemRef {
			if r.nRecvRefs++; r.nRecvRefs > len(r.sentItems) {
				d.fail("more items by reference than the %d of the message they name", len(r.sentItems))
				return ItemID{}, nil, false
			}
		}
		it := r.sentItems[v]
		if y&3 == itemPub {
			it.Seq = d.uvarint()
			it.Prefix = [HashPrefixLen]byte{}
			copy(it.Prefix[:], d.bytes(Prefix3Len))
		}
		return it, itemString(nil, &it), d.err == nil
	case itemLiteral:
	case itemHash:
		if !d.v4 || list || v != 0 {
			d.fail("item kind 3 outside a sync/4 WANT")
			return ItemID{}, nil, false
		}
		var it ItemID
		copy(it.Prefix[:], d.bytes(HashPrefixLen))
		return it, prev, d.err == nil
	default:
		d.fail("unknown item kind %d", y&3)
		return ItemID{}, nil, false
	}
	if v > uint64(len(prev)) {
		d.fail("item shares %d bytes of %d", v, len(prev))
		return ItemID{}, nil, false
	}
	cur := append(make([]byte, 0, MaxKeyStringLen+Prefix3Len), prev[:v]...)
	if v == 0 {
		cur = append(cur, d.byte())
	}
	l := int(cur[0])
	if d.err != nil || l < 1 || l > MaxPeerIDLen || len(cur) > 1+l+8+Prefix3Len {
		d.fail("item with a publisher of %d bytes", l)
		return ItemID{}, nil, false
	}
	cur = append(cur, d.bytes(1+l+8+Prefix3Len-len(cur))...)
	if d.err != nil {
		return ItemID{}, nil, false
	}
	it := ItemID{Publisher: peer.ID(cur[1 : 1+l]), Seq: binary.BigEndian.Uint64(cur[1+l:])}
	copy(it.Prefix[:], cur[1+l+8:])
	return it, cur, true
}

// range3 adds a range to the sync/3 RANGE frame being filled, which
// frame, Flush and End write out: a range header (bound and mode), the
// bound's new bytes, the mode data. The items of LIST and HAVE are
// compressed against the range's lower bound.
func (fw *FrameWriter) range3(r *Range) error {
	lower := fw.lastKey
	b, next := fw.refs.appendBound3(fw.buf[:0], lower, r.Upper, r.Mode)
	switch r.Mode {
	case ModeFingerprint:
		b = append(b, r.Fingerprint[:Fingerprint3Len]...)
	case ModeList, ModeHave:
		b = fw.refs.appendItems3(b, lower, r.Items, true, false)
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
	f.Range.Upper, f.Range.Mode = d.bound3(fr.refs, &fr.lastKey)
	switch f.Range.Mode {
	case ModeSkip:
	case ModeFingerprint:
		copy(f.Range.Fingerprint[:], d.bytes(Fingerprint3Len))
	case ModeList, ModeHave:
		f.Range.Items = d.items3(fr.refs, lower, true)
	}
	fr.ranges = d.b
	if d.err != nil {
		fr.ranges = nil
		return nil, d.err
	}
	return f, nil
}
