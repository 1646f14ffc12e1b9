package node

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxClockSkew is how far in the future an announcement's time may be
// before gossip ignores it (sync still takes it: the signer is not lying
// about anything this node can check, its clock is just wrong).
const MaxClockSkew = 10 * time.Minute

// Reasons a message is rejected or ignored, as counted in Stats.
const (
	ReasonTooLarge          = "too_large"
	ReasonMalformed         = "malformed"
	ReasonPayloadType       = "payload_type"
	ReasonKeyType           = "key_type"
	ReasonBadSignature      = "bad_signature"
	ReasonPublisherMismatch = "publisher_mismatch"
	ReasonInvalid           = "invalid"
	ReasonPolicy            = "policy"
	ReasonFuture            = "future"
	ReasonDuplicate         = "duplicate"
	ReasonStale             = "stale"
	ReasonEquivocation      = "equivocation"
	// ReasonQuota: the publisher is over its quota here (open mode).
	ReasonQuota = "quota"
	// ReasonNoSpace: the data directory is short of disk space; the
	// message is ignored, never held against the peer.
	ReasonNoSpace = "no_space"
	// ReasonGraylisted, ReasonRPCTooLarge, ReasonMalformedRPC,
	// ReasonPubsubRules and ReasonOverload count gossip that pubsub drops
	// before the validator sees it (tracer.go); the last is an ignore.
	ReasonGraylisted   = "graylisted"
	ReasonRPCTooLarge  = "rpc_too_large"
	ReasonMalformedRPC = "malformed_rpc"
	ReasonPubsubRules  = "pubsub_rules"
	ReasonOverload     = "overload"
	// ReasonWrongTopic: a v1 record on the v2 topic or a v2 record on the
	// v1 topic (a reject).
	ReasonWrongTopic = "wrong_topic"
	// ReasonUnauthorised: a record of an organisation that its chain can
	// never authorise, or an operation that can never link (a reject).
	ReasonUnauthorised = "unauthorised"
	// ReasonPending: a record of an organisation whose chain cannot judge
	// it yet; it waits in the pending pool (an ignore).
	ReasonPending = "pending"
	// ReasonRevoked: a record its organisation's head does not authorise
	// now (revoked or expired signer, overturned delegation; an ignore).
	ReasonRevoked = "revoked"
	// ReasonChainMissing counts pending records dropped because the pool
	// was full or their chain did not arrive in time (PendingTTL).
	ReasonChainMissing = "chain_missing"
)

var rejectReasons = []struct {
	err    error
	reason string
}{
	{protocol.ErrTooLarge, ReasonTooLarge},
	{protocol.ErrPayloadType, ReasonPayloadType},
	{protocol.ErrKeyType, ReasonKeyType},
	{protocol.ErrBadSignature, ReasonBadSignature},
	{protocol.ErrPublisherMismatch, ReasonPublisherMismatch},
	{protocol.ErrInvalid, ReasonInvalid},
	{protocol.ErrMalformed, ReasonMalformed},
}

func rejectReason(err error) string {
	for _, r := range rejectReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ReasonMalformed
}

// counters are the node's message and sync counters, updated atomically.
type counters struct {
	accepted atomic.Uint64
	rejected [len(allReasons)]atomic.Uint64
	ignored  [len(allReasons)]atomic.Uint64

	applied atomic.Uint64
	// appliedAt is when the store last answered a write that applied
	// something (Unix nanoseconds), set before applied moves; the
	// propagation benchmark reads it as the time a practice was stored.
	appliedAt          atomic.Int64
	equivocations      atomic.Uint64
	syncRounds         atomic.Uint64
	syncFailures       atomic.Uint64
	syncSent, syncRecv atomic.Uint64
	syncApplied        atomic.Uint64
}

var allReasons = [...]string{
	ReasonTooLarge, ReasonMalformed, ReasonPayloadType, ReasonKeyType, ReasonBadSignature,
	ReasonPublisherMismatch, ReasonInvalid, ReasonPolicy, ReasonFuture, ReasonDuplicate,
	ReasonStale, ReasonEquivocation, ReasonQuota, ReasonNoSpace,
	ReasonGraylisted, ReasonRPCTooLarge, ReasonMalformedRPC, ReasonPubsubRules, ReasonOverload,
	ReasonWrongTopic, ReasonUnauthorised, ReasonPending, ReasonRevoked, ReasonChainMissing,
}

func reasonIndex(r string) int {
	for i, x := range allReasons {
		if x == r {
			return i
		}
	}
	return 0
}

