package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
)

// Session limits (this implementation's; PROTOCOL.md section 9 lists the
// protocol's own). A peer that exceeds one is cut off. Admission of the
// sessions peers open is in admission.go.
const (
	// syncHelloTimeout bounds the wait for the peer's HELLO and, when the
	// peer opened the session, for each frame of its first message: an
	// initiator has them ready at once.
	syncHelloTimeout = 5 * time.Second
	// syncFrameTimeout bounds the wait for each later frame, and for the
	// peer to take each chunk (64 KiB) this side writes. The longest
	// honest wait is a peer verifying and storing the 4,096 envelopes of
	// one message before it answers: 2 s on a loaded two-core machine
	// (0.5-0.8 s to store, up to 1.1 s to verify on one core). A frame of
	// 128 KiB fits it on a 105 kbit/s link.
	syncFrameTimeout = 10 * time.Second
	// syncSessionTimeout bounds a whole session.
	syncSessionTimeout = 10 * time.Minute
	// maxSessionBytes bounds what one session may receive (1 GiB: a
	// catch-up of about 250,000 practices).
	maxSessionBytes = 1 << 30
	// maxSessionMessages bounds the messages of one session.
	maxSessionMessages = 1024
)

// WithSyncV1Only makes the node speak only /khantara/sync/1, as a node
// from before organisations does: it serves and offers no other sync
// protocol, so every session reconciles v1 records only (PROTOCOL.md 9.1).
// For interoperability tests; the default serves both and offers
// /khantara/sync/2 first. Gossip is unchanged.
func WithSyncV1Only() Option { return func(o *options) { o.syncV1Only = true } }

// syncProtocols lists the sync protocols a node serves and offers, in the
// order it offers them.
func syncProtocols(v1Only bool) []libp2pproto.ID {
	if v1Only {
		return []libp2pproto.ID{protocol.SyncProtocolID}
	}
	return libp2pproto.ConvertFromStrings(protocol.SyncProtocols())
}

// serveSyncProtocols answers every sync protocol of the scheduler.
func (n *Node) serveSyncProtocols() {
	for _, id := range n.sched.protocols {
		n.host.SetStreamHandler(id, n.serveSync)
	}
}

// stopServingSync stops answering sync sessions. Safe to call twice.
func (n *Node) stopServingSync() {
	for _, id := range n.sched.protocols {
		n.host.RemoveStreamHandler(id)
	}
}

// SyncResult summarises one sync session.
type SyncResult struct {
	Peer peer.ID
	// Protocol is the stream protocol the session ran on: on
	// /khantara/sync/1 it reconciled v1 records only.
	Protocol string
	// Sent and Received count frame bytes, in both directions.
	Sent, Received int64
	// Messages counts the messages this side received.
	Messages int
	// Fetched counts envelopes received, Applied those that changed the
	// store, Served envelopes sent to the peer.
	Fetched, Applied, Served int
	// Pending counts fetched records of organisations whose chain was
	// pending here when they arrived: not stored, held in the node's
	// pending pool (and asked for again by the next session if still not
	// stored then). Skipped counts those the chain's head no longer
	// authorises.
	Pending, Skipped int
	// Duration is how long the session took.
	Duration time.Duration
	// EnvelopeMessage is the number of the last message of the session
	// that carried an envelope, either way (M1 is the initiator's first,
	// M2 the responder's answer; 0 if none did): the record the session
	// delivered last arrived within (EnvelopeMessage+1)/2 round trips.
	EnvelopeMessage int
}

// SyncWith runs one sync session with p as the initiator and returns when
// both sides hold the union of what they held (within the trust policy).
// Sessions with one peer run one at a time: SyncWith waits for one the
// scheduler started.
func (n *Node) SyncWith(ctx context.Context, p peer.ID) (SyncResult, error) {
	if n.ctx.Err() != nil {
		return SyncResult{}, ErrClosed
	}
	// The session ends when the node stops, too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(n.ctx, cancel)()
	release, err := n.sched.locks.lock(ctx, p)
	if err != nil {
		return SyncResult{Peer: p}, err
	}
	defer release()
	// A relayed link carries the session within the relay's limits
	// (host.go): a session that outgrows them is cut, keeps what it
	// stored, and the next one (direct once hole punching succeeds)
	// continues from the difference.
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "khantara sync"), p, n.sched.protocols...)
	if err != nil {
		return SyncResult{Peer: p}, fmt.Errorf("open sync stream to %s: %w", p, err)
	}
	return n.runSession(ctx, s, true, nil)
}

// serveSync answers a sync session a peer opened, if admission gives it a
// slot.
func (n *Node) serveSync(s network.Stream) {
	slot, ok := n.admitInbound(s)
	if !ok {
		s.Reset()
		return
	}
	defer n.sched.adm.release(slot)
	_, _ = n.runSession(n.ctx, s, false, slot) // the session records and logs its outcome
}

