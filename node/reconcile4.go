package node

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// sketchWidth is the width of each sub-table of the sketch the reference
// sends in M1 on sync/4 (15 cells, 195 bytes): any one difference decodes,
// two fail to only when they share all three cells (1 in 125), and about
// eight decode most of the time. A local choice (PROTOCOL.md 9.14).
const sketchWidth = 5

// h8 is the first HashPrefixLen bytes of a key's hash.
func h8(k *store.Key) [protocol.HashPrefixLen]byte {
	var b [protocol.HashPrefixLen]byte
	copy(b[:], k.Hash[:])
	return b
}

// sketch is the session's sketch of every key of the snapshot.
func (s *snapshot) sketch(width int) protocol.Sketch {
	sk := make(protocol.Sketch, protocol.SketchTables*width)
	for i := range s.keys {
		sk.Add(s.salt, h8(&s.keys[i]), 1)
	}
	return sk
}

// byHash returns the key whose hash begins with h, if the snapshot has one.
func (s *snapshot) byHash(h [protocol.HashPrefixLen]byte) (*store.Key, bool) {
	if s.hashes == nil {
		s.hashes = make(map[[protocol.HashPrefixLen]byte]int, len(s.keys))
		for i := range s.keys {
			s.hashes[h8(&s.keys[i])] = i
		}
	}
	i, ok := s.hashes[h]
	if !ok {
		return nil, false
	}
	return &s.keys[i], true
}

// decodeSketch subtracts the snapshot's sketch from the peer's and peels
// the difference: a cell whose count is 1 (or 255) and whose check is
// that of its sum (or of minus its sum) holds one record only the peer
// (or only this side) has. It returns the keys only this side holds and
// the hashes of the records only the peer holds, or ok false when the
// difference does not peel to an empty table (too many differences).
func (s *snapshot) decodeSketch(theirs protocol.Sketch) (mine []store.Key, peers [][protocol.HashPrefixLen]byte, ok bool) {
	w := theirs.Width()
	diff := s.sketch(w)
	for i := range diff {
		diff[i] = protocol.SketchCell{Count: theirs[i].Count - diff[i].Count, Sum: theirs[i].Sum - diff[i].Sum, Check: theirs[i].Check - diff[i].Check}
	}
	for found := true; found; {
		found = false
		for i := range diff {
			c := diff[i]
			var h [protocol.HashPrefixLen]byte
			switch c.Count {
			case 1:
				binary.LittleEndian.PutUint64(h[:], c.Sum)
				if !pure(s.salt, h, w, i, c.Check) {
					continue
				}
				peers = append(peers, h)
				diff.Add(s.salt, h, -1)
			case 0xff:
				binary.LittleEndian.PutUint64(h[:], -c.Sum)
				k, held := s.byHash(h)
				if !held || !pure(s.salt, h, w, i, -c.Check) {
					continue
				}
				mine = append(mine, *k)
				diff.Add(s.salt, h, 1)
			default:
				continue
			}
			found = true
			if len(mine)+len(peers) > len(diff) {
				return nil, nil, false
			}
		}
	}
	for _, c := range diff {
		if c != (protocol.SketchCell{}) {
			return nil, nil, false
		}
	}
	sortKeys(mine)
	return mine, peers, true
}

// pure reports whether the record whose hash begins with h is counted in
// cell i of a sketch of width w and has the given check.
func pure(salt []byte, h [protocol.HashPrefixLen]byte, w, i int, check uint32) bool {
	cells, c := protocol.SketchPlace(salt, h, w)
	return c == check && (cells[0] == i || cells[1] == i || cells[2] == i)
}

// answerSketch answers M1 of a sync/4 session, its sketch and its root
// range, when the sketch decodes: a HAVE over the whole key space of the
// records only this side holds (no range if there are none) and a WANT by
// hash of each record only the peer holds. ok false: answer the root
// range as sync/3 does.
func (s *snapshot) answerSketch(sk protocol.Sketch, root *protocol.Range) (out *reply, wants []protocol.ItemID, ok bool) {
	if s.fingerprint(s.keys) == root.Fingerprint {
		return nil, nil, false
	}
	mine, peers, ok := s.decodeSketch(sk)
	if !ok || len(mine)+len(peers) == 0 {
		return nil, nil, false
	}
	if len(peers) == 0 && s.fingerprint(without(s.keys, mine)) != root.Fingerprint {
		return nil, nil, false
	}
	out = &reply{}
	if len(mine) > 0 {
		s.addHave(out, protocol.Bound{}, protocol.Bound{Inf: true}, mine)
	}
	for _, h := range peers {
		wants = append(wants, protocol.HashItem(h))
	}
	return out, wants, true
}

// without returns keys less drop (both sorted).
func without(keys, drop []store.Key) []store.Key {
	out := make([]store.Key, 0, len(keys))
	j := 0
	for i := range keys {
		if j < len(drop) && keys[i] == drop[j] {
			j++
			continue
		}
		out = append(out, keys[i])
	}
	return out
}

// deferHashWants drops from wants the WANTs by hash that name a record the
// peer may hold a newer version of: one of a publisher of which the peer's
// message lists (LIST or HAVE) a record this side lacks at a higher
// sequence number. The peer asks again once in its next message, when the
// newer record has arrived here and the older one, if superseded, is no
// longer served (PROTOCOL.md 9.14, reference choices).
func (s *snapshot) deferHashWants(wants []protocol.ItemID, ranges []protocol.Range, held func(protocol.ItemID) bool) []protocol.ItemID {
	out := wants[:0:0]
	for _, w := range wants {
		k, ok := s.byHash(w.Prefix)
		if w.IsHashItem() && ok && newerListed(k, ranges, held) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func newerListed(k *store.Key, ranges []protocol.Range, held func(protocol.ItemID) bool) bool {
	for i := range ranges {
		for _, it := range ranges[i].Items {
			if it.Publisher == k.Publisher && it.Seq > k.Seq && !held(it) {
				return true
			}
		}
	}
	return false
}

// sortKeys sorts keys in the order of PROTOCOL.md 9.2.
func sortKeys(keys []store.Key) {
	slices.SortFunc(keys, func(x, y store.Key) int {
		if c := protocol.ComparePublishers(x.Publisher, y.Publisher); c != 0 {
			return c
		}
		if x.Seq != y.Seq {
			if x.Seq < y.Seq {
				return -1
			}
			return 1
		}
		return bytes.Compare(x.Hash[:], y.Hash[:])
	})
}
