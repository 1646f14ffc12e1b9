package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// BenchmarkGossipIngest is the receiving half of gossip on one node, with
// no network in the way: 256 workers (pubsub validates concurrently) each
// hand a message to the topic validator and, when it accepts, pass it on
// as the subscription loop does; the node's apply loop stores it. The
// announcements come from 500 publishers, 4 KB each. Side by side in the
// same run it measures raw Ed25519 verification of 4 KB on one core, and
// reports ingest/s and ingest/s ÷ that rate (x-verify-1core).
func BenchmarkGossipIngest(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pub := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, 4096)
	sig := ed25519.Sign(priv, msg)
	var verify1 float64
	b.Run("ed25519-verify-1core", func(b *testing.B) {
		start := time.Now()
		for range b.N {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("verify failed")
			}
		}
		verify1 = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(verify1, "verify/s")
	})
	b.Run("validate+store", func(b *testing.B) {
		cat := sealCatalogue(b, demoSheets(b), b.N, 500)
		tn := newTestNet(b, 0x1b)
		n := tn.add()
		from := peer.ID("gossip-bench-peer")
		msgs := make([]*pubsub.Message, b.N)
		for i, sg := range cat.signed {
			msgs[i] = &pubsub.Message{Message: &pb.Message{Data: sg.Envelope()}, ReceivedFrom: from}
		}
		runtime.GC()
		b.ResetTimer()
		start := time.Now()
		var next, accepted atomic.Int64
		var wg sync.WaitGroup
		ctx := context.Background()
		for range 256 {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(msgs); i = int(next.Add(1)) - 1 {
					if n.validate(ctx, from, msgs[i], false) == pubsub.ValidationAccept {
						accepted.Add(1)
						passOn(ctx, n, msgs[i])
					}
				}
			})
		}
		wg.Wait()
		for n.stats.applied.Load() < uint64(accepted.Load()) {
			time.Sleep(time.Millisecond)
		}
		rate := float64(b.N) / time.Since(start).Seconds()
		b.StopTimer()
		if got := accepted.Load(); got != int64(b.N) {
			b.Fatalf("validator accepted %d of %d", got, b.N)
		}
		b.ReportMetric(rate, "ingest/s")
		b.ReportMetric(rate/verify1, "x-verify-1core")
	})
}

// passOn hands an accepted message on as readGossip does: the decoded
// announcement and the validator's Prior travel with it.
func passOn(ctx context.Context, n *Node, msg *pubsub.Message) {
	v := msg.ValidatorData.(*validated)
	n.enqueue(ctx, ingestItem{signed: v.signed, prior: v.prior, from: msg.ReceivedFrom})
}
