package node

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// hostileWith is tn.hostile with more gossipsub options and its own
// address, connected to n.
func (tn *testNet) hostileWith(seed uint64, addr string, n *Node, opts ...pubsub.Option) (peer.ID, *pubsub.Topic) {
	tn.t.Helper()
	h, _, tp := tn.hostileAt(seed, addr, opts...)
	if _, err := tn.mn.ConnectPeers(h.ID(), n.ID()); err != nil {
		tn.t.Fatal(err)
	}
	tn.eventually(10*time.Second, "hostile peer sees the node's subscription", func() bool { return len(tp.ListPeers()) == 1 })
	return h.ID(), tp
}

// TestTracerCountsDroppedGossip: an RPC over the maximum message size and
// the messages of a graylisted peer never reach the validator, and are
// counted all the same, once.
func TestTracerCountsDroppedGossip(t *testing.T) {
	tn := newTestNet(t, 77)
	a := tn.add()
	ctx := context.Background()

	t.Run("oversized RPC", func(t *testing.T) {
		_, tp := tn.hostileWith(701, "/ip4/10.251.0.1/tcp/4001", a, pubsub.WithMaxMessageSize(4<<20))
		before := a.Stats()
		const sent = 3
		for i := range sent {
			big := make([]byte, protocol.MaxEnvelopeSize+8<<10)
			big[0] = byte(i)
			if err := tp.Publish(ctx, big); err != nil {
				t.Fatal(err)
			}
		}
		tn.eventually(10*time.Second, "an oversized RPC counted", func() bool {
			return a.Stats().Rejected[ReasonRPCTooLarge] > before.Rejected[ReasonRPCTooLarge]
		})
		after := a.Stats()
		if got := after.Rejected[ReasonRPCTooLarge] - before.Rejected[ReasonRPCTooLarge]; got > sent {
			t.Errorf("%d oversized RPCs counted, %d sent", got, sent)
		}
		if after.Rejected[ReasonTooLarge] != before.Rejected[ReasonTooLarge] {
			t.Errorf("the validator saw an RPC over pubsub's limit: %+v", after.Rejected)
		}
		t.Logf("rejected after oversized RPCs: %+v", after.Rejected)
	})

	t.Run("graylisted peer", func(t *testing.T) {
		h, tp := tn.hostileWith(702, "/ip4/10.252.0.1/tcp/4001", a)
		garbage := func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("not an envelope "), uint64(i)) }
		sent := 0
		before := a.Stats()
		// Invalid messages, one every 20 ms, until the node's tracer counts
		// one as graylisted: three validator rejections bring the score
		// below -400, and the score snapshot follows within a second.
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(15 * time.Second)
		for a.Stats().Rejected[ReasonGraylisted] == before.Rejected[ReasonGraylisted] {
			select {
			case <-deadline:
				t.Fatalf("no graylisted message counted after %d invalid ones; score %v, rejected %+v", sent, a.PeerScores()[h], a.Stats().Rejected)
			case <-tick.C:
			}
			if err := tp.Publish(ctx, garbage(sent)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		if s := a.PeerScores()[h]; s >= -400 {
			t.Errorf("score %v, not below the graylist threshold", s)
		}
		// Now every message is dropped unread, and counted once.
		mid := a.Stats()
		const more = 10
		for i := range more {
			if err := tp.Publish(ctx, garbage(sent+i)); err != nil {
				t.Fatal(err)
			}
		}
		sent += more
		tn.eventually(10*time.Second, "the graylisted peer's messages counted", func() bool {
			return a.Stats().Rejected[ReasonGraylisted]-mid.Rejected[ReasonGraylisted] >= more
		})
		end := a.Stats()
		if end.Rejected[ReasonMalformed] != mid.Rejected[ReasonMalformed] {
			t.Errorf("the validator still judged a graylisted peer's messages: malformed %d -> %d", mid.Rejected[ReasonMalformed], end.Rejected[ReasonMalformed])
		}
		counted := end.Rejected[ReasonMalformed] - before.Rejected[ReasonMalformed] + end.Rejected[ReasonGraylisted] - before.Rejected[ReasonGraylisted]
		if counted > uint64(sent) {
			t.Errorf("%d messages sent, %d counted: some twice", sent, counted)
		}
		t.Logf("%d invalid messages sent: %d rejected by the validator, %d counted as graylisted", sent,
			end.Rejected[ReasonMalformed]-before.Rejected[ReasonMalformed], end.Rejected[ReasonGraylisted]-before.Rejected[ReasonGraylisted])
	})
}