// Stats is a snapshot of the node's counters since start.
type Stats struct {
	// Accepted counts gossip messages that passed validation.
	Accepted uint64
	// Rejected and Ignored count gossip messages by reason (Reason*).
	Rejected, Ignored map[string]uint64
	// Applied counts announcements that changed the store, by any path.
	Applied uint64
	// SyncRounds counts completed sync sessions, SyncFailures failed ones.
	SyncRounds, SyncFailures uint64
	// SyncBytesSent and SyncBytesReceived count sync frame bytes.
	SyncBytesSent, SyncBytesReceived uint64
	// SyncApplied counts announcements applied from sync.
	SyncApplied uint64
	// Equivocations counts equivocation evidence accepted from gossip.
	Equivocations uint64
}

// Stats returns the counters.
func (n *Node) Stats() Stats {
	c := &n.stats
	s := Stats{
		Accepted: c.accepted.Load(), Rejected: map[string]uint64{}, Ignored: map[string]uint64{},
		Applied: c.applied.Load(), SyncRounds: c.syncRounds.Load(), SyncFailures: c.syncFailures.Load(),
		SyncBytesSent: c.syncSent.Load(), SyncBytesReceived: c.syncRecv.Load(), SyncApplied: c.syncApplied.Load(),
		Equivocations: c.equivocations.Load(),
	}
	for i, r := range allReasons {
		if v := c.rejected[i].Load(); v > 0 {
			s.Rejected[r] = v
		}
		if v := c.ignored[i].Load(); v > 0 {
			s.Ignored[r] = v
		}
	}
	return s
}

func (n *Node) reject(reason string) pubsub.ValidationResult {
	n.stats.rejected[reasonIndex(reason)].Add(1)
	return pubsub.ValidationReject
}

func (n *Node) ignore(reason string) pubsub.ValidationResult {
	n.stats.ignored[reasonIndex(reason)].Add(1)
	return pubsub.ValidationIgnore
}

// validate is the validator of both topics (v2 says which). Invalid
// messages are rejected (which costs the delivering peer score); valid
// ones this node does not want are ignored; nothing is stored or forwarded
// before this returns Accept. Pubsub runs it concurrently on every core.
// The order: decode and verify, topic, policy and space, freshness, what
// the store holds (quota, duplicate, stale), the organisation's chain,
// equivocation, sequence gap.
func (n *Node) validate(ctx context.Context, from peer.ID, msg *pubsub.Message, v2 bool) pubsub.ValidationResult {
	if from == n.self {
		// Own publication: announce sealed and stored it already.
		return pubsub.ValidationAccept
	}
	signed, err := protocol.Open(msg.Data)
	if err != nil {
		return n.reject(rejectReason(err))
	}
	if protocol.IsV1(signed) == v2 {
		return n.reject(ReasonWrongTopic)
	}
	ann := signed.Announcement()
	if reason := n.unwanted(ann); reason != "" {
		return n.ignore(reason)
	}
	// One snapshot answers every question below, and travels on with the
	// announcement so that the write transaction need not ask again
	// (store.Prior says when it may reuse it).
	prior, err := n.store.Lookup(signed)
	if err != nil {
		// Not this peer's fault: ignore, and let sync bring it later.
		n.log.Error("Cannot read the store while validating gossip.", "err", err)
		return pubsub.ValidationIgnore
	}
	if ok, err := n.quotas.admit(signed, len(msg.Data), false, nil, prior); err != nil {
		n.log.Error("Cannot read the store while validating gossip.", "err", err)
		return pubsub.ValidationIgnore
	} else if !ok {
		return n.ignore(ReasonQuota)
	}
	if prior.Seen() {
		return n.ignore(ReasonDuplicate)
	}
	head, held := prior.Head()
	if held && !head.LosesTo(ann.Seq, signed.Hash()) && head.Seq != ann.Seq {
		return n.ignore(ReasonStale)
	}
	if v, ok := n.judgeOrg(signed, from); !ok {
		return v
	}
	msg.ValidatorData = &validated{signed: signed, prior: prior}
	if held && !head.LosesTo(ann.Seq, signed.Hash()) {
		// A second announcement with the same sequence, never seen here:
		// evidence of equivocation. It loses, but it is stored (recording
		// the equivocation) and forwarded once, so every replica records
		// the same; the seen log stops it the second time.
		n.stats.equivocations.Add(1)
		return pubsub.ValidationAccept
	}
	// A sequence gap means this node missed something: ask the peer that
	// delivered the message for a sync.
	if sum, known := prior.Publisher(); known && ann.Seq > sum.MaxSeenSeq+1 || !known && ann.Seq > 1 {
		n.sched.request(msg.ReceivedFrom, reasonGap)
	}
	n.stats.accepted.Add(1)
	return pubsub.ValidationAccept
}

