package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// testNet is a mocknet federation of real nodes, each with its own Badger
// store on disk.
type testNet struct {
	t     testing.TB
	mn    mocknet.Mocknet
	nodes []*Node
	mesh  []*meshTracer
	rng   *rand.Rand
	// storeOpts are added to the store options of the nodes added next.
	storeOpts []store.Option
}

func newTestNet(t testing.TB, seed uint64) *testNet {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	tn := &testNet{t: t, mn: mn, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	return tn
}

func testKey(t testing.TB, seed uint64) crypto.PrivKey {
	t.Helper()
	s := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("khantara-test-key"), seed))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s[:]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// add starts one more node, not linked to anyone yet.
func (tn *testNet) add(mut ...func(*Config)) *Node {
	tn.t.Helper()
	i := len(tn.nodes)
	addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.1/tcp/4001", i/250, i%250+1))
	h, err := tn.mn.AddPeer(testKey(tn.t, tn.rng.Uint64()), addr)
	if err != nil {
		tn.t.Fatal(err)
	}
	if err := tn.mn.LinkAll(); err != nil {
		tn.t.Fatal(err)
	}
	cfg := DefaultConfig(tn.t.TempDir())
	cfg.Listen, cfg.MDNS, cfg.NAT = nil, false, false
	cfg.DHT = ModeOff            // the DHT's tests run real hosts on loopback (reach_test.go)
	cfg.SyncInterval = time.Hour // tests trigger sync by connecting
	cfg.NoSearch = true          // most tests run many nodes; the API tests turn it on
	for _, m := range mut {
		m(&cfg)
	}
	mesh := &meshTracer{peers: map[peer.ID]bool{}}
	n, err := New(cfg, WithHost(h), WithPubsubOptions(pubsub.WithRawTracer(mesh)), WithStoreOptions(append([]store.Option{store.WithMemTableSize(2 << 20), store.WithCacheSize(1 << 20)}, tn.storeOpts...)...))
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { n.Close() })
	tn.nodes = append(tn.nodes, n)
	tn.mesh = append(tn.mesh, mesh)
	return n
}

func (tn *testNet) connect(a, b *Node) {
	tn.t.Helper()
	if err := tn.mn.LinkAll(); err != nil {
		tn.t.Fatal(err)
	}
	if _, err := tn.mn.ConnectPeers(a.ID(), b.ID()); err != nil {
		tn.t.Fatal(err)
	}
}

// sparse connects the nodes in a ring plus one random chord per node.
func (tn *testNet) sparse() {
	n := len(tn.nodes)
	for i := range n {
		tn.connect(tn.nodes[i], tn.nodes[(i+1)%n])
		if j := tn.rng.IntN(n); j != i && j != (i+1)%n && j != (i+n-1)%n {
			tn.connect(tn.nodes[i], tn.nodes[j])
		}
	}
}

// cut unlinks and disconnects every pair across the two sides.
func (tn *testNet) cut(a, b []*Node) {
	tn.t.Helper()
	for _, x := range a {
		for _, y := range b {
			tn.mn.UnlinkPeers(x.ID(), y.ID())
			tn.mn.DisconnectPeers(x.ID(), y.ID())
		}
	}
}

// demoSheets is the demo catalogue, in ID order (the order of its files).
func demoSheets(t testing.TB) []*protocol.FactSheet {
	t.Helper()
	sheets, err := demo.ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	return sheets
}

// variant returns demo sheet i modulo the catalogue under a unique ID.
func variant(sheets []*protocol.FactSheet, i int) *protocol.FactSheet {
	s := *sheets[i%len(sheets)]
	s.ID = fmt.Sprintf("%s-%d", s.ID[:min(len(s.ID), 50)], i)
	return &s
}

// eventually is the package eventually, with a dump of every node's
// state when it times out.
func (tn *testNet) eventually(d time.Duration, what string, cond func() bool) {
	tn.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tn.dump()
			tn.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tn *testNet) dump() {
	for i, n := range tn.nodes {
		if n.ctx.Err() != nil {
			continue
		}
		c, d, _ := n.Store().Counts()
		tn.t.Logf("node %d %s: %d records %x, %d equivocations, mesh %d, peers %d, %+v", i, n.ID(), d.Count, d.Fingerprint(), c.Equivocations, tn.mesh[i].size(), len(n.Host().Network().Peers()), n.Stats())
		if d.Count <= 16 {
			var keys []string
			for k, err := range n.Store().Keys() {
				if err != nil {
					break
				}
				keys = append(keys, fmt.Sprintf("%s/%d/%x", k.Publisher.String()[len(k.Publisher.String())-6:], k.Seq, k.Hash[:3]))
			}
			tn.t.Logf("    keys %v", keys)
		}
		for _, ps := range n.SyncStatus() {
			tn.t.Logf("    sync with %s at %s: %+v %s", ps.Peer, ps.At.Format("15:04:05.000"), ps.Result, ps.Err)
		}
	}
}

// eventually waits up to d for cond, checking every 20 ms.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
}

func digest(t testing.TB, n *Node) store.Digest {
	t.Helper()
	_, d, err := n.Store().Counts()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// converged reports whether every node has the same root digest.
func converged(t testing.TB, nodes []*Node) bool {
	d0 := digest(t, nodes[0])
	for _, n := range nodes[1:] {
		if digest(t, n) != d0 {
			return false
		}
	}
	return true
}

func has(n *Node, pub peer.ID, slot string, seq uint64) bool {
	h, err := n.Store().Head(pub, slot)
	return err == nil && h.Seq == seq
}

func publish(t testing.TB, n *Node, s *protocol.FactSheet) *protocol.Signed {
	t.Helper()
	sg, err := n.Publish(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// meshTracer follows a node's gossipsub mesh (one topic), so tests wait for
// the mesh itself rather than for a guessed number of heartbeats.
type meshTracer struct {
	// mu guards peers and delivered.
	mu    sync.Mutex
	peers map[peer.ID]bool
	// delivered is when pubsub delivered each message (by ID) once its
	// validator accepted it, for the propagation benchmark; nil until the
	// first.
	delivered map[string]time.Time
}

// deliveredAt returns when pubsub delivered message id, if it did.
func (m *meshTracer) deliveredAt(id string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.delivered[id]
	return at, ok
}

func (m *meshTracer) DeliverMessage(msg *pubsub.Message) {
	at := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.delivered == nil {
		m.delivered = map[string]time.Time{}
	}
	if _, ok := m.delivered[msg.ID]; !ok {
		m.delivered[msg.ID] = at
	}
}

func (m *meshTracer) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.peers)
}

func (m *meshTracer) Graft(p peer.ID, _ string)        { m.mu.Lock(); m.peers[p] = true; m.mu.Unlock() }
func (m *meshTracer) Prune(p peer.ID, _ string)        { m.mu.Lock(); delete(m.peers, p); m.mu.Unlock() }
func (m *meshTracer) OnClosedOutboundStream(p peer.ID) { m.Prune(p, "") }

func (*meshTracer) OnNewOutboundStream(peer.ID, libp2pproto.ID)          {}
func (*meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*meshTracer) Join(string)                                          {}
func (*meshTracer) Leave(string)                                         {}
func (*meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (*meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (*meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*meshTracer) ThrottlePeer(peer.ID)                                 {}
func (*meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) UndeliverableMessage(*pubsub.Message)                 {}
