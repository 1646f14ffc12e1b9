package node

import (
	"crypto/sha256"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// messageID names a pubsub message by the SHA-256 of its data, so the same
// envelope relayed by different peers is one message, and a node that
// republishes an envelope does not flood it again.
func messageID(m *pb.Message) string {
	h := sha256.Sum256(m.Data)
	return string(h[:])
}

// maxRPCSize is the largest RPC gossipsub reads (its maximum message
// size): an envelope of protocol v1 plus framing.
const maxRPCSize = protocol.MaxEnvelopeSize + 4<<10

// PubsubOptions returns the gossipsub options every Khantara node uses:
//
//   - no pubsub-level signatures, author or sequence numbers
//     (StrictNoSign): every message is already a signed envelope, and a
//     second Ed25519 signature per message would double the crypto per hop;
//   - content-addressed message IDs (messageID);
//   - the maximum message size of protocol v1 plus framing;
//   - peer exchange on prune, so pruned peers learn other peers;
//   - peer scoring (scoreParams) when scoring is true, on topic and on
//     each of more (a node scores both its topics).
//
// The propagation benchmark builds its bare-gossipsub baseline from the
// same options without the validator, storage and scoring.
func PubsubOptions(topic string, scoring bool, more ...string) []pubsub.Option {
	opts := []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMaxMessageSize(maxRPCSize),
		pubsub.WithPeerExchange(true),
		pubsub.WithFloodPublish(true),
	}
	if scoring {
		params, thresholds := scoreParams(append([]string{topic}, more...)...)
		opts = append(opts, pubsub.WithPeerScore(params, thresholds))
	}
	return opts
}

// scoreParams are the peer-scoring parameters, the same on every topic.
// Practices are published a few a day per organisation, so the topics are
// quiet: nothing penalises a
// peer for delivering few messages (P3 and P3b off). What moves a score:
//
//   - P1 time in mesh: +0.01 per second, capped at +10 after about 17 min,
//     a small credit for staying;
//   - P2 first deliveries: +1 per message first delivered, capped at 50,
//     decaying to 1% in 10 minutes (half-life about 90 s);
//   - P4 invalid messages (validator Reject): -100 times the square of
//     the count, decaying to 1% in 100 s (0.955 per second, half-life
//     about 15 s), so one forged message brings a peer to the gossip
//     threshold, two below it and three below the graylist;
//   - P7 behaviour penalty (broken promises, GRAFT floods): -10 times the
//     square of the excess over 6;
//   - P6 IP colocation: -1 times the square of the excess over 20 peers
//     behind one IP, loose because several municipal nodes may share a
//     data centre.
//
// Thresholds: below -100 no gossip is exchanged with a peer, below -200 we
// stop publishing to it, below -400 its messages are dropped (graylist).
// Peer exchange is accepted only from peers above +5, opportunistic
// grafting starts below a mesh median of 1.
func scoreParams(topics ...string) (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	tp := pubsub.TopicScoreParams{
		TopicWeight:                     1,
		TimeInMeshWeight:                0.01,
		TimeInMeshQuantum:               time.Second,
		TimeInMeshCap:                   1000,
		FirstMessageDeliveriesWeight:    1,
		FirstMessageDeliveriesDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:       50,
		MeshMessageDeliveriesDecay:      0.5,
		MeshMessageDeliveriesCap:        1,
		MeshMessageDeliveriesThreshold:  1,
		MeshMessageDeliveriesWindow:     10 * time.Millisecond,
		MeshMessageDeliveriesActivation: time.Minute,
		MeshFailurePenaltyDecay:         0.5,
		InvalidMessageDeliveriesWeight:  -100,
		InvalidMessageDeliveriesDecay:   pubsub.ScoreParameterDecay(100 * time.Second),
	}
	params := &pubsub.PeerScoreParams{
		Topics:                      make(map[string]*pubsub.TopicScoreParams, len(topics)),
		TopicScoreCap:               100,
		AppSpecificScore:            func(peer.ID) float64 { return 0 },
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    -1,
		IPColocationFactorThreshold: 20,
		BehaviourPenaltyWeight:      -10,
		BehaviourPenaltyThreshold:   6,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:               time.Second,
		DecayToZero:                 0.01,
		RetainScore:                 10 * time.Minute,
	}
	for _, t := range topics {
		p := tp
		params.Topics[t] = &p
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:             -100,
		PublishThreshold:            -200,
		GraylistThreshold:           -400,
		AcceptPXThreshold:           5,
		OpportunisticGraftThreshold: 1,
	}
	return params, thresholds
}
