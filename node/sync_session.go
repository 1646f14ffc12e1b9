package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// session is one side of one sync session. Only its goroutine uses it.
type session struct {
	n    *Node
	s    network.Stream
	peer peer.ID
	fr   *protocol.FrameReader
	fw   *protocol.FrameWriter
	snap *snapshot
	// slot is the admission slot of an inbound session (nil otherwise),
	// told of every step forward; end is the session's deadline.
	slot      *inboundSession
	initiator bool
	end       time.Time
	// v1: the session runs on /khantara/sync/1 and reconciles v1 records
	// only (loadSnapshot): it lists and serves no other, and a peer that
	// offers or sends one commits a violation.
	v1 bool
	// v3: the session runs on /khantara/sync/3 (PROTOCOL.md 9.13); salt is
	// the initiator's, which keys its fingerprints.
	v3   bool
	salt []byte
	// v4: the session runs on /khantara/sync/4 (PROTOCOL.md 9.14): sync/3
	// plus the sketch of M1 and WANTs by hash (sync4_session.go).
	v4 bool
	// retried holds the WANTs by hash asked for a second time.
	retried map[protocol.ItemID]bool

	pending     []protocol.ItemID            // wanted, not yet asked for
	outstanding map[protocol.ItemID]struct{} // asked for in the last message
	answer      []protocol.ItemID            // the peer's wants, answered by write

	messages, fetched, applied, served int
	// sent counts the messages this side sent; lastEnvelope is the number
	// of the last message that carried an envelope, either way (M1 is the
	// initiator's first).
	sent, lastEnvelope int
	// chainPending and revoked count fetched records of organisations whose
	// chain was pending here, or whose chain's head no longer authorises
	// them (sync_auth.go).
	chainPending, revoked int
	// learned counts announcements that changed the state or recorded an
	// equivocation: news worth passing on (see scheduler.cascade).
	learned int
	// storing is the fetched batch being stored behind the session
	// (sync_apply.go).
	storing applier
}

// message is one turn of a session: the frames up to END.
type message struct {
	ranges []protocol.Range
	wants  []protocol.ItemID
	opened []*protocol.Signed // received envelopes, verified
	sketch protocol.Sketch    // sync/4, M1 only
}

// readSalt fills an initiator's salt (PROTOCOL.md 9.13) with random
// bytes. Tests that must see one outcome of a salted sketch replace it.
var readSalt = func(b []byte) { _, _ = rand.Read(b) } // crypto/rand.Read never fails