// runSession runs one session on s; slot is the admission slot of an
// inbound session, nil for an outbound one.
func (n *Node) runSession(ctx context.Context, s network.Stream, initiator bool, slot *inboundSession) (SyncResult, error) {
	start := time.Now()
	ss := &session{
		n: n, s: s, peer: s.Conn().RemotePeer(), slot: slot, initiator: initiator,
		v1:          s.Protocol() == protocol.SyncProtocolID,
		v3:          s.Protocol() == protocol.SyncProtocolID3 || s.Protocol() == protocol.SyncProtocolID4,
		v4:          s.Protocol() == protocol.SyncProtocolID4,
		end:         start.Add(syncSessionTimeout),
		outstanding: map[protocol.ItemID]struct{}{},
	}
	switch {
	case ss.v4:
		ss.fr, ss.fw = protocol.NewSync4(s, progressWriter{ss})
	case ss.v3:
		ss.fr, ss.fw = protocol.NewSync3(s, progressWriter{ss})
	default:
		ss.fr, ss.fw = protocol.NewFrameReader(s), protocol.NewFrameWriter(progressWriter{ss})
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	s.SetDeadline(ss.end)
	err := ss.run(ctx, initiator)
	res := SyncResult{
		Peer: ss.peer, Protocol: string(s.Protocol()), Sent: ss.fw.Written, Received: ss.fr.Read, Messages: ss.messages,
		Fetched: ss.fetched, Applied: ss.applied, Served: ss.served, Duration: time.Since(start),
		Pending: ss.chainPending, Skipped: ss.revoked, EnvelopeMessage: ss.lastEnvelope,
	}
	n.stats.syncSent.Add(uint64(res.Sent))
	n.stats.syncRecv.Add(uint64(res.Received))
	if errors.Is(err, store.ErrNoSpace) {
		// Not the peer's fault: no failure counted, the peer is told why.
		_ = ss.fw.Error("this node is short of disk space")
		s.Close()
		n.log.Info("Sync session ended: the disk is short of space.", "peer", ss.peer, "initiator", initiator, "err", err)
		n.sched.history.record(ss.peer, res, err)
		return res, err
	}
	if err != nil {
		if slot != nil && isTimeout(err) {
			n.sched.adm.timedOut(slot)
		}
		n.stats.syncFailures.Add(1)
		if errors.Is(err, protocol.ErrSyncViolation) {
			_ = ss.fw.Error(err.Error())
		}
		s.Reset()
		n.log.Debug("Sync session failed.", "peer", ss.peer, "initiator", initiator, "err", err)
		n.sched.history.record(ss.peer, res, err)
		return res, err
	}
	s.Close()
	n.stats.syncRounds.Add(1)
	if ss.learned > 0 {
		n.sched.cascade(ss.peer)
	}
	n.log.Debug("Sync session done.", "peer", ss.peer, "initiator", initiator, "sent", res.Sent, "received", res.Received, "applied", res.Applied)
	n.sched.history.record(ss.peer, res, nil)
	return res, nil
}

// isTimeout reports whether err is a stream deadline expiring.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// loadSnapshot reads the keys a session reconciles: every key, or with v1
// only those of v1 records (protocol.IsV1, per record: a key publisher's
// experience records and the retractions of its experience slots are v2
// records, and so is every record of an organisation), which the store
// keeps apart (store.V1Keys).
func loadSnapshot(st *store.Store, v1 bool) (*snapshot, error) {
	keys := st.Keys()
	if v1 {
		keys = st.V1Keys()
	}
	s := &snapshot{}
	for k, err := range keys {
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// syncDigest is the root digest of the set sync reconciles: the state,
// from the store's running per-publisher digests, plus the equivocation
// evidence. With v1 it covers v1 records only, exactly the keys of
// loadSnapshot: the publishers' running V1 digests (of their v1 state
// records) plus the evidence that is a v1 record (store.V1EvidenceDigest;
// a key publisher's evidence may be v2 records, its experience records).
func syncDigest(st *store.Store, v1 bool) (d store.Digest, err error) {
	for p, err := range st.Publishers() {
		if err != nil {
			return d, err
		}
		pd := p.Digest
		if v1 {
			pd = p.V1
		}
		d.Count += pd.Count
		d.MaxSeq = max(d.MaxSeq, pd.MaxSeq)
		d.Sum.Merge(pd.Sum)
	}
	ev, err := st.EvidenceDigest()
	if v1 {
		ev, err = st.V1EvidenceDigest()
	}
	if err != nil {
		return d, err
	}
	d.Count += ev.Count
	d.MaxSeq = max(d.MaxSeq, ev.MaxSeq)
	d.Sum.Merge(ev.Sum)
	return d, nil
}
