package node

import (
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// write sends a message: ranges, wants, the envelopes the peer asked for
// in its last message, END.
func (ss *session) write(m *message) error {
	if m.sketch != nil {
		if err := ss.fw.Sketch(m.sketch); err != nil {
			return err
		}
	}
	for i := range m.ranges {
		if err := ss.fw.Range(&m.ranges[i]); err != nil {
			return err
		}
	}
	for w := m.wants; len(w) > 0; {
		k := min(len(w), protocol.MaxListItems)
		if err := ss.fw.Want(w[:k]); err != nil {
			return err
		}
		w = w[k:]
	}
	ss.sent++
	served := ss.served
	defer func() {
		if ss.served > served {
			ss.lastEnvelope = ss.number(ss.sent, true)
		}
	}()
	refs := make([]store.EnvelopeRef, 0, len(ss.answer))
	for _, id := range ss.answer {
		if ss.v1 && !protocol.IsKey(id.Publisher) {
			continue // never listed here: a sync/1 peer gets no v2 record
		}
		if id.IsHashItem() {
			k, ok, err := ss.byHash(id)
			if err != nil {
				return err
			}
			if !ok {
				continue // not held (any more): skipped without a word
			}
			id = k
		}
		refs = append(refs, store.EnvelopeRef{Publisher: id.Publisher, Seq: id.Seq, Prefix: id.Prefix[:ss.prefixLen()]})
	}
	// One not held any more was superseded since: the peer will learn
	// the newer one. Envelopes skips it.
	err := ss.n.store.Envelopes(refs, func(_ int, env []byte) error {
		if ss.v1 {
			// A second guard: a key publisher's v2 records are never
			// listed in a sync/1 session either (V1Keys), but a peer may
			// ask for one by its ID, or the slot may hold one by now.
			sg, err := protocol.DecodeStored(env)
			if err != nil {
				return err
			}
			if !protocol.IsV1(sg) {
				return nil
			}
		}
		if err := ss.fw.Envelope(env); err != nil {
			return err
		}
		ss.served++
		return nil
	})
	if err != nil {
		return err
	}
	ss.answer = nil
	return ss.fw.End()
}
