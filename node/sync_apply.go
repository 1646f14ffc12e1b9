package node

import (
	"context"

	"github.com/khantara/khantara/protocol"
)

// Storing behind the session. A catch-up is a run of messages, each
// bringing up to protocol.MaxWantsPerMessage envelopes that are verified
// on every core as they arrive (verifier.go) and then stored with one
// fsync. Stored in the session's own turn, the disk would wait for the
// network and the next message for the disk; so each message's batch is
// handed to a goroutine of its own, which stores it while the session asks
// for the next batch and receives and verifies it.
//
// Nothing about what is stored changes: a batch holds only envelopes that
// opened (protocol.Open) and that vetFetched passed, and one batch is in
// flight at a time, so the next message is judged against the chains as
// the previous batch left them, as when storing waited. A message that
// asks the peer nothing (so may be the last it needs) is written only once
// the batch in flight is stored, and a session returns only once it is:
// when a session ends on either side, both sides hold what they fetched.
// A batch that fails to store ends the session with its error at the next
// message or at the session's end, whichever comes first.

// applier is the batch a session is storing, if any. Only the session's
// goroutine uses it; the storing goroutine writes res and then closes
// done, and res is read only after done is closed.
type applier struct {
	done chan struct{} // nil when no batch is in flight
	res  storeResult
	// ids are the items of the batch in flight: fetched, perhaps not in
	// the store yet, so not to be asked for again.
	ids map[protocol.ItemID]struct{}
}

// storeResult is what storeBatch returned for one batch.
type storeResult struct {
	applied, learned int
	err              error
}

// storeBehind starts storing opened, which vetFetched passed, after the
// batch before it (the caller waited for it with waitStored).
func (ss *session) storeBehind(ctx context.Context, opened []*protocol.Signed) {
	a := &ss.storing
	if a.ids == nil {
		a.ids = make(map[protocol.ItemID]struct{}, len(opened))
	}
	for _, sg := range opened {
		a.ids[ss.itemID(sg)] = struct{}{}
	}
	done := make(chan struct{})
	a.done = done
	go func() {
		defer close(done)
		applied, learned, err := ss.storeBatch(ctx, opened)
		a.res = storeResult{applied: applied, learned: learned, err: err}
	}()
}

// waitStored waits for the batch in flight, if any, counts what it
// stored, and returns its error.
func (ss *session) waitStored() error {
	a := &ss.storing
	if a.done == nil {
		return nil
	}
	<-a.done
	a.done = nil
	clear(a.ids)
	ss.applied += a.res.applied
	ss.learned += a.res.learned
	return a.res.err
}

// settle waits for the batch in flight before out is written, or the
// session ended in its place, when out may be the last the peer needs:
// it asks nothing (no wants, no open range), so the peer may end the
// session on reading it, or on seeing this side end.
// So when a session ends on either side, everything either side received
// in it is stored, as when storing held the session up.
func (ss *session) settle(out *message) error {
	if len(out.wants) > 0 || open(out.ranges) {
		return nil
	}
	return ss.waitStored()
}

// storingID reports whether id is in the batch being stored.
func (ss *session) storingID(id protocol.ItemID) bool {
	_, ok := ss.storing.ids[id]
	return ok
}

// endStoring is run's last step: it waits for the batch in flight and
// returns err, or when err is nil, the batch's error.
func (ss *session) endStoring(err error) error {
	if serr := ss.waitStored(); err == nil {
		return serr
	}
	return err
}

// itemID is the item a fetched envelope answers, as the session's wants
// name it.
func (ss *session) itemID(sg *protocol.Signed) protocol.ItemID {
	a := sg.Announcement()
	id := protocol.ItemID{Publisher: a.Publisher, Seq: a.Seq}
	h := sg.Hash()
	copy(id.Prefix[:], h[:ss.prefixLen()])
	return id
}
