package node

import (
	"fmt"

	"github.com/khantara/khantara/protocol"
)

// The parts of a session particular to /khantara/sync/4 (PROTOCOL.md
// 9.14): the sketch of the initiator's first message, the responder's
// answer to it, and WANTs by hash.

// sketchM1 adds the sketch of the whole set to the initiator's first
// message on sync/4.
func (ss *session) sketchM1(m1 *message) error {
	if !ss.v4 {
		return nil
	}
	if err := ss.loadSnapshot(); err != nil {
		return err
	}
	m1.sketch = ss.snap.sketch(sketchWidth)
	return nil
}

// answerSketch answers the initiator's first message when it carries a
// sketch that decodes (snapshot.answerSketch); answered false: answer its
// root range as sync/3 does.
func (ss *session) answerSketch(in, out *message) (bool, error) {
	if in.sketch == nil {
		return false, nil
	}
	if len(in.ranges) != 1 || !in.ranges[0].Upper.Inf || in.ranges[0].Mode != protocol.ModeFingerprint || len(in.wants) > 0 {
		return false, fmt.Errorf("%w: a SKETCH with other than the root FINGERPRINT", protocol.ErrSyncViolation)
	}
	if err := ss.loadSnapshot(); err != nil {
		return false, err
	}
	rep, wants, ok := ss.snap.answerSketch(in.sketch, &in.ranges[0])
	if !ok {
		return false, nil
	}
	out.ranges = rep.ranges
	ss.pending = append(ss.pending, wants...)
	return true, nil
}

// takeSketch keeps the SKETCH frame of a message being read: only the
// initiator's first message on sync/4 may carry one, once.
func (ss *session) takeSketch(m *message, sk protocol.Sketch) error {
	if !ss.v4 || ss.initiator || ss.messages > 0 || m.sketch != nil {
		return fmt.Errorf("%w: a SKETCH outside the initiator's first message", protocol.ErrSyncViolation)
	}
	m.sketch = sk
	return nil
}

// hashWanted is the WANT by hash that an envelope of hash h answers.
func (ss *session) hashWanted(h [32]byte) protocol.ItemID {
	var p [protocol.HashPrefixLen]byte
	copy(p[:], h[:])
	return protocol.HashItem(p)
}

// retryHashWants asks once more, in the next message, for the records
// wanted by hash that the peer's message did not bring: the peer defers
// one it may hold an older version of (snapshot.deferHashWants).
func (ss *session) retryHashWants() {
	for id := range ss.outstanding {
		if id.IsHashItem() && !ss.retried[id] {
			if ss.retried == nil {
				ss.retried = map[protocol.ItemID]bool{}
			}
			ss.retried[id] = true
			ss.pending = append(ss.pending, id)
		}
	}
}

// deferHashWants is the peer's wants less the WANTs by hash deferred to
// its next message.
func (ss *session) deferHashWants(in *message) ([]protocol.ItemID, error) {
	hashes := false
	for _, w := range in.wants {
		hashes = hashes || w.IsHashItem()
	}
	if !hashes {
		return in.wants, nil
	}
	if err := ss.loadSnapshot(); err != nil {
		return nil, err
	}
	var err error
	held := func(it protocol.ItemID) bool {
		seen, e := ss.n.store.Seen(it.Publisher, it.Seq, it.Prefix[:ss.prefixLen()])
		if e != nil {
			err = e
		}
		return seen
	}
	out := ss.snap.deferHashWants(in.wants, in.ranges, held)
	return out, err
}

// byHash names, as an item of the session, the record of the snapshot a
// WANT by hash asks for; ok false if it holds none.
func (ss *session) byHash(id protocol.ItemID) (protocol.ItemID, bool, error) {
	if err := ss.loadSnapshot(); err != nil {
		return protocol.ItemID{}, false, err
	}
	k, ok := ss.snap.byHash(id.Prefix)
	if !ok {
		return protocol.ItemID{}, false, nil
	}
	return ss.snap.itemID(k), true, nil
}

// number is the number of the k-th message this side sent (sent) or
// received: M1, M3, ... are the initiator's, M2, M4, ... the responder's.
func (ss *session) number(k int, sent bool) int {
	if sent == ss.initiator {
		return 2*k - 1
	}
	return 2 * k
}
