package node

// BenchmarkPropagation and the bare gossipsub network it compares with;
// the other node benchmarks and their shared helpers are in bench_test.go.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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

// propPub is one publication: who published which envelope.
type propPub struct {
	publisher int
	env       []byte
}

// BenchmarkPropagation measures how long a practice takes from the
// publisher's Publish call until it is stored (Apply returned, fsynced) on
// every other node of 100 mocknet nodes in the sparse topology. Next to it,
// in the same run, it measures bare gossipsub: the same options (without
// scoring), topology and envelopes, with no validator and no storage, from
// topic.Publish until sub.Next returns on each node. Both networks first
// wait for their gossipsub meshes, then carry a few warm-up publications.
// Publications are sequential (the next starts when the last reached
// everyone), so the figures are latencies, not queueing. Reported: p50 and
// p99 over every (publication, receiver) pair for both, and their ratios
// (goal <= 1.5); for context, the nodes' fsyncs and the process's CPU time
// per publication in each network. ns/op is the node network's time per
// publication until stored everywhere.
func BenchmarkPropagation(b *testing.B) {
	sheets := demoSheets(b)
	tn := newTestNet(b, 0x9a55)
	for range propNodes {
		tn.add()
	}
	tn.sparse()
	nodes := tn.nodes
	topic := nodes[0].topic.String()
	var nodePS []*pubsub.PubSub
	var nodeHosts []host.Host
	for _, n := range nodes {
		nodePS, nodeHosts = append(nodePS, n.ps), append(nodeHosts, n.Host())
	}
	waitMeshes(b, topic, nodePS, nodeHosts, tn.mesh)

	// The node network: each publication is a new practice, published in
	// turn by each node.
	var warm, measured []propPub
	publishNode := func(i int) ([]time.Duration, propPub) {
		p := i % len(nodes)
		lat, sg := nodePublish(b, nodes, nodes[p], variant(sheets, i))
		return lat, propPub{publisher: p, env: sg.Envelope()}
	}
	for i := range propWarmUps {
		_, p := publishNode(i)
		warm = append(warm, p)
	}
	// A hundred nodes in one process make one large heap (mocknet links,
	// Badger tables), whose collection would stall every node at once, as
	// no single node's would. Collect it now and hold the next collection
	// off until the measurements end.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	syncs := func() (n uint64) {
		for _, x := range nodes {
			n += x.Store().WriteStats().Syncs
		}
		return n
	}
	syncs0, cpu0 := syncs(), processCPU()
	var nodeLat []time.Duration
	for i := propWarmUps; b.Loop(); i++ {
		lat, p := publishNode(i)
		nodeLat = append(nodeLat, lat...)
		measured = append(measured, p)
	}
	nodeCPU, nodeSyncs := processCPU()-cpu0, syncs()-syncs0

	// The topology, to rebuild it for the baseline; then the nodes go, so
	// that they do not compete with the baseline for the CPU.
	index := map[peer.ID]int{}
	for i, n := range nodes {
		index[n.ID()] = i
	}
	var edges [][2]int
	for i, n := range nodes {
		for _, p := range n.Host().Network().Peers() {
			if j, ok := index[p]; ok && i < j {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.Close() })
	}
	wg.Wait()

	bare := newBareNet(b, topic, edges)
	waitMeshes(b, topic, bare.ps, bare.hosts, bare.mesh)
	for _, p := range warm {
		bare.publish(b, p)
	}
	runtime.GC()
	cpu0 = processCPU()
	var bareLat []time.Duration
	for _, p := range measured {
		bareLat = append(bareLat, bare.publish(b, p)...)
	}
	bareCPU := processCPU() - cpu0

	n50, n99 := quantile(nodeLat, 0.50), quantile(nodeLat, 0.99)
	b50, b99 := quantile(bareLat, 0.50), quantile(bareLat, 0.99)
	b.ReportMetric(millis(n50), "node-p50-ms")
	b.ReportMetric(millis(n99), "node-p99-ms")
	b.ReportMetric(millis(b50), "bare-p50-ms")
	b.ReportMetric(millis(b99), "bare-p99-ms")
	b.ReportMetric(float64(n50)/float64(b50), "p50-ratio")
	b.ReportMetric(float64(n99)/float64(b99), "p99-ratio")
	pubs := float64(len(measured))
	b.ReportMetric(float64(nodeSyncs)/pubs, "node-fsyncs/pub")
	if nodeCPU > 0 && bareCPU > 0 {
		b.ReportMetric(millis(nodeCPU)/pubs, "node-cpu-ms/pub")
		b.ReportMetric(millis(bareCPU)/pubs, "bare-cpu-ms/pub")
	}
	b.Logf("%d nodes, %d links, %d publications x %d receivers: node p50 %.2f ms, p99 %.2f ms; bare gossipsub p50 %.2f ms, p99 %.2f ms; ratio p50 %.2fx, p99 %.2fx (goal <= 1.5x)",
		len(nodes), len(edges), len(measured), len(nodes)-1, millis(n50), millis(n99), millis(b50), millis(b99),
		float64(n50)/float64(b50), float64(n99)/float64(b99))
	b.Logf("per publication, all nodes together: node %.0f fsyncs (on one shared disk here) and %.1f ms CPU, bare %.1f ms CPU, on %d cores",
		float64(nodeSyncs)/pubs, millis(nodeCPU)/pubs, millis(bareCPU)/pubs, runtime.GOMAXPROCS(0))
}

