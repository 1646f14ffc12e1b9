package node

// The baselines of BenchmarkPropagation: gossipsub alone on mocknet hosts
// (bare), the same with a validator that opens every envelope (the floor:
// the least a node that checks what it forwards can do), and the floor
// that also writes each delivered envelope to a file and fsyncs it before
// it counts as arrived (the durable floor: the least a node that checks
// and keeps what it receives can do).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// Kinds of bareNet.
const (
	bareGossip  = iota // gossipsub alone
	bareOpen           // a validator that opens every envelope: the floor
	bareDurable        // the floor, each delivery written and fsynced
)

// bareNet is a propagation baseline: gossipsub alone on mocknet hosts,
// with the node's options (without scoring) and, for the floors, a
// validator that runs protocol.Open on every message from another peer.
type bareNet struct {
	mn       mocknet.Mocknet
	hosts    []host.Host
	mesh     []*meshTracer
	ps       []*pubsub.PubSub
	topics   []*pubsub.Topic
	files    []*os.File // the durable floor's, one per node; nil otherwise
	arrivals chan bareArrival
	cancel   context.CancelFunc
	readers  sync.WaitGroup
	closed   sync.Once
}

type bareArrival struct {
	node int
	id   string
	at   time.Time
}

// newBareNet builds propNodes gossipsub hosts joined to topic and linked
// by edges. Of kind bareOpen or bareDurable, each registers a validator on
// topic that opens the envelope (as Node.validate does first) and accepts
// it when it opens; of kind bareDurable, each node appends every envelope
// delivered to it to its own file in a temporary directory and fsyncs it
// before it counts as arrived. The network stops at close or at the
// benchmark's end.
func newBareNet(b *testing.B, topic string, edges [][2]int, kind int) *bareNet {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	bn := &bareNet{mn: mocknet.New(), arrivals: make(chan bareArrival, 4*propNodes), cancel: cancel}
	b.Cleanup(bn.close)
	open := kind != bareGossip
	set := [...]uint64{0xba5e, 0xf100, 0xd0ab}[kind]
	dir := ""
	if kind == bareDurable {
		dir = b.TempDir()
	}
	for i := range propNodes {
		if dir != "" {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("node-%03d", i)))
			if err != nil {
				b.Fatal(err)
			}
			bn.files = append(bn.files, f)
		}
		addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.2/tcp/4001", i/250, i%250+1))
		h, err := bn.mn.AddPeer(benchKey(b, set, i), addr)
		if err != nil {
			b.Fatal(err)
		}
		// The tracer only watches the mesh, for waitMeshes.
		mesh := &meshTracer{peers: map[peer.ID]bool{}}
		ps, err := pubsub.NewGossipSub(ctx, h, append(PubsubOptions(topic, false), pubsub.WithRawTracer(mesh))...)
		if err != nil {
			b.Fatal(err)
		}
		if open {
			if err := ps.RegisterTopicValidator(topic, pubsub.ValidatorEx(openValidator(h.ID()))); err != nil {
				b.Fatal(err)
			}
		}
		tp, err := ps.Join(topic)
		if err != nil {
			b.Fatal(err)
		}
		sub, err := tp.Subscribe(pubsub.WithBufferSize(1024))
		if err != nil {
			b.Fatal(err)
		}
		bn.readers.Go(func() { bn.read(ctx, i, h.ID(), sub) })
		bn.hosts = append(bn.hosts, h)
		bn.mesh = append(bn.mesh, mesh)
		bn.ps = append(bn.ps, ps)
		bn.topics = append(bn.topics, tp)
	}
	if err := bn.mn.LinkAll(); err != nil {
		b.Fatal(err)
	}
	for _, e := range edges {
		if _, err := bn.mn.ConnectPeers(bn.hosts[e[0]].ID(), bn.hosts[e[1]].ID()); err != nil {
			b.Fatal(err)
		}
	}
	return bn
}

// openValidator is the floor's validator: one protocol.Open per message
// from another peer, its result handed on as the node's validator does.
func openValidator(self peer.ID) func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == self {
			return pubsub.ValidationAccept
		}
		sg, err := protocol.Open(msg.Data)
		if err != nil {
			return pubsub.ValidationReject
		}
		msg.ValidatorData = sg
		return pubsub.ValidationAccept
	}
}

// read passes node i's deliveries of other peers' messages to arrivals.
func (bn *bareNet) read(ctx context.Context, i int, self peer.ID, sub *pubsub.Subscription) {
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == self {
			continue // own publication
		}
		if bn.files != nil {
			if _, err := bn.files[i].Write(m.Data); err != nil {
				return
			}
			if err := bn.files[i].Sync(); err != nil {
				return
			}
		}
		at := time.Now()
		select {
		case bn.arrivals <- bareArrival{node: i, id: m.ID, at: at}:
		case <-ctx.Done():
			return
		}
	}
}

// close stops the readers, pubsub and the hosts; safe to call twice.
func (bn *bareNet) close() {
	bn.closed.Do(func() {
		bn.cancel()
		bn.readers.Wait()
		bn.mn.Close()
		for _, f := range bn.files {
			_ = f.Close()
		}
	})
}

// publish publishes p's envelope from p's publisher and returns, for every
// other node, the time from the Publish call until its subscription
// delivered the message.
func (bn *bareNet) publish(b *testing.B, p propPub) []time.Duration {
	b.Helper()
	id := messageID(&pb.Message{Data: p.env})
	got := make([]bool, len(bn.ps))
	lat := make([]time.Duration, 0, len(bn.ps)-1)
	deadline := time.NewTimer(propDeadline)
	defer deadline.Stop()
	start := time.Now()
	if err := bn.topics[p.publisher].Publish(context.Background(), p.env); err != nil {
		b.Fatal(err)
	}
	for len(lat) < len(bn.ps)-1 {
		select {
		case a := <-bn.arrivals:
			if a.id == id && !got[a.node] {
				got[a.node] = true
				lat = append(lat, a.at.Sub(start))
			}
		case <-deadline.C:
			b.Fatalf("bare gossipsub: message reached %d of %d nodes in %v", len(lat), len(bn.ps)-1, propDeadline)
		}
	}
	return lat
}
