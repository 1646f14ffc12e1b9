package node

// Negentropy (NIP-77, protocol version 1, as the Nostr relay strfry and
// go-nostr's nip77/negentropy speak it), written here from its
// specification as the baseline of the sync byte benchmarks: range-based
// set reconciliation over items of (timestamp, 32-byte ID). A message is
// the version byte 0x61 and ranges; a range is a bound (a timestamp as
// varint(delta from the previous bound's + 1), 0 for infinity, then
// varint(length) and that many leading ID bytes), a mode varint (0 SKIP,
// 1 FINGERPRINT, 2 IDLIST) and its payload: 16 fingerprint bytes
// (SHA-256 of the sum of the IDs as little-endian 256-bit integers and
// varint(count)), or varint(n) and n IDs. Varints are big-endian base
// 128. A range of fewer than 32 items is sent as an ID list, a larger one
// as 16 fingerprinted buckets split at the shortest bounds. The server
// answers an ID list with its own; the client takes the difference and
// skips. The client is done when its answer would hold no range.

import (
	"bytes"
	"crypto/sha256"
	"slices"

	"github.com/khantara/khantara/store"
)

const (
	negVersion = 0x61
	negBuckets = 16
)

// negItem is an item of a Negentropy set.
type negItem struct {
	ts uint64
	id [32]byte
}

func negCompare(a, b negItem) int {
	if a.ts != b.ts {
		if a.ts < b.ts {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.id[:], b.id[:])
}

// negBound is a bound: items below (ts, prefix) are in the range; inf is
// above everything.
type negBound struct {
	ts     uint64
	prefix []byte
	inf    bool
}

// below reports whether it sorts below b.
func (it negItem) below(b negBound) bool {
	if b.inf {
		return true
	}
	if it.ts != b.ts {
		return it.ts < b.ts
	}
	return bytes.Compare(it.id[:], b.prefix) < 0
}

// negPeer is one side of a Negentropy session.
type negPeer struct {
	items  []negItem // sorted
	client bool
	// haves and needs are what the client found: IDs only it holds, and
	// IDs only the server holds.
	haves, needs [][32]byte
	lastOut      uint64
}

func newNegPeer(items []negItem, client bool) *negPeer {
	s := slices.Clone(items)
	slices.SortFunc(s, negCompare)
	return &negPeer{items: s, client: client}
}

func negVarint(b []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(b, tmp[i:]...)
}

type negReader struct {
	b   []byte
	bad bool
}

func (r *negReader) varint() uint64 {
	var v uint64
	for {
		if len(r.b) == 0 {
			r.bad = true
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *negReader) bytes(n int) []byte {
	if n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (p *negPeer) writeBound(b []byte, bd negBound) []byte {
	if bd.inf {
		p.lastOut = ^uint64(0)
		return append(negVarint(b, 0), 0)
	}
	b = negVarint(b, bd.ts-p.lastOut+1)
	p.lastOut = bd.ts
	b = negVarint(b, uint64(len(bd.prefix)))
	return append(b, bd.prefix...)
}

func (p *negPeer) fingerprint(items []negItem) []byte {
	var acc store.Accumulator
	for i := range items {
		acc.Add(items[i].id)
	}
	h := sha256.Sum256(negVarint(acc[:], uint64(len(items))))
	return h[:16]
}

// split writes the ranges of items, which end at upper.
func (p *negPeer) split(b []byte, items []negItem, upper negBound) []byte {
	if len(items) < 2*negBuckets {
		b = p.writeBound(b, upper)
		b = negVarint(b, 2)
		b = negVarint(b, uint64(len(items)))
		for i := range items {
			b = append(b, items[i].id[:]...)
		}
		return b
	}
	per, extra := len(items)/negBuckets, len(items)%negBuckets
	cur := 0
	for i := range negBuckets {
		n := per
		if i < extra {
			n++
		}
		part := items[cur : cur+n]
		cur += n
		bd := upper
		if cur < len(items) {
			bd = negMinimalBound(items[cur-1], items[cur])
		}
		b = p.writeBound(b, bd)
		b = negVarint(b, 1)
		b = append(b, p.fingerprint(part)...)
	}
	return b
}

func negMinimalBound(prev, cur negItem) negBound {
	if prev.ts != cur.ts {
		return negBound{ts: cur.ts}
	}
	n := 0
	for n < 32 && prev.id[n] == cur.id[n] {
		n++
	}
	return negBound{ts: cur.ts, prefix: bytes.Clone(cur.id[:min(n+1, 32)])}
}

// start is the client's first message: its whole set split.
func (p *negPeer) start() []byte {
	p.lastOut = 0
	return p.split([]byte{negVersion}, p.items, negBound{inf: true})
}

// reconcile answers a message; for the client, nil means it is done.
func (p *negPeer) reconcile(msg []byte) []byte {
	r := negReader{b: msg}
	if v := r.bytes(1); r.bad || v[0] != negVersion {
		return nil
	}
	p.lastOut = 0
	out := []byte{negVersion}
	var lastIn uint64
	lower := 0
	var skipBound negBound
	skipping := false
	flush := func() {
		if skipping {
			out = p.writeBound(out, skipBound)
			out = negVarint(out, 0)
			skipping = false
		}
	}
	for len(r.b) > 0 && !r.bad {
		var bd negBound
		if d := r.varint(); d == 0 {
			bd.inf = true
		} else {
			bd.ts = lastIn + d - 1
			lastIn = bd.ts
		}
		bd.prefix = bytes.Clone(r.bytes(int(r.varint())))
		mode := r.varint()
		upper := lower + sortSearch(p.items[lower:], bd)
		mine := p.items[lower:upper]
		switch mode {
		case 0:
			skipping, skipBound = true, bd
		case 1:
			theirs := r.bytes(16)
			if bytes.Equal(theirs, p.fingerprint(mine)) {
				skipping, skipBound = true, bd
			} else {
				flush()
				out = p.split(out, mine, bd)
			}
		case 2:
			n := int(r.varint())
			theirs := map[[32]byte]bool{}
			for range n {
				theirs[[32]byte(r.bytes(32))] = true
			}
			if p.client {
				for i := range mine {
					if !theirs[mine[i].id] {
						p.haves = append(p.haves, mine[i].id)
					}
					delete(theirs, mine[i].id)
				}
				for id := range theirs {
					p.needs = append(p.needs, id)
				}
				skipping, skipBound = true, bd
			} else {
				flush()
				out = p.writeBound(out, bd)
				out = negVarint(out, 2)
				out = negVarint(out, uint64(len(mine)))
				for i := range mine {
					out = append(out, mine[i].id[:]...)
				}
			}
		}
		lower = upper
	}
	if p.client && len(out) == 1 {
		return nil
	}
	return out
}

// sortSearch is the number of items below bd.
func sortSearch(items []negItem, bd negBound) int {
	lo, hi := 0, len(items)
	for lo < hi {
		m := (lo + hi) / 2
		if items[m].below(bd) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// negentropyRun reconciles client and server sets in memory and returns
// the bytes both ways, the round trips (client messages) and what the
// client found to be only on its side and only on the server's.
func negentropyRun(client, server []negItem) (bytes, roundTrips int, haves, needs [][32]byte) {
	c, s := newNegPeer(client, true), newNegPeer(server, false)
	msg := c.start()
	for msg != nil {
		roundTrips++
		bytes += len(msg)
		reply := s.reconcile(msg)
		bytes += len(reply)
		msg = c.reconcile(reply)
	}
	return bytes, roundTrips, c.haves, c.needs
}