// unwanted returns why the node does not want ann whatever it holds (the
// trust policy, a full disk, a time too far ahead), or "".
func (n *Node) unwanted(ann *protocol.Announcement) string {
	switch {
	case !n.policy.keeps(ann.Publisher):
		return ReasonPolicy
	case n.writesPaused():
		// Not the peer's fault: sync brings it once space returns.
		return ReasonNoSpace
	case ann.Time.After(n.now().Add(MaxClockSkew)):
		return ReasonFuture
	}
	return ""
}

// judgeOrg checks a record of an organisation against its chain for the
// validator: ok when the chain authorises it (or the publisher is a
// plain key); otherwise the verdict. A pending record is held in the
// pending pool, to be applied (and published) when its chain arrives.
func (n *Node) judgeOrg(sg *protocol.Signed, from peer.ID) (pubsub.ValidationResult, bool) {
	if !protocol.IsOrg(sg.Announcement().Publisher) {
		return pubsub.ValidationAccept, true
	}
	for range 3 {
		gen := n.orgs.generation()
		_, err := n.orgs.authorise(sg)
		switch {
		case err == nil:
			return pubsub.ValidationAccept, true
		case errors.Is(err, protocol.ErrChainPending):
			switch n.pending.hold(sg, from, gen) {
			case holdOK:
				return n.ignore(ReasonPending), false
			case holdFull:
				return pubsub.ValidationIgnore, false // counted as chain_missing
			}
			// The chain changed meanwhile: judge again.
		case errors.Is(err, protocol.ErrUnauthorised):
			return n.reject(ReasonUnauthorised), false
		case errors.Is(err, protocol.ErrRevoked):
			return n.ignore(ReasonRevoked), false
		case errors.Is(err, ErrOrgQuota):
			return n.ignore(ReasonQuota), false
		default:
			n.log.Error("Cannot read the store while validating gossip.", "err", err)
			return pubsub.ValidationIgnore, false
		}
	}
	return n.ignore(ReasonPending), false // the chains keep changing: sync brings it later
}

// validated is what the validator hands on with an accepted message: the
// decoded announcement and what the store said about it.
type validated struct {
	signed *protocol.Signed
	prior  *store.Prior
}

// ingestItem is one announcement on its way into the store.
type ingestItem struct {
	signed *protocol.Signed
	prior  *store.Prior // what the validator read; nil from other paths
	from   peer.ID
}

func (n *Node) enqueue(ctx context.Context, it ingestItem) {
	select {
	case n.ingest <- it:
	case <-ctx.Done():
	case <-n.ctx.Done():
	}
}

// applyLoop stores gossip in groups: whatever has arrived while the
// previous group was being written goes into one write. It does not wait
// for the fsync (committed): the store syncs the groups within its sync
// delay while the loop writes the next. It fails if the store is closed
// under it.
func (n *Node) applyLoop(ctx context.Context) error {
	batch := make([]store.Incoming, 0, 256)
	names := peerNames{}
	for {
		batch = batch[:0]
		select {
		case it := <-n.ingest:
			batch = append(batch, store.Incoming{Signed: it.signed, From: names.of(it.from), Prior: it.prior})
		case <-ctx.Done():
			return nil
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case it := <-n.ingest:
				batch = append(batch, store.Incoming{Signed: it.signed, From: names.of(it.from), Prior: it.prior})
			default:
				break drain
			}
		}
		if _, err := n.apply(context.WithoutCancel(ctx), batch, committed); errors.Is(err, store.ErrNoSpace) {
			// Accepted just before writes paused; sync brings them later.
			n.stats.ignored[reasonIndex(ReasonNoSpace)].Add(uint64(len(batch)))
		} else if errors.Is(err, store.ErrClosed) {
			return err
		} else if err != nil {
			n.log.Error("Cannot store gossiped announcements.", "count", len(batch), "err", err)
		}
	}
}

// peerNames caches the text form of the peers that deliver gossip, which
// are few (a node's mesh): encoding a peer ID in base58 costs more than
// the rest of handing its message to the store. Not safe for concurrent
// use (applyLoop owns it).
type peerNames map[peer.ID]string

// of returns p.String(), cached; the cache is emptied when it holds 1024.
func (m peerNames) of(p peer.ID) string {
	if s, ok := m[p]; ok {
		return s
	}
	if len(m) >= 1024 {
		clear(m)
	}
	s := p.String()
	m[p] = s
	return s
}

func (n *Node) countApplied(res []store.Result) int {
	applied := 0
	for _, r := range res {
		if r.Outcome == store.Applied {
			applied++
		}
	}
	if applied > 0 {
		n.stats.appliedAt.Store(time.Now().UnixNano())
		n.stats.applied.Add(uint64(applied))
	}
	return applied
}