// processCPU returns the CPU time, user and system, the process has used
// so far, read from /proc/self/stat in clock ticks of 10 ms; 0 where that
// file does not exist.
func processCPU() time.Duration {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime and stime fields 14 and 15.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	user, err1 := strconv.ParseUint(f[11], 10, 64)
	sys, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(user+sys) * 10 * time.Millisecond
}

// waitMeshes waits until every pubsub instance lists each peer its host is
// connected to as a member of topic, and has grafted as many of them into
// its mesh as gossipsub keeps at least (Dlo), or all when fewer. Publishing
// before that loses messages: a peer grafted after a message passed is
// neither forwarded the message nor, being in the mesh, told of it by
// gossip.
func waitMeshes(b *testing.B, topic string, ps []*pubsub.PubSub, hosts []host.Host, mesh []*meshTracer) {
	b.Helper()
	eventually(b, time.Minute, "every node's gossipsub mesh", func() bool {
		for i := range ps {
			n := len(ps[i].ListPeers(topic))
			if n == 0 || n < len(hosts[i].Network().Peers()) || mesh[i].size() < min(n, pubsub.GossipSubDlo) {
				return false
			}
		}
		return true
	})
}

// nodePublish publishes sheet from pub and returns, for every other node,
// the time from the Publish call until the practice was stored there. The
// stores are watched from this goroutine alone: each node's applied
// counter (bumped once Apply has returned) is read every propPoll, and
// only a node whose counter moved has its store read.
func nodePublish(b *testing.B, nodes []*Node, pub *Node, sheet *protocol.FactSheet) ([]time.Duration, *protocol.Signed) {
	b.Helper()
	seen := make([]uint64, len(nodes))
	for j, n := range nodes {
		seen[j] = n.stats.applied.Load()
	}
	stored := make([]bool, len(nodes))
	lat := make([]time.Duration, 0, len(nodes)-1)
	start := time.Now()
	sg, err := pub.Publish(context.Background(), sheet)
	if err != nil {
		b.Fatal(err)
	}
	seq := sg.Announcement().Seq
	tick := time.NewTicker(propPoll)
	defer tick.Stop()
	for len(lat) < len(nodes)-1 {
		for j, n := range nodes {
			if n == pub || stored[j] {
				continue
			}
			if c := n.stats.applied.Load(); c != seen[j] {
				// Read the clock after the counter: if the practice is
				// stored, it was stored before this instant.
				at := time.Now()
				seen[j] = c
				if has(n, pub.ID(), sheet.ID, seq) {
					stored[j] = true
					lat = append(lat, at.Sub(start))
				}
			}
		}
		if time.Since(start) > propDeadline {
			b.Fatalf("practice %s reached %d of %d nodes in %v", sheet.ID, len(lat), len(nodes)-1, propDeadline)
		}
		if len(lat) < len(nodes)-1 {
			<-tick.C
		}
	}
	return lat, sg
}

// bareNet is the propagation baseline: gossipsub alone on mocknet hosts.
type bareNet struct {
	hosts    []host.Host
	mesh     []*meshTracer
	ps       []*pubsub.PubSub
	topics   []*pubsub.Topic
	arrivals chan bareArrival
}

type bareArrival struct {
	node int
	id   string
	at   time.Time
}

func newBareNet(b *testing.B, topic string, edges [][2]int) *bareNet {
	b.Helper()
	mn := mocknet.New()
	b.Cleanup(func() { mn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	b.Cleanup(func() { cancel(); readers.Wait() })
	bn := &bareNet{arrivals: make(chan bareArrival, 4*propNodes)}
	for i := range propNodes {
		addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.2/tcp/4001", i/250, i%250+1))
		h, err := mn.AddPeer(benchKey(b, 0xba5e, i), addr)
		if err != nil {
			b.Fatal(err)
		}
		// The tracer only watches the mesh, for waitMeshes.
		mesh := &meshTracer{peers: map[peer.ID]bool{}}
		ps, err := pubsub.NewGossipSub(ctx, h, append(PubsubOptions(topic, false), pubsub.WithRawTracer(mesh))...)
		if err != nil {
			b.Fatal(err)
		}
		tp, err := ps.Join(topic)
		if err != nil {
			b.Fatal(err)
		}
		sub, err := tp.Subscribe(pubsub.WithBufferSize(1024))
		if err != nil {
			b.Fatal(err)
		}
		readers.Go(func() {
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				at := time.Now()
				if m.ReceivedFrom == h.ID() {
					continue // own publication
				}
				select {
				case bn.arrivals <- bareArrival{node: i, id: m.ID, at: at}:
				case <-ctx.Done():
					return
				}
			}
		})
		bn.hosts = append(bn.hosts, h)
		bn.mesh = append(bn.mesh, mesh)
		bn.ps = append(bn.ps, ps)
		bn.topics = append(bn.topics, tp)
	}
	if err := mn.LinkAll(); err != nil {
		b.Fatal(err)
	}
	for _, e := range edges {
		if _, err := mn.ConnectPeers(bn.hosts[e[0]].ID(), bn.hosts[e[1]].ID()); err != nil {
			b.Fatal(err)
		}
	}
	return bn
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

// Sync bytes.

const (
	syncPractices  = 10_000
	syncPublishers = 10
)