func (ss *session) run(ctx context.Context, initiator bool) (err error) {
	defer func() { err = ss.endStoring(err) }()
	hello := protocol.Hello{Version: ss.version(), Network: ss.n.cfg.Network}
	if ss.v3 && initiator {
		ss.salt = make([]byte, protocol.SaltLen)
		readSalt(ss.salt)
		hello.Salt = ss.salt
	}
	if initiator {
		if err := ss.fw.Hello(hello); err != nil {
			return err
		}
		if err := ss.fw.Flush(); err != nil {
			return err
		}
	}
	if err := ss.readHello(); err != nil {
		return err
	}
	if !initiator {
		if err := ss.fw.Hello(hello); err != nil {
			return err
		}
	}
	if initiator {
		d, err := ss.rootDigest()
		if err != nil {
			return err
		}
		m1 := &message{ranges: []protocol.Range{rootRange(d, ss.v3, ss.salt)}}
		if err := ss.sketchM1(m1); err != nil {
			return err
		}
		if err := ss.write(m1); err != nil {
			return err
		}
	} else if err := ss.fw.Flush(); err != nil {
		return err
	}
	for {
		in, err := ss.read(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err := ss.process(ctx, in)
		if err != nil {
			return err
		}
		ss.slot.progress()
		if err := ss.settle(out); err != nil {
			return err
		}
		if len(in.wants) == 0 && !open(in.ranges) && len(out.wants) == 0 && len(out.ranges) == 0 {
			// Nothing was asked of us and we have nothing to ask: done.
			return ss.s.CloseWrite()
		}
		if err := ss.write(out); err != nil {
			return err
		}
	}
}

// deadline is when the next frame, or the peer's taking of the next chunk
// written, is due: syncHelloTimeout while a peer that opened the session
// has not finished its first message, else syncFrameTimeout, never after
// the session's end.
func (ss *session) deadline() time.Time {
	d := syncFrameTimeout
	if !ss.initiator && ss.messages == 0 {
		d = syncHelloTimeout
	}
	if t := time.Now().Add(d); t.Before(ss.end) {
		return t
	}
	return ss.end
}

// progressWriter is the stream as the frame writer sees it: each write
// must be taken by the peer within the frame deadline, and counts as
// progress of the session.
type progressWriter struct{ ss *session }

func (w progressWriter) Write(b []byte) (int, error) {
	w.ss.s.SetWriteDeadline(w.ss.deadline())
	n, err := w.ss.s.Write(b)
	if n > 0 {
		w.ss.slot.progress()
	}
	return n, err
}

func (ss *session) readHello() error {
	ss.s.SetReadDeadline(time.Now().Add(syncHelloTimeout))
	f, err := ss.fr.Next()
	if err != nil {
		return fmt.Errorf("read hello: %w", err)
	}
	ss.slot.progress()
	switch {
	case f.Type == protocol.FrameError:
		return fmt.Errorf("peer refused sync: %q", f.Error)
	case f.Type != protocol.FrameHello:
		return fmt.Errorf("%w: first frame is type %d, not HELLO", protocol.ErrSyncViolation, f.Type)
	case f.Hello.Version != ss.version():
		_ = ss.fw.Error(fmt.Sprintf("sync version %d is not supported", f.Hello.Version))
		return fmt.Errorf("peer speaks sync version %d", f.Hello.Version)
	case f.Hello.Network != ss.n.cfg.Network:
		_ = ss.fw.Error("this node is on network " + ss.n.cfg.Network)
		return fmt.Errorf("%w: %q", ErrNetworkMismatch, f.Hello.Network)
	case ss.v3 && ss.initiator && len(f.Hello.Salt) != 0:
		return fmt.Errorf("%w: a salt in the responder's HELLO", protocol.ErrSyncViolation)
	case ss.v3 && !ss.initiator && len(f.Hello.Salt) != protocol.SaltLen:
		return fmt.Errorf("%w: no salt in the initiator's HELLO", protocol.ErrSyncViolation)
	}
	if !ss.initiator {
		ss.salt = f.Hello.Salt
	}
	return nil
}

// version is the HELLO version of the session's protocol.
func (ss *session) version() uint64 {
	if ss.v4 {
		return protocol.SyncVersion4
	}
	if ss.v3 {
		return protocol.SyncVersion3
	}
	return protocol.SyncVersion
}

// read reads one message. Envelopes are verified on every core while the
// rest of the message arrives. io.EOF means the peer ended the session.
func (ss *session) read(ctx context.Context) (*message, error) {
	m := &message{}
	var v *verifier
	defer func() {
		if v != nil {
			v.stop()
		}
	}()
	first := true
	envelopes := 0 // in this message; at most one per outstanding want
	for {
		// The deadline is per frame: a large message on a slow link is
		// fine as long as it keeps moving.
		ss.s.SetReadDeadline(ss.deadline())
		f, err := ss.fr.Next()
		if errors.Is(err, io.EOF) && first {
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		first = false
		ss.slot.progress()
		if ss.fr.Read > maxSessionBytes {
			return nil, fmt.Errorf("%w: session exceeds %d bytes", protocol.ErrSyncViolation, maxSessionBytes)
		}
		switch f.Type {
		case protocol.FrameRange:
			if len(m.ranges) == protocol.MaxRangesPerMessage {
				return nil, fmt.Errorf("%w: more than %d ranges", protocol.ErrSyncViolation, protocol.MaxRangesPerMessage)
			}
			m.ranges = append(m.ranges, f.Range)
		case protocol.FrameWant:
			if len(m.wants)+len(f.Want) > protocol.MaxWantsPerMessage {
				return nil, fmt.Errorf("%w: more than %d wants", protocol.ErrSyncViolation, protocol.MaxWantsPerMessage)
			}
			m.wants = append(m.wants, f.Want...)
		case protocol.FrameEnvelope:
			if envelopes == len(ss.outstanding) {
				return nil, errUnaskedEnvelope
			}
			envelopes++
			ss.fetched++
			if v == nil {
				v = newVerifier(ctx, len(ss.outstanding))
			}
			if err := v.add(append([]byte(nil), f.Envelope...)); err != nil {
				return nil, err
			}
		case protocol.FrameSketch:
			if err := ss.takeSketch(m, f.Sketch); err != nil {
				return nil, err
			}
		case protocol.FrameEnd:
			ss.messages++
			ss.lastEnvelope = max(ss.lastEnvelope, min(envelopes, 1)*ss.number(ss.messages, false))
			if ss.messages > maxSessionMessages {
				return nil, fmt.Errorf("%w: more than %d messages", protocol.ErrSyncViolation, maxSessionMessages)
			}
			if v != nil {
				opened, err := v.wait()
				v = nil
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if err != nil {
					return nil, fmt.Errorf("%w: served an invalid envelope: %v", protocol.ErrSyncViolation, err)
				}
				m.opened = opened
			}
			ss.slot.message()
			return m, nil
		case protocol.FrameError:
			return nil, fmt.Errorf("peer ended sync: %q", f.Error)
		default:
			return nil, fmt.Errorf("%w: frame type %d inside a session", protocol.ErrSyncViolation, f.Type)
		}
	}
}

func (ss *session) process(ctx context.Context, in *message) (*message, error) {
	if ss.v1 {
		// Checked first: nothing of an offending message is applied.
		if err := v2Listed(in.ranges); err != nil {
			return nil, err
		}
	}
	// Envelopes: each must answer one of our wants.
	if len(in.opened) > 0 {
		for _, sg := range in.opened {
			a, id := sg.Announcement(), ss.itemID(sg)
			if _, ok := ss.outstanding[id]; !ok {
				id = ss.hashWanted(sg.Hash())
			}
			if _, ok := ss.outstanding[id]; !ok {
				return nil, fmt.Errorf("%w: envelope %s/%d was not asked for", protocol.ErrSyncViolation, a.Publisher, a.Seq)
			}
			delete(ss.outstanding, id)
			if ss.v1 && !protocol.IsV1(sg) {
				return nil, fmt.Errorf("%w: a v2 record %s/%d sent in a sync/1 session", protocol.ErrSyncViolation, a.Publisher, a.Seq)
			}
		}
		if err := ss.storeFetched(ctx, in.opened); err != nil {
			return nil, err
		}
	}
	ss.retryHashWants()
	clear(ss.outstanding)

	out := &message{}
	answered, err := ss.answerSketch(in, out)
	if err != nil {
		return nil, err
	}
	if len(in.ranges) > 0 && !answered {
		if err := ss.loadSnapshot(); err != nil {
			return nil, err
		}
		rep, err := ss.snap.respond(in.ranges)
		if err != nil {
			return nil, err
		}
		for _, r := range rep.ranges {
			if r.Mode != protocol.ModeSkip {
				out.ranges = rep.ranges
				break
			}
		}
		for _, id := range rep.candidates {
			if !ss.n.policy.keeps(id.Publisher) {
				continue
			}
			seen, err := ss.n.store.Seen(id.Publisher, id.Seq, id.Prefix[:ss.prefixLen()])
			if err != nil {
				return nil, err
			}
			if !seen && !ss.storingID(id) {
				ss.pending = append(ss.pending, id)
			}
		}
	}
	k := min(len(ss.pending), protocol.MaxWantsPerMessage)
	out.wants = ss.pending[:k:k]
	ss.pending = ss.pending[k:]
	for _, id := range out.wants {
		ss.outstanding[id] = struct{}{}
	}
	// The peer's wants are answered while writing (see write).
	ss.answer = in.wants
	if ss.v4 {
		if ss.answer, err = ss.deferHashWants(in); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadSnapshot takes the session's snapshot, once.
func (ss *session) loadSnapshot() error {
	if ss.snap != nil {
		return nil
	}
	snap, err := loadSnapshot(ss.n.store, ss.v1)
	if snap != nil && ss.v3 {
		snap.v3, snap.salt = true, ss.salt
	}
	ss.snap = snap
	return err
}

// prefixLen is how many hash bytes name a record in the session's items.
func (ss *session) prefixLen() int {
	if ss.v3 {
		return protocol.Prefix3Len
	}
	return protocol.HashPrefixLen
}

// rootDigest is the digest of the initiator's first message, from the
// store's running digests (syncDigest).
func (ss *session) rootDigest() (store.Digest, error) {
	return syncDigest(ss.n.store, ss.v1)
}

// v2Listed returns a violation if a LIST or HAVE range of a sync/1 peer
// names a v2 record (one whose publisher is not a key): a peer that
// speaks only sync/1 cannot hold one honestly.
func v2Listed(ranges []protocol.Range) error {
	for i := range ranges {
		for _, id := range ranges[i].Items {
			if !protocol.IsKey(id.Publisher) {
				return fmt.Errorf("%w: a v2 record (publisher %s) listed in a sync/1 session", protocol.ErrSyncViolation, id.Publisher)
			}
		}
	}
	return nil
}
