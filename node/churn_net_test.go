package node

// The network of BenchmarkChurn and TestChurnSmall (churn_test.go): honest
// full nodes and hostile hosts on one mocknet, linked only along the edges
// of a sparse topology, each link with its own latency and bandwidth;
// nodes that stop and reopen on the same store and key; a partition that
// cuts every edge between two halves and heals.

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// churnPeer is one member of the churn network: an honest full node
// (restartable) or a hostile host (up throughout).
type churnPeer struct {
	idx    int
	id     peer.ID
	key    crypto.PrivKey
	addr   ma.Multiaddr
	honest bool
	side   int   // 0 or 1: the half it is in when the network splits
	nbrs   []int // indices of its neighbours in the topology
	home   string

	// linked (guarded by churnNet.mu) says the peer's current host is on
	// the mocknet and linked to its linked neighbours.
	linked bool

	// mu guards node (nil while the node is down) and tracer. The
	// publisher and the watcher hold it for reading while they use node;
	// stop takes it to take the node down.
	mu     sync.RWMutex
	node   *Node
	tracer *churnTracer
}

// churnNet is the network of one churn run.
type churnNet struct {
	t     testing.TB
	mn    mocknet.Mocknet
	rng   *rand.Rand
	peers []*churnPeer
	honN  int // peers[:honN] are honest, the rest hostile
	// opts holds each edge's link options, keyed by (low, high) index.
	opts map[[2]int]mocknet.LinkOptions
	// onDeliver is told of every gossip delivery on an honest node.
	onDeliver func(peerIdx int, msgID string, at time.Time)

	// mu guards the peers' linked flags, cut and the mocknet's links.
	mu  sync.Mutex
	cut bool
}

// churnLink returns random link options in the ranges of cfg: latency
// uniform in [minLatency, maxLatency], bandwidth in [minMbit, maxMbit].
func churnLink(rng *rand.Rand, cfg *churnConfig) mocknet.LinkOptions {
	lat := cfg.minLatency + time.Duration(rng.Int64N(int64(cfg.maxLatency-cfg.minLatency)+1))
	mbit := cfg.minMbit + rng.Float64()*(cfg.maxMbit-cfg.minMbit)
	return mocknet.LinkOptions{Latency: lat, Bandwidth: mbit * 1e6 / 8}
}

