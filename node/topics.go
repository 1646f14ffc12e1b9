package node

import (
	"context"
	"fmt"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Two gossip topics (PROTOCOL.md 12, interop with v1 peers). v1 peers
// reject every record they cannot check, which costs the peer that
// delivers it score, so records of organisations and of the new kinds (v2
// records, !protocol.IsV1) never reach them: v1 records travel on the v1
// topic (protocol.Topic), v2 records on the v2 topic (protocol.TopicV2). A node
// subscribes to both, with one validator each; a record on the other
// topic is rejected (ReasonWrongTopic).

// topicFor returns the topic a record is published on.
func (n *Node) topicFor(sg *protocol.Signed) *pubsub.Topic {
	if protocol.IsV1(sg) {
		return n.topic
	}
	return n.topic2
}

// publish gossips a record this node has stored on the topic its kind
// needs. A failure is logged: the record is stored, and sync carries it.
func (n *Node) publish(ctx context.Context, sg *protocol.Signed) {
	if err := n.topicFor(sg).Publish(ctx, sg.Envelope(), pubsub.WithValidatorData(sg)); err != nil {
		a := sg.Announcement()
		n.log.Warn("Announcement stored but not gossiped; sync will carry it.", "publisher", a.Publisher, "seq", a.Seq, "err", err)
	}
}

// joinTopic starts gossipsub, registers a validator on each topic and
// subscribes to both. Peer scoring covers both topics.
func (n *Node) joinTopic(o *options, undo *undoList) (err error) {
	v1, v2 := protocol.Topic(n.cfg.Network), protocol.TopicV2(n.cfg.Network)
	opts := append(PubsubOptions(v1, true, v2), pubsub.WithLogger(o.log))
	opts = append(append(opts, tracerOptions(n, []string{v1, v2}, o.log)...), o.psOpts...)
	if n.ps, err = pubsub.NewGossipSub(n.ctx, pubsubHost{Host: n.host, n: n}, opts...); err != nil {
		return fmt.Errorf("start gossipsub: %w", err)
	}
	if n.topic, n.sub, err = n.join(v1, false, undo); err != nil {
		return err
	}
	n.topic2, n.sub2, err = n.join(v2, true, undo)
	return err
}

// join registers the validator of a topic (v2 says which), joins it and
// subscribes.
func (n *Node) join(name string, v2 bool, undo *undoList) (*pubsub.Topic, *pubsub.Subscription, error) {
	validate := func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		return n.validate(ctx, from, msg, v2)
	}
	if err := n.ps.RegisterTopicValidator(name, pubsub.ValidatorEx(validate)); err != nil {
		return nil, nil, fmt.Errorf("register the validator of %q: %w", name, err)
	}
	t, err := n.ps.Join(name)
	if err != nil {
		return nil, nil, fmt.Errorf("join topic %q: %w", name, err)
	}
	undo.add(func() { t.Close() })
	sub, err := t.Subscribe(pubsub.WithBufferSize(1024))
	if err != nil {
		return nil, nil, fmt.Errorf("subscribe to %q: %w", name, err)
	}
	undo.add(sub.Cancel)
	return t, sub, nil
}

// readGossip returns the loop that hands accepted messages from sub to
// applyLoop. It fails if the subscription ends while ctx has not.
func (n *Node) readGossip(sub *pubsub.Subscription) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for {
			msg, err := sub.Next(ctx)
			if ctx.Err() != nil {
				return nil //nolint:nilerr // the node is stopping: not a failure of the loop
			}
			if err != nil {
				return err
			}
			if msg.ReceivedFrom == n.self {
				continue // own publication, stored before it was published
			}
			if v, ok := msg.ValidatorData.(*validated); ok {
				n.enqueue(ctx, ingestItem{signed: v.signed, prior: v.prior, from: msg.ReceivedFrom})
			}
		}
	}
}
