package node

import (
	"slices"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// Reconciliation parameters. They are this implementation's choices, not
// protocol: a peer may split and list differently and still interoperate.
const (
	// splitBuckets is how many sub-ranges a differing range is split into.
	splitBuckets = 16
	// listThreshold: a differing range with at most this many local items
	// is answered with the items themselves instead of being split.
	listThreshold = 24
	// splitBuckets3 and listThreshold3 are the same for sync/3, whose
	// fingerprints, bounds and items are smaller.
	splitBuckets3  = 16
	listThreshold3 = 16
)

// snapshot is one side's state keys, sorted, for the length of a session.
type snapshot struct {
	keys []store.Key
	// v3: the session is on sync/3 (PROTOCOL.md 9.13), whose fingerprints
	// are keyed by salt, whose items carry fewer hash bytes and whose cuts
	// are the shortest separating bounds.
	v3   bool
	salt []byte
	// hashes indexes keys by the first bytes of their hash (byHash), built
	// when a sync/4 session first needs it.
	hashes map[[protocol.HashPrefixLen]byte]int
}

func keyBound(k *store.Key) protocol.Bound {
	return protocol.Bound{Publisher: k.Publisher, Seq: k.Seq}
}

// search returns the index of the first key at or above b.
func (s *snapshot) search(b protocol.Bound) int {
	if b.Inf {
		return len(s.keys)
	}
	i, _ := slices.BinarySearchFunc(s.keys, b, func(k store.Key, b protocol.Bound) int {
		return keyBound(&k).Compare(b)
	})
	return i
}

// digestOf is the digest of keys.
func digestOf(keys []store.Key) store.Digest {
	d := store.Digest{Count: uint64(len(keys))}
	for i := range keys {
		d.Sum.Add(keys[i].Hash)
		d.MaxSeq = max(d.MaxSeq, keys[i].Seq)
	}
	return d
}

// fingerprint is the session's fingerprint over keys: Digest.Fingerprint,
// or on sync/3 protocol.Fingerprint3 with the session's salt.
func (s *snapshot) fingerprint(keys []store.Key) [protocol.FingerprintLen]byte {
	var acc store.Accumulator
	for i := range keys {
		acc.Add(keys[i].Hash)
	}
	return digestFingerprint(store.Digest{Count: uint64(len(keys)), Sum: acc}, s.v3, s.salt)
}

// digestFingerprint is d's fingerprint in a session on sync/2 and sync/1,
// or with v3 on sync/3 keyed by salt.
func digestFingerprint(d store.Digest, v3 bool, salt []byte) [protocol.FingerprintLen]byte {
	if v3 {
		return protocol.Fingerprint3(salt, d.Sum, d.Count)
	}
	return d.Fingerprint()
}

// itemID names k in the session's items: HashPrefixLen hash bytes, or
// Prefix3Len on sync/3 (the others zero).
func (s *snapshot) itemID(k *store.Key) protocol.ItemID {
	id := protocol.ItemID{Publisher: k.Publisher, Seq: k.Seq}
	n := protocol.HashPrefixLen
	if s.v3 {
		n = protocol.Prefix3Len
	}
	copy(id.Prefix[:n], k.Hash[:n])
	return id
}

func (s *snapshot) items(keys []store.Key) []protocol.ItemID {
	out := make([]protocol.ItemID, len(keys))
	for i := range keys {
		out[i] = s.itemID(&keys[i])
	}
	return out
}

// cut is the bound between the keys prev and next (higher): next's own
// (publisher, seq), or on sync/3 the shortest bound that separates them.
func (s *snapshot) cut(prev, next *store.Key) protocol.Bound {
	if s.v3 {
		return protocol.SeparatingBound(prev.Publisher, prev.Seq, next.Publisher, next.Seq)
	}
	return keyBound(next)
}

// params are the session's split fan-out and list threshold.
func (s *snapshot) params() (buckets, list int) {
	if s.v3 {
		return splitBuckets3, listThreshold3
	}
	return splitBuckets, listThreshold
}

// reply is what one side answers to the ranges of a message.
type reply struct {
	ranges []protocol.Range
	// candidates are items the peer holds and this side does not: wanted
	// unless seen before or refused by policy (decided by the caller).
	candidates []protocol.ItemID
}

func (r *reply) add(rg protocol.Range) {
	// Consecutive skips merge: the later bound covers both.
	if rg.Mode == protocol.ModeSkip && len(r.ranges) > 0 && r.ranges[len(r.ranges)-1].Mode == protocol.ModeSkip {
		r.ranges[len(r.ranges)-1].Upper = rg.Upper
		return
	}
	r.ranges = append(r.ranges, rg)
}

// open reports whether the message needs an answer about its ranges.
func open(ranges []protocol.Range) bool {
	for i := range ranges {
		if m := ranges[i].Mode; m == protocol.ModeFingerprint || m == protocol.ModeList {
			return true
		}
	}
	return false
}

// respond computes the answer to a peer's ranges. The ranges must cover
// the key space in ascending order; respond checks that they do.
func (s *snapshot) respond(in []protocol.Range) (*reply, error) {
	out := &reply{}
	lower := protocol.Bound{}
	for i := range in {
		rg := &in[i]
		if rg.Upper.Compare(lower) < 0 {
			return nil, errRangeOrder
		}
		lo, hi := s.search(lower), s.search(rg.Upper)
		mine := s.keys[lo:hi]
		switch rg.Mode {
		case protocol.ModeSkip:
			out.add(protocol.Range{Upper: rg.Upper, Mode: protocol.ModeSkip})
		case protocol.ModeFingerprint:
			s.answerFingerprint(out, lower, rg, mine)
		case protocol.ModeList:
			extra := s.compare(out, rg.Items, mine, lower, rg.Upper)
			s.addHave(out, lower, rg.Upper, extra)
		case protocol.ModeHave:
			s.compare(out, rg.Items, mine, lower, rg.Upper)
			out.add(protocol.Range{Upper: rg.Upper, Mode: protocol.ModeSkip})
		}
		lower = rg.Upper
	}
	if !lower.Inf {
		return nil, errRangeCoverage
	}
	return out, nil
}

func (s *snapshot) answerFingerprint(out *reply, lower protocol.Bound, rg *protocol.Range, mine []store.Key) {
	switch {
	case s.fingerprint(mine) == rg.Fingerprint:
		out.add(protocol.Range{Upper: rg.Upper, Mode: protocol.ModeSkip})
	case s.peerEmpty(rg):
		// The peer has nothing here: everything of ours is news to it.
		s.addHave(out, lower, rg.Upper, mine)
	case len(mine) <= s.listMax():
		out.add(protocol.Range{Upper: rg.Upper, Mode: protocol.ModeList, Items: s.items(mine)})
	default:
		s.split(out, lower, rg.Upper, mine)
	}
}

// split answers a differing range with the fingerprints of up to
// splitBuckets sub-ranges of about equal size.
func (s *snapshot) split(out *reply, lower, upper protocol.Bound, mine []store.Key) {
	if first, last := &mine[0], &mine[len(mine)-1]; first.Publisher == last.Publisher && first.Seq == last.Seq {
		// Every key shares one (publisher, seq): a bound cannot split
		// them, so list them (a publisher equivocating on this scale
		// beyond one frame is not synced further).
		if len(mine) <= protocol.MaxListItems {
			out.add(protocol.Range{Upper: upper, Mode: protocol.ModeList, Items: s.items(mine)})
		} else {
			out.add(protocol.Range{Upper: upper, Mode: protocol.ModeSkip})
		}
		return
	}
	if s.v3 {
		s.split3(out, lower, upper, mine)
		return
	}
	buckets, _ := s.params()
	per := (len(mine) + buckets - 1) / buckets
	start := 0
	for start < len(mine) {
		end := min(start+per, len(mine))
		// A bound names (publisher, seq): keys sharing both go together.
		for end < len(mine) && mine[end].Publisher == mine[end-1].Publisher && mine[end].Seq == mine[end-1].Seq {
			end++
		}
		ub := upper
		if end < len(mine) {
			ub = s.cut(&mine[end-1], &mine[end])
		}
		part := mine[start:end]
		out.add(protocol.Range{Upper: ub, Mode: protocol.ModeFingerprint, Fingerprint: s.fingerprint(part), Count: uint64(len(part))})
		start = end
	}
}

// addHave answers with the given keys as HAVE ranges, split so that no
// frame holds more than MaxListItems items.
func (s *snapshot) addHave(out *reply, lower, upper protocol.Bound, keys []store.Key) {
	if len(keys) == 0 {
		out.add(protocol.Range{Upper: upper, Mode: protocol.ModeSkip})
		return
	}
	for len(keys) > protocol.MaxListItems {
		end := protocol.MaxListItems
		for end > 1 && keys[end].Publisher == keys[end-1].Publisher && keys[end].Seq == keys[end-1].Seq {
			end--
		}
		if end == 1 {
			// More than a frame of keys share one (publisher, seq).
			keys = keys[:protocol.MaxListItems]
			break
		}
		out.add(protocol.Range{Upper: s.cut(&keys[end-1], &keys[end]), Mode: protocol.ModeHave, Items: s.items(keys[:end])})
		keys = keys[end:]
	}
	out.add(protocol.Range{Upper: upper, Mode: protocol.ModeHave, Items: s.items(keys)})
}

// compare matches the peer's items in a range against ours: peer items we
// lack become candidates, and ours the peer lacks are returned. Items
// outside [lower, upper) are ignored.
func (s *snapshot) compare(out *reply, theirs []protocol.ItemID, mine []store.Key, lower, upper protocol.Bound) []store.Key {
	have := make(map[protocol.ItemID]struct{}, len(theirs))
	for _, it := range theirs {
		b := protocol.Bound{Publisher: it.Publisher, Seq: it.Seq}
		if b.Compare(lower) < 0 || b.Compare(upper) >= 0 {
			continue
		}
		have[it] = struct{}{}
	}
	var extra []store.Key
	for i := range mine {
		id := s.itemID(&mine[i])
		if _, ok := have[id]; ok {
			delete(have, id)
			continue
		}
		extra = append(extra, mine[i])
	}
	for _, it := range theirs {
		if _, ok := have[it]; ok {
			out.candidates = append(out.candidates, it)
			delete(have, it)
		}
	}
	return extra
}

// rootRange is the first message of a session: one fingerprint over the
// whole key space, taken from the store's running digest.
func rootRange(d store.Digest, v3 bool, salt []byte) protocol.Range {
	return protocol.Range{Upper: protocol.Bound{Inf: true}, Mode: protocol.ModeFingerprint, Fingerprint: digestFingerprint(d, v3, salt), Count: d.Count}
}

// peerEmpty reports whether the peer's FINGERPRINT range holds nothing:
// its count is 0, or on sync/3 (which sends no count) its fingerprint is
// that of the empty set.
func (s *snapshot) peerEmpty(rg *protocol.Range) bool {
	if s.v3 {
		return rg.Fingerprint == s.fingerprint(nil)
	}
	return rg.Count == 0
}

// listMax is the session's list threshold.
func (s *snapshot) listMax() int {
	_, list := s.params()
	return list
}
