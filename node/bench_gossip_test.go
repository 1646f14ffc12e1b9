package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"

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
	// Plain publishers, then 500 organisations each publishing through
	// one delegated key (the chain check on top of the rest), then the
	// two again in the other order, so that neither always runs on the
	// warmer (or the more fragmented) machine: compare the ratios of one
	// run, pairing the -1 and -2 of each.
	plain := func(b *testing.B) {
		cat := sealCatalogue(b, demoSheets(b), b.N, 500)
		benchIngest(b, cat.signed, nil, verify1)
	}
	delegated := func(b *testing.B) {
		geneses, signed := sealDelegated(b, demoSheets(b), b.N, 500)
		benchIngest(b, signed, geneses, verify1)
	}
	b.Run("validate+store-1", plain)
	b.Run("validate+store-delegated-1", delegated)
	b.Run("validate+store-delegated-2", delegated)
	b.Run("validate+store-2", plain)
}

// sealDelegated seals n practices of orgs organisations, each signed by
// the one key its genesis delegates, and returns the geneses and the
// practices.
func sealDelegated(b *testing.B, sheets []*protocol.FactSheet, n, orgs int) ([]*protocol.Signed, []*protocol.Signed) {
	b.Helper()
	geneses, delegates := make([]*protocol.Signed, orgs), make([]crypto.PrivKey, orgs)
	for k := range orgs {
		rot := benchKey(b, 0x0e9a, k)
		delegates[k] = benchKey(b, 0xde1e, k)
		ann, err := protocol.NewGenesis(fmt.Sprintf("Organisation %d", k), []crypto.PubKey{rot.GetPublic()}, benchTime,
			delegation(keyID(b, delegates[k]), protocol.KindPractice))
		if err != nil {
			b.Fatal(err)
		}
		if geneses[k], err = protocol.Seal(ann, rot); err != nil {
			b.Fatal(err)
		}
	}
	signed := make([]*protocol.Signed, n)
	sealParallel(b, n, func(i int) (*protocol.Signed, error) {
		g := geneses[i%orgs]
		ann := &protocol.Announcement{
			V: protocol.Version, Publisher: g.Announcement().Publisher, Seq: uint64(i/orgs + 2), Time: benchTime,
			Kind: protocol.KindPractice, Practice: variant(sheets, i), Auth: g.Hash(),
		}
		return protocol.Seal(ann, delegates[i%orgs])
	}, signed)
	return geneses, signed
}

// benchIngest runs the receiving half of gossip on a new node for signed,
// after submitting first (outside the timer), each on the topic of its
// record version (a demo practice with fields v1 lacks is a v2 record).
func benchIngest(b *testing.B, signed, first []*protocol.Signed, verify1 float64) {
	tn := newTestNet(b, 0x1b)
	n := tn.add()
	for _, sg := range first {
		if _, err := n.Submit(context.Background(), sg.Envelope()); err != nil {
			b.Fatal(err)
		}
	}
	applied0 := n.stats.applied.Load()
	from := peer.ID("gossip-bench-peer")
	msgs := make([]*pubsub.Message, len(signed))
	for i, sg := range signed {
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
				if n.validate(ctx, from, msgs[i], !protocol.IsV1(signed[i])) == pubsub.ValidationAccept {
					accepted.Add(1)
					passOn(ctx, n, msgs[i])
				}
			}
		})
	}
	wg.Wait()
	for n.stats.applied.Load()-applied0 < uint64(accepted.Load()) {
		time.Sleep(time.Millisecond)
	}
	rate := float64(len(msgs)) / time.Since(start).Seconds()
	b.StopTimer()
	if got := accepted.Load(); got != int64(len(msgs)) {
		b.Fatalf("validator accepted %d of %d: %+v", got, len(msgs), n.Stats())
	}
	b.ReportMetric(rate, "ingest/s")
	b.ReportMetric(rate/verify1, "x-verify-1core")
}

// passOn hands an accepted message on as readGossip does: the decoded
// announcement and the validator's Prior travel with it.
func passOn(ctx context.Context, n *Node, msg *pubsub.Message) {
	v := msg.ValidatorData.(*validated)
	n.enqueue(ctx, ingestItem{signed: v.signed, prior: v.prior, from: msg.ReceivedFrom})
}
