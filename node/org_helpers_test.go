package node

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// testOrg is an organisation made in a test: its rotation keys and the
// operations sealed so far.
type testOrg struct {
	t    testing.TB
	id   peer.ID
	keys []crypto.PrivKey
	gen  *protocol.Signed
	base time.Time // genesis time: records and operations are after it
}

func keyID(t testing.TB, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newTestOrg seals the genesis of an organisation with rotation keys of
// the given seeds and these delegations, an hour ago.
func newTestOrg(t testing.TB, name string, seeds []uint64, delegates ...protocol.Delegation) *testOrg {
	t.Helper()
	o := &testOrg{t: t, base: time.Now().UTC().Add(-time.Hour).Truncate(time.Second)}
	pubs := make([]crypto.PubKey, len(seeds))
	for i, s := range seeds {
		o.keys = append(o.keys, testKey(t, s))
		pubs[i] = o.keys[i].GetPublic()
	}
	ann, err := protocol.NewGenesis(name, pubs, o.base, delegates...)
	if err != nil {
		t.Fatal(err)
	}
	if o.gen, err = protocol.Seal(ann, o.keys[0]); err != nil {
		t.Fatal(err)
	}
	o.id = o.gen.Announcement().Publisher
	return o
}

// by returns a function that seals an operation (from protocol.Delegate,
// Revoke, Rotate...) with rotation key k: org.by(k)(protocol.Revoke(...)).
func (o *testOrg) by(k crypto.PrivKey) func(*protocol.Announcement, error) *protocol.Signed {
	return func(ann *protocol.Announcement, err error) *protocol.Signed {
		o.t.Helper()
		if err != nil {
			o.t.Fatal(err)
		}
		sg, err := protocol.Seal(ann, k)
		if err != nil {
			o.t.Fatal(err)
		}
		return sg
	}
}

// record seals a record of the organisation signed by delegate key k,
// with auth the operation auth, at seq and time.
func (o *testOrg) record(k crypto.PrivKey, auth *protocol.Signed, seq uint64, at time.Time, ann *protocol.Announcement) *protocol.Signed {
	o.t.Helper()
	ann.V, ann.Publisher, ann.Seq, ann.Time, ann.Auth = protocol.Version, o.id, seq, at.UTC(), auth.Hash()
	sg, err := protocol.Seal(ann, k)
	if err != nil {
		o.t.Fatal(err)
	}
	return sg
}

func practiceAnn(s *protocol.FactSheet) *protocol.Announcement {
	return &protocol.Announcement{Kind: protocol.KindPractice, Practice: s}
}

func delegation(id peer.ID, may ...protocol.Kind) protocol.Delegation {
	return protocol.Delegation{Key: id, May: may}
}

func submit(t testing.TB, n *Node, sg *protocol.Signed) {
	t.Helper()
	if _, err := n.Submit(context.Background(), sg.Envelope()); err != nil {
		t.Fatalf("submit %s/%d (%s): %v", sg.Announcement().Publisher, sg.Announcement().Seq, sg.Announcement().Kind, err)
	}
}

// gossipTo runs n's validator on sg as if peer from had delivered it on
// the v1 or v2 topic, and hands an accepted message to the ingest loop as
// the gossip reader does.
func gossipTo(n *Node, from peer.ID, sg *protocol.Signed, v2 bool) pubsub.ValidationResult {
	r, v := validateFrom(n, from, sg, v2)
	if v != nil {
		n.enqueue(context.Background(), ingestItem{signed: v.signed, prior: v.prior, from: from})
	}
	return r
}

// validateFrom runs n's validator on sg as if peer from had delivered it
// on the v1 or v2 topic; for an accepted message it also returns what the
// validator hands on.
func validateFrom(n *Node, from peer.ID, sg *protocol.Signed, v2 bool) (pubsub.ValidationResult, *validated) {
	msg := &pubsub.Message{Message: &pb.Message{Data: sg.Envelope()}, ReceivedFrom: from}
	r := n.validate(context.Background(), from, msg, v2)
	if v, ok := msg.ValidatorData.(*validated); ok && r == pubsub.ValidationAccept {
		return r, v
	}
	return r, nil
}

// waitTopics waits until every pair of connected nodes sees the other
// subscribed to both topics, so flood publishing reaches it.
func (tn *testNet) waitTopics() {
	tn.t.Helper()
	tn.eventually(20*time.Second, "topic subscriptions", func() bool {
		for _, n := range tn.nodes {
			peers := len(n.Host().Network().Peers())
			if len(n.ps.ListPeers(n.topic.String())) < peers || len(n.ps.ListPeers(n.topic2.String())) < peers {
				return false
			}
		}
		return true
	})
}

// holds reports whether n holds sg as the state of its slot.
func holds(n *Node, sg *protocol.Signed) bool {
	h, err := n.Store().Head(sg.Announcement().Publisher, sg.Slot())
	return err == nil && h.Hash == sg.Hash()
}

func allHold(nodes []*Node, sgs ...*protocol.Signed) func() bool {
	return func() bool {
		for _, n := range nodes {
			for _, sg := range sgs {
				if !holds(n, sg) {
					return false
				}
			}
		}
		return true
	}
}

func noneHold(nodes []*Node, sgs ...*protocol.Signed) func() bool {
	return func() bool {
		for _, n := range nodes {
			for _, sg := range sgs {
				if holds(n, sg) {
					return false
				}
			}
		}
		return true
	}
}

// hostileV2 is a bare libp2p host with its own gossipsub, no validation,
// subscribed to the v2 topic only, connected to nodes.
func (tn *testNet) hostileV2(seed uint64, nodes ...*Node) (crypto.PrivKey, *pubsub.Topic) {
	tn.t.Helper()
	k := testKey(tn.t, seed)
	h, err := tn.mn.AddPeer(k, ma.StringCast("/ip4/10.251.0.1/tcp/4001"))
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { h.Close() })
	if err := tn.mn.LinkAll(); err != nil {
		tn.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn.t.Cleanup(cancel)
	name := protocol.TopicV2(protocol.DefaultNetwork)
	ps, err := pubsub.NewGossipSub(ctx, h, PubsubOptions(name, false)...)
	if err != nil {
		tn.t.Fatal(err)
	}
	tp, err := ps.Join(name)
	if err != nil {
		tn.t.Fatal(err)
	}
	if _, err := tp.Subscribe(); err != nil {
		tn.t.Fatal(err)
	}
	for _, n := range nodes {
		if _, err := tn.mn.ConnectPeers(h.ID(), n.ID()); err != nil {
			tn.t.Fatal(err)
		}
	}
	tn.eventually(10*time.Second, "hostile peer subscribed", func() bool { return len(tp.ListPeers()) == len(nodes) })
	return k, tp
}
