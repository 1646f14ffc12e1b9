package api

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// Test helpers building real nodes on a mocknet, as node's own tests do
// (node/helpers_test.go).

// testNet is a mocknet federation of real nodes, each with its own Badger
// store on disk.
type testNet struct {
	t     testing.TB
	mn    mocknet.Mocknet
	nodes []*node.Node
	rng   *rand.Rand
}

func newTestNet(t testing.TB, seed uint64) *testNet {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	return &testNet{t: t, mn: mn, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
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
func (tn *testNet) add(mut ...func(*node.Config)) *node.Node {
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
	cfg := node.DefaultConfig(tn.t.TempDir())
	cfg.Listen, cfg.MDNS, cfg.NAT = nil, false, false
	cfg.SyncInterval = time.Hour // tests trigger sync by connecting
	cfg.NoSearch = true          // the search tests turn it on
	for _, m := range mut {
		m(&cfg)
	}
	n, err := node.New(cfg, node.WithHost(h), node.WithStoreOptions(store.WithMemTableSize(2<<20), store.WithCacheSize(1<<20)))
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { n.Close() })
	tn.nodes = append(tn.nodes, n)
	return n
}

func (tn *testNet) connect(a, b *node.Node) {
	tn.t.Helper()
	if err := tn.mn.LinkAll(); err != nil {
		tn.t.Fatal(err)
	}
	if _, err := tn.mn.ConnectPeers(a.ID(), b.ID()); err != nil {
		tn.t.Fatal(err)
	}
}

// eventually waits up to d for cond, checking every 20 ms.
func (tn *testNet) eventually(d time.Duration, what string, cond func() bool) {
	tn.t.Helper()
	eventually(tn.t, d, what, cond)
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

// keyOf is n's identity key, from its host's peerstore.
func keyOf(t testing.TB, n *node.Node) crypto.PrivKey {
	t.Helper()
	k := n.Host().Peerstore().PrivKey(n.ID())
	if k == nil {
		t.Fatal("the node's key is not in its peerstore")
	}
	return k
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

func digest(t testing.TB, n *node.Node) store.Digest {
	t.Helper()
	_, d, err := n.Store().Counts()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// converged reports whether every node has the same root digest.
func converged(t testing.TB, nodes []*node.Node) bool {
	d0 := digest(t, nodes[0])
	for _, n := range nodes[1:] {
		if digest(t, n) != d0 {
			return false
		}
	}
	return true
}

func publish(t testing.TB, n *node.Node, s *protocol.FactSheet) *protocol.Signed {
	t.Helper()
	sg, err := n.Publish(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}