// newChurnNet lays out cfg.nodes honest peers in a ring with one random
// chord each (as testNet.sparse), and cfg.hostiles hostile peers, each
// with cfg.hostileLinks honest neighbours within one half, so that no
// hostile peer bridges the partition. It starts nothing.
func newChurnNet(t testing.TB, cfg *churnConfig) *churnNet {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	cn := &churnNet{t: t, mn: mn, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		honN: cfg.nodes, opts: map[[2]int]mocknet.LinkOptions{}}
	total := cfg.nodes + cfg.hostiles
	for i := range total {
		k := benchKey(t, 0xc4a2, i)
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		p := &churnPeer{idx: i, id: id, key: k, honest: i < cfg.nodes,
			addr: ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.3/tcp/4001", i/250, i%250+1))}
		if p.honest {
			p.side = 0
			if i >= cfg.nodes/2 {
				p.side = 1
			}
			p.home = t.TempDir()
		} else {
			p.side = (i - cfg.nodes) % 2
		}
		cn.peers = append(cn.peers, p)
	}
	n := cfg.nodes
	for i := range n {
		cn.edge(i, (i+1)%n, cfg)
		if j := cn.rng.IntN(n); j != i && j != (i+1)%n && j != (i+n-1)%n {
			cn.edge(i, j, cfg)
		}
	}
	half := n / 2
	for _, h := range cn.peers[n:] {
		lo, size := 0, half
		if h.side == 1 {
			lo, size = half, n-half
		}
		for len(h.nbrs) < min(cfg.hostileLinks, size) {
			cn.edge(h.idx, lo+cn.rng.IntN(size), cfg)
		}
	}
	return cn
}

// edge adds an edge of the topology (once) with random link options.
func (cn *churnNet) edge(i, j int, cfg *churnConfig) {
	k := [2]int{min(i, j), max(i, j)}
	if i == j {
		return
	}
	if _, ok := cn.opts[k]; ok {
		return
	}
	cn.opts[k] = churnLink(cn.rng, cfg)
	cn.peers[i].nbrs = append(cn.peers[i].nbrs, j)
	cn.peers[j].nbrs = append(cn.peers[j].nbrs, i)
}

// honestEdges returns the edges between honest peers, low index first.
func (cn *churnNet) honestEdges() [][2]int {
	var out [][2]int
	for k := range cn.opts {
		if k[1] < cn.honN {
			out = append(out, k)
		}
	}
	return out
}

// crosses reports whether the edge between peers i and j is cut while the
// network is split.
func (cn *churnNet) crosses(i, j int) bool { return cn.peers[i].side != cn.peers[j].side }

// addHost puts peer i's new host on the mocknet and links it to every
// linked neighbour the partition does not separate from it. It returns
// the host and the neighbours linked. The caller holds cn.mu.
func (cn *churnNet) addHost(i int) (host.Host, []int, error) {
	p := cn.peers[i]
	h, err := cn.mn.AddPeer(p.key, p.addr)
	if err != nil {
		return nil, nil, fmt.Errorf("add peer %d: %w", i, err)
	}
	var linked []int
	for _, j := range p.nbrs {
		q := cn.peers[j]
		if !q.linked || (cn.cut && cn.crosses(i, j)) {
			continue
		}
		if err := cn.link(i, j); err != nil {
			h.Close()
			return nil, nil, err
		}
		linked = append(linked, j)
	}
	p.linked = true
	return h, linked, nil
}

// link links peers i and j with their edge's options. The caller holds
// cn.mu.
func (cn *churnNet) link(i, j int) error {
	l, err := cn.mn.LinkPeers(cn.peers[i].id, cn.peers[j].id)
	if err != nil {
		return fmt.Errorf("link %d-%d: %w", i, j, err)
	}
	l.SetOptions(cn.opts[[2]int{min(i, j), max(i, j)}])
	return nil
}

// unlinkAll removes every link of peer i, whose host is closed. The
// caller holds cn.mu.
func (cn *churnNet) unlinkAll(i int) {
	p := cn.peers[i]
	p.linked = false
	for _, j := range p.nbrs {
		cn.mn.UnlinkPeers(p.id, cn.peers[j].id) // an error says there was none
	}
}

// connect dials from peer i to each of the given peers, as discovery
// does with the address book; a neighbour that went down meanwhile is
// skipped.
func (cn *churnNet) connect(i int, to []int) {
	for _, j := range to {
		cn.mn.ConnectPeers(cn.peers[i].id, cn.peers[j].id) // a dial to a peer just gone fails, as it would
	}
}

// nodeConfig is the configuration of an honest node: its home, no
// listening, mDNS or NAT, no search index, and cfg's sync interval.
func (cn *churnNet) nodeConfig(p *churnPeer, cfg *churnConfig) Config {
	c := DefaultConfig(p.home)
	c.Listen, c.MDNS, c.NAT = nil, false, false
	c.NoSearch = true
	c.SyncInterval = cfg.syncInterval
	return c
}

// start opens honest peer i on its store directory and key, on a new
// host, and dials its linked neighbours. Any goroutine may call it.
func (cn *churnNet) start(i int, cfg *churnConfig) error {
	p := cn.peers[i]
	cn.mu.Lock()
	h, linked, err := cn.addHost(i)
	cn.mu.Unlock()
	if err != nil {
		return err
	}
	tr := &churnTracer{meshTracer: meshTracer{peers: map[peer.ID]bool{}}, peer: i, deliver: cn.onDeliver}
	n, err := New(cn.nodeConfig(p, cfg), WithHost(h), WithPubsubOptions(pubsub.WithRawTracer(tr)),
		WithStoreOptions(store.WithMemTableSize(2<<20), store.WithCacheSize(1<<20)))
	if err != nil {
		return fmt.Errorf("start node %d: %w", i, err)
	}
	p.mu.Lock()
	p.node, p.tracer = n, tr
	p.mu.Unlock()
	cn.connect(i, linked)
	return nil
}

// stop takes honest peer i down: no one uses its node any more, the node
// closes (and with it its host), and its links go. Any goroutine may
// call it.
func (cn *churnNet) stop(i int) error {
	p := cn.peers[i]
	p.mu.Lock()
	n := p.node
	p.node = nil
	p.mu.Unlock()
	if n == nil {
		return nil
	}
	err := n.Close()
	cn.mu.Lock()
	cn.unlinkAll(i)
	cn.mu.Unlock()
	if err != nil {
		return fmt.Errorf("close node %d: %w", i, err)
	}
	return nil
}

// up returns peer i's node, or nil while it is down.
func (cn *churnNet) up(i int) *Node {
	p := cn.peers[i]
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.node
}

// split cuts every edge between the two halves: links removed,
// connections closed.
func (cn *churnNet) split() {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.cut = true
	for k := range cn.opts {
		a, b := cn.peers[k[0]], cn.peers[k[1]]
		if !cn.crosses(k[0], k[1]) || !a.linked || !b.linked {
			continue
		}
		cn.mn.UnlinkPeers(a.id, b.id)
		cn.mn.DisconnectPeers(a.id, b.id)
		cn.mn.DisconnectPeers(b.id, a.id)
	}
}

// heal links the edges split cut again and dials across each, as
// discovery's redial would.
func (cn *churnNet) heal() error {
	cn.mu.Lock()
	cn.cut = false
	var dials [][2]int
	for k := range cn.opts {
		if !cn.crosses(k[0], k[1]) || !cn.peers[k[0]].linked || !cn.peers[k[1]].linked {
			continue
		}
		if err := cn.link(k[0], k[1]); err != nil {
			cn.mu.Unlock()
			return err
		}
		dials = append(dials, k)
	}
	cn.mu.Unlock()
	for _, k := range dials {
		cn.connect(k[0], []int{k[1]})
	}
	return nil
}

// closeAll stops every honest node, in parallel.
func (cn *churnNet) closeAll() {
	var wg sync.WaitGroup
	for i := range cn.honN {
		wg.Go(func() {
			if err := cn.stop(i); err != nil {
				cn.t.Error(err)
			}
		})
	}
	wg.Wait()
}

// churnTracer follows one honest node's mesh (for the wait before the
// run) and tells the run of every message gossip delivered to it.
type churnTracer struct {
	meshTracer
	peer    int
	deliver func(peerIdx int, msgID string, at time.Time)
}

// DeliverMessage is called once a message passed the node's validator.
func (t *churnTracer) DeliverMessage(m *pubsub.Message) {
	if t.deliver != nil {
		t.deliver(t.peer, m.ID, time.Now())
	}
}
