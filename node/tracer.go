package node

import (
	"context"
	"log/slog"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
)

// Gossip the topic validator never sees, counted in Stats with the
// validator's verdicts (go-libp2p-pubsub v0.19.0; the test pins each path):
//
//   - an RPC from a peer whose score is below the graylist threshold is
//     dropped by the router (AcceptFrom says AcceptNone) after RecvRPC and
//     before any message hook: its messages on the topic count as rejected
//     ReasonGraylisted. The score is the one PeerScores holds, refreshed
//     every scoreRefresh, so a peer's messages in that time after it
//     crosses the threshold may go uncounted, and ones in that time after
//     it climbs back may be counted here and by the validator;
//   - an RPC longer than the maximum message size is never decoded: pubsub
//     resets the stream and only logs it, at debug level, to its RPC
//     logger; rpcWatch (rpcwatch.go), reading the stream's framing beside
//     pubsub, counts one rejected ReasonRPCTooLarge per such RPC. An RPC
//     whose control part is too large is one rejected ReasonRPCTooLarge
//     too, and an RPC that does not decode one rejected
//     ReasonMalformedRPC, both from pubsub's warnings to its RPC logger,
//     which rpcCounter watches;
//   - RejectMessage hooks for pubsub's own checks (signature and author
//     fields a StrictNoSign topic forbids, blacklists, self-origin) count as
//     rejected ReasonPubsubRules, a full validation queue or validation
//     throttling as ignored ReasonOverload. The hooks for the validator's
//     own Reject and Ignore (pubsub.RejectValidationFailed and
//     RejectValidationIgnored) are not counted again.
//
// The node does not use pubsub's peer gater (ThrottlePeer) or direct peers.

// gossipTracer is the node's pubsub.RawTracer. Pubsub calls it from its
// event loop and validation workers; it only touches atomic counters and
// the score snapshot.
type gossipTracer struct {
	n         *Node
	topics    []string // the node's topics
	graylist  float64
	noopHooks // the hooks it does not need
}

func newGossipTracer(n *Node, topics []string) *gossipTracer {
	_, th := scoreParams(topics...)
	return &gossipTracer{n: n, topics: topics, graylist: th.GraylistThreshold}
}

// ours reports whether topic is one of the node's topics.
func (t *gossipTracer) ours(topic string) bool { return slices.Contains(t.topics, topic) }

// RecvRPC counts the node's topics' messages in an RPC from a graylisted peer.
func (t *gossipTracer) RecvRPC(rpc *pubsub.RPC) {
	if len(rpc.GetPublish()) == 0 {
		return
	}
	score, ok := t.n.PeerScores()[rpc.From()]
	if !ok || score >= t.graylist {
		return
	}
	k := 0
	for _, m := range rpc.GetPublish() {
		if t.ours(m.GetTopic()) {
			k++
		}
	}
	t.n.stats.rejected[reasonIndex(ReasonGraylisted)].Add(uint64(k))
}

// RejectMessage counts what pubsub refuses before or instead of the
// validator.
func (t *gossipTracer) RejectMessage(msg *pubsub.Message, reason string) {
	if !t.ours(msg.GetTopic()) {
		return
	}
	switch reason {
	case pubsub.RejectValidationFailed, pubsub.RejectValidationIgnored:
		// The validator's own verdicts, counted by Node.validate.
	case pubsub.RejectValidationQueueFull, pubsub.RejectValidationThrottled:
		t.n.stats.ignored[reasonIndex(ReasonOverload)].Add(1)
	default:
		t.n.stats.rejected[reasonIndex(ReasonPubsubRules)].Add(1)
	}
}

// noopHooks are the pubsub.RawTracer hooks the node has no use for.
type noopHooks struct{}

func (noopHooks) AddPeer(peer.ID, libp2pproto.ID)                      {}
func (noopHooks) RemovePeer(peer.ID)                                   {}
func (noopHooks) Join(string)                                          {}
func (noopHooks) Leave(string)                                         {}
func (noopHooks) Graft(peer.ID, string)                                {}
func (noopHooks) Prune(peer.ID, string)                                {}
func (noopHooks) ValidateMessage(*pubsub.Message)                      {}
func (noopHooks) DeliverMessage(*pubsub.Message)                       {}
func (noopHooks) DuplicateMessage(*pubsub.Message)                     {}
func (noopHooks) ThrottlePeer(peer.ID)                                 {}
func (noopHooks) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (noopHooks) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (noopHooks) UndeliverableMessage(*pubsub.Message)                 {}
func (noopHooks) OnNewOutboundStream(peer.ID, libp2pproto.ID)          {}
func (noopHooks) OnClosedOutboundStream(peer.ID)                       {}
func (noopHooks) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}

// The warnings pubsub's RPC reader logs when it drops an inbound stream
// (comm.go, handleNewStream).
const (
	logControlTooLarge = "RPC's control message is too large. Disconnecting. If this is a mistake, you should increase `WithMaxControlMessageSize`"
	logBogusRPC        = "bogus rpc from"
)

// rpcCounter is the slog.Handler of pubsub's RPC logger: it counts the
// inbound RPCs pubsub drops with a warning, then passes every record on
// to next if next takes its level. It sees warnings whatever next's
// level, and debug records (two for every RPC sent or received) only if
// next takes them.
type rpcCounter struct {
	n    *Node
	next slog.Handler
}

func (h *rpcCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *rpcCounter) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case logControlTooLarge:
		h.n.stats.rejected[reasonIndex(ReasonRPCTooLarge)].Add(1)
	case logBogusRPC:
		h.n.stats.rejected[reasonIndex(ReasonMalformedRPC)].Add(1)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *rpcCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return &rpcCounter{n: h.n, next: h.next.WithAttrs(as)}
}

func (h *rpcCounter) WithGroup(name string) slog.Handler {
	return &rpcCounter{n: h.n, next: h.next.WithGroup(name)}
}

// scoreRefresh is how often the node copies pubsub's peer scores (for
// PeerScores, the tracer's graylist test and sync admission): the tracer
// misses a graylisted peer's messages for at most this long.
const scoreRefresh = 250 * time.Millisecond

// tracerOptions are the pubsub options that give the node its view of
// pubsub: the raw tracer, the RPC logger (log's handler behind
// rpcCounter) and the score snapshot.
func tracerOptions(n *Node, topics []string, log *slog.Logger) []pubsub.Option {
	rpcLog := slog.New(&rpcCounter{n: n, next: log.Handler()}).With("system", "pubsub/rpc")
	inspect := func(m map[peer.ID]float64) { n.scores.Store(&m) }
	return []pubsub.Option{
		pubsub.WithRawTracer(newGossipTracer(n, topics)),
		pubsub.WithRPCLogger(rpcLog),
		// The named type matters: pubsub switches on the inspector's type.
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(inspect), scoreRefresh), //nolint:unconvert // see above
	}
}

var _ pubsub.RawTracer = (*gossipTracer)(nil)

// tracerRejects and tracerIgnores are the reasons the tracer and the RPC
// logger count, for metrics to start at zero.
var (
	tracerRejects = []string{ReasonGraylisted, ReasonRPCTooLarge, ReasonMalformedRPC, ReasonPubsubRules}
	tracerIgnores = []string{ReasonOverload}
)
