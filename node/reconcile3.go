package node

import (
	"slices"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// split3 is split on sync/3, where a bound costs the bytes it does not
// share with the bound before it: a cut between two publishers takes a
// few bytes of the second one, a cut inside a publisher the whole of it
// (unless the bound before is inside it too). So each cut starts at the
// even position, a bucket's worth after the previous cut, and moves within
// half a bucket either way to where its bound costs the fewest bytes (the
// nearest such place), never between keys sharing publisher and seq.
// mine must hold keys of at least two (publisher, seq).
func (s *snapshot) split3(out *reply, lower, upper protocol.Bound, mine []store.Key) {
	buckets, _ := s.params()
	n := len(mine)
	if cuts := publisherCuts(mine, buckets); len(cuts) > 0 {
		s.splitAt(out, upper, mine, cuts)
		return
	}
	per := (n + buckets - 1) / buckets
	prev := boundKey(lower)
	start := 0
	for start < n {
		cut, key := s.bestCut(mine, start, per, prev)
		ub := upper
		if cut < n {
			ub = protocol.Bound{Key: key}
		}
		part := mine[start:cut]
		out.add(protocol.Range{Upper: ub, Mode: protocol.ModeFingerprint, Fingerprint: s.fingerprint(part), Count: uint64(len(part))})
		prev, start = key, cut
	}
}

// publisherCuts returns, when mine holds keys of several publishers, cuts
// between publishers only: for each of the buckets-1 even positions the
// nearest place where the publisher changes, each place once, in order.
func publisherCuts(mine []store.Key, buckets int) []int {
	var changes []int
	for j := 1; j < len(mine); j++ {
		if mine[j].Publisher != mine[j-1].Publisher {
			changes = append(changes, j)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	var cuts []int
	for k := 1; k < buckets; k++ {
		ideal := k * len(mine) / buckets
		i, _ := slices.BinarySearch(changes, ideal)
		c := changes[min(i, len(changes)-1)]
		if i > 0 && (i == len(changes) || ideal-changes[i-1] < changes[i]-ideal) {
			c = changes[i-1]
		}
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	return cuts
}

// splitAt answers with the FINGERPRINT sub-ranges of mine cut at cuts.
func (s *snapshot) splitAt(out *reply, upper protocol.Bound, mine []store.Key, cuts []int) {
	start := 0
	for _, c := range append(cuts, len(mine)) {
		ub := upper
		if c < len(mine) {
			ub = s.cut(&mine[c-1], &mine[c])
		}
		part := mine[start:c]
		out.add(protocol.Range{Upper: ub, Mode: protocol.ModeFingerprint, Fingerprint: s.fingerprint(part), Count: uint64(len(part))})
		start = c
	}
}

// bestCut returns where the sub-range starting at start ends (len(mine)
// for the last one) and its bound's key string.
func (s *snapshot) bestCut(mine []store.Key, start, per int, prev []byte) (int, []byte) {
	n := len(mine)
	ideal := start + per
	if ideal >= n {
		return n, nil
	}
	best, bestCost, bestDist := -1, 0, 0
	var bestKey []byte
	for j := max(start+1, ideal-per/2); j <= min(n-1, ideal+per/2); j++ {
		a, b := &mine[j-1], &mine[j]
		if a.Publisher == b.Publisher && a.Seq == b.Seq {
			continue
		}
		key := protocol.SeparatingBound(a.Publisher, a.Seq, b.Publisher, b.Seq).Key
		cost, dist := len(key)-sharedLen(prev, key), abs(j-ideal)
		if best < 0 || cost < bestCost || cost == bestCost && dist < bestDist {
			best, bestCost, bestDist, bestKey = j, cost, dist, key
		}
	}
	if best >= 0 {
		return best, bestKey
	}
	// No cut in the window: the first one after it, if any.
	for j := min(n-1, ideal+per/2) + 1; j < n; j++ {
		if a, b := &mine[j-1], &mine[j]; a.Publisher != b.Publisher || a.Seq != b.Seq {
			return j, protocol.SeparatingBound(a.Publisher, a.Seq, b.Publisher, b.Seq).Key
		}
	}
	return n, nil
}

// boundKey is the key string of a bound that is not ∞.
func boundKey(b protocol.Bound) []byte {
	switch {
	case b.Key != nil:
		return b.Key
	case b.Publisher == "" && b.Seq == 0:
		return nil
	}
	return protocol.KeyString(b.Publisher, b.Seq)
}

func sharedLen(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
