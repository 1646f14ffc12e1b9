package node

// BenchmarkPropagation; the baselines it compares with are in
// bench_bare_test.go, the other node benchmarks and their shared helpers
// in bench_test.go.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/khantara/khantara/internal/cputime"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// propPub is one publication: who published which envelope.
type propPub struct {
	publisher int
	env       []byte
}

// BenchmarkPropagation measures how long a practice takes from the
// publisher's Publish call until it is stored (committed and readable:
// the node stores gossip with store.ApplyCommitted) and until it is
// durable (an fsync covered it) on every other node of 100 mocknet nodes
// in the sparse topology. In the same run, on the same topology with the
// same envelopes, it measures three baselines (bench_bare_test.go):
//
//   - bare: gossipsub with the node's options (without scoring), no
//     validator and no storage, from topic.Publish until sub.Next returns
//     on each node;
//   - floor: the same with a validator that runs protocol.Open on every
//     message, the least a node that checks what it forwards must do (the
//     issue's physical floor: bare gossipsub plus one Open per delivery);
//   - durable floor: the floor, each delivery appended to a file and
//     fsynced before it counts.
//
// The four networks run side by side, each first waiting for its
// gossipsub meshes and carrying a few warm-up publications; then each
// measured publication goes through the node network, then bare, then the
// floors, so that the machine's load (other work on it) falls on all
// alike. Publications are sequential (the next starts when the last was
// stored everywhere), so the figures are latencies, not queueing; the
// fsyncs of the stores run in the background as in a node receiving
// gossip steadily (within store.DefaultSyncDelay), and each practice's
// time until it was durable on each node is noted as the fsyncs end. Each
// network's process CPU time is counted while its own publications run,
// so it includes the other networks' idle work (timers, heartbeats; the
// node network's is the largest, a few percent of the CPU); the CPU of
// the nodes' fsyncs (store.WriteStats.SyncCPU), which run in the
// background, is counted as the nodes' wherever it fell.
//
// Reported: p50 and p99 over every (publication, receiver) pair for each
// network; the node network's time until pubsub delivered the practice
// (the validator accepted it; storing follows); the node's ratios to
// bare, to the floor (goal <= 2) and to the durable floor, stored and
// durable; the process's CPU time per delivery (one publication reaching
// one receiver) in each network, with the node's ratio to the floor's;
// and the node's fsyncs per publication. ns/op is the time of one round
// of four publications. With KHANTARA_BENCH_PROFILE=dir it writes CPU
// profiles of each measured node and floor publication to
// dir/node-NNN.prof and dir/floor-NNN.prof (go tool pprof merges them:
// pprof node.test dir/node-*.prof).
func BenchmarkPropagation(b *testing.B) {
	sheets := demoSheets(b)
	tn := newTestNet(b, 0x9a55)
	tn.storeOpts = []store.Option{store.WithSyncClock(cputime.Thread)} // WriteStats.SyncCPU
	for range propNodes {
		tn.add()
	}
	tn.sparse()
	nodes := tn.nodes
	topic := nodes[0].topic.String()
	edges := topology(nodes)
	bare := newBareNet(b, topic, edges, bareGossip)
	floor := newBareNet(b, topic, edges, bareOpen)
	durable := newBareNet(b, topic, edges, bareDurable)
	var nodePS []*pubsub.PubSub
	var nodeHosts []host.Host
	for _, n := range nodes {
		nodePS, nodeHosts = append(nodePS, n.ps), append(nodeHosts, n.Host())
	}
	waitMeshes(b, topic, nodePS, nodeHosts, tn.mesh)
	waitMeshes(b, topic, bare.ps, bare.hosts, bare.mesh)
	waitMeshes(b, topic, floor.ps, floor.hosts, floor.mesh)
	waitMeshes(b, topic, durable.ps, durable.hosts, durable.mesh)

	// Each publication is a new practice, published in turn by each node.
	var r propReport
	var watch durableWatch
	// The nodes' stores fsync in the background, partly while the other
	// networks' publications run: their CPU (store.WriteStats.SyncCPU)
	// is taken out of whichever window it fell in and counted as the
	// nodes' (below, after the loop).
	fsyncCPU := func() (d time.Duration) {
		for _, n := range nodes {
			d += n.Store().WriteStats().SyncCPU
		}
		return d
	}
	round := func(i int, measure bool) {
		p := i % len(nodes)
		stop := r.profile(b, "node", i, measure)
		cpu0, sync0, start := cputime.Process(), fsyncCPU(), time.Now()
		lat, sg := nodePublish(b, nodes, nodes[p], variant(sheets, i), &watch, measure)
		cpu1, sync1 := cputime.Process(), fsyncCPU()
		stop()
		del := deliveries(tn.mesh, p, sg.Envelope(), start)
		pub := propPub{publisher: p, env: sg.Envelope()}
		cpu2, sync2 := cputime.Process(), fsyncCPU()
		bareLat := bare.publish(b, pub)
		stop = r.profile(b, "floor", i, measure)
		cpu3, sync3 := cputime.Process(), fsyncCPU()
		floorLat := floor.publish(b, pub)
		cpu4, sync4 := cputime.Process(), fsyncCPU()
		stop()
		durableLat := durable.publish(b, pub)
		cpu5, sync5 := cputime.Process(), fsyncCPU()
		if measure {
			r.pubs++
			r.node, r.delivered = append(r.node, lat.stored...), append(r.delivered, del...)
			r.nodePolled = append(r.nodePolled, lat.polled...)
			r.bare, r.floor = append(r.bare, bareLat...), append(r.floor, floorLat...)
			r.nodeCPU += cpu1 - cpu0 - (sync1 - sync0)
			r.bareCPU += cpu3 - cpu2 - (sync3 - sync2)
			r.floorCPU += cpu4 - cpu3 - (sync4 - sync3)
			r.durable, r.durableCPU = append(r.durable, durableLat...), r.durableCPU+cpu5-cpu4-(sync5-sync4)
		}
	}
	for i := range propWarmUps {
		round(i, false)
	}
	// Three hundred hosts and a hundred stores in one process make one
	// large heap (mocknet links, Badger tables), whose collection would
	// stall every node at once, as no single node's would. Collect it now
	// and hold the next collection off until the measurements end.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	syncs := func() (n uint64) {
		for _, x := range nodes {
			n += x.Store().WriteStats().Syncs
		}
		return n
	}
	r.dir = os.Getenv("KHANTARA_BENCH_PROFILE")
	syncs0, fsync0 := syncs(), fsyncCPU()
	for i := propWarmUps; b.Loop(); i++ {
		round(i, true)
	}
	watch.wait(b)
	nodeSyncs := syncs() - syncs0
	r.nodeDurable = watch.lat
	r.nodeFsyncCPU = fsyncCPU() - fsync0
	r.nodeCPU += r.nodeFsyncCPU

	r.nodes, r.links = len(nodes), len(edges)
	r.print(b)
	pubs := float64(r.pubs)
	b.ReportMetric(float64(nodeSyncs)/pubs, "node-fsyncs/pub")
	b.Logf("per publication, all nodes together: node %.0f fsyncs (on one shared disk here), on %d cores",
		float64(nodeSyncs)/pubs, runtime.GOMAXPROCS(0))
}

// topology returns the links between nodes, each once.
func topology(nodes []*Node) [][2]int {
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
	return edges
}

// profile starts a CPU profile of publication i of network net, written
// to r.dir/net-NNN.prof, when measure and r.dir are set, and returns what
// stops it.
func (r *propReport) profile(b *testing.B, net string, i int, measure bool) func() {
	b.Helper()
	if !measure || r.dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(r.dir, fmt.Sprintf("%s-%03d.prof", net, i)))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatalf("no CPU profile: %v (-cpuprofile and KHANTARA_BENCH_PROFILE exclude each other)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// propReport is what BenchmarkPropagation measured in the four networks.
type propReport struct {
	dir                        string // where profiles go, "" for none
	nodes, links, pubs         int
	node, delivered            []time.Duration // stored (committed), delivered by pubsub
	nodeDurable                []time.Duration // stored and fsynced
	nodePolled                 []time.Duration // stored, as the poll saw it
	bare, floor                []time.Duration
	nodeCPU, bareCPU, floorCPU time.Duration
	nodeFsyncCPU               time.Duration   // the part of nodeCPU the stores' fsyncs took
	durable                    []time.Duration // the durable floor's
	durableCPU                 time.Duration
}

// print reports the latencies, the CPU per delivery and their ratios.
func (r *propReport) print(b *testing.B) {
	n50, n99 := quantile(r.node, 0.50), quantile(r.node, 0.99)
	b50, b99 := quantile(r.bare, 0.50), quantile(r.bare, 0.99)
	f50, f99 := quantile(r.floor, 0.50), quantile(r.floor, 0.99)
	d50, d99 := quantile(r.delivered, 0.50), quantile(r.delivered, 0.99)
	u50, u99 := quantile(r.durable, 0.50), quantile(r.durable, 0.99)
	s50, s99 := quantile(r.nodeDurable, 0.50), quantile(r.nodeDurable, 0.99)
	o50, o99 := quantile(r.nodePolled, 0.50), quantile(r.nodePolled, 0.99)
	ratio := func(x, y time.Duration) float64 { return float64(x) / float64(y) }
	for _, m := range []struct {
		v    float64
		unit string
	}{
		{millis(n50), "node-p50-ms"}, {millis(n99), "node-p99-ms"},
		{millis(b50), "bare-p50-ms"}, {millis(b99), "bare-p99-ms"},
		{millis(f50), "floor-p50-ms"}, {millis(f99), "floor-p99-ms"},
		{millis(d50), "delivered-p50-ms"}, {millis(d99), "delivered-p99-ms"},
		{ratio(n50, b50), "p50-ratio"}, {ratio(n99, b99), "p99-ratio"},
		{ratio(n50, f50), "p50-floor-ratio"}, {ratio(n99, f99), "p99-floor-ratio"},
		{millis(u50), "durable-floor-p50-ms"}, {millis(u99), "durable-floor-p99-ms"},
		{ratio(n50, u50), "p50-durable-floor-ratio"}, {ratio(n99, u99), "p99-durable-floor-ratio"},
		{millis(s50), "node-durable-p50-ms"}, {millis(s99), "node-durable-p99-ms"},
		{ratio(s50, f50), "durable-p50-floor-ratio"}, {ratio(s99, f99), "durable-p99-floor-ratio"},
		{ratio(s50, u50), "durable-p50-durable-floor-ratio"}, {ratio(s99, u99), "durable-p99-durable-floor-ratio"},
		{millis(o50), "node-polled-p50-ms"}, {millis(o99), "node-polled-p99-ms"},
	} {
		b.ReportMetric(m.v, m.unit)
	}
	deliveries := float64(r.pubs * (r.nodes - 1))
	perDelivery := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / deliveries }
	nc, bc, fc := perDelivery(r.nodeCPU), perDelivery(r.bareCPU), perDelivery(r.floorCPU)
	b.ReportMetric(nc, "node-cpu-us/delivery")
	b.ReportMetric(bc, "bare-cpu-us/delivery")
	b.ReportMetric(fc, "floor-cpu-us/delivery")
	b.ReportMetric(perDelivery(r.durableCPU), "durable-floor-cpu-us/delivery")
	if fc > 0 {
		b.ReportMetric(nc/fc, "cpu-floor-ratio")
	}
	b.Logf("%d nodes, %d links, %d publications x %d receivers", r.nodes, r.links, r.pubs, r.nodes-1)
	b.Logf("publish-to-stored (committed, readable): node p50 %.2f ms, p99 %.2f ms; bare gossipsub p50 %.2f ms, p99 %.2f ms; floor (bare + protocol.Open per delivery) p50 %.2f ms, p99 %.2f ms",
		millis(n50), millis(n99), millis(b50), millis(b99), millis(f50), millis(f99))
	b.Logf("publish-to-delivered in the node network (validator accepted; stored follows): p50 %.2f ms, p99 %.2f ms, %.2fx / %.2fx the floor",
		millis(d50), millis(d99), ratio(d50, f50), ratio(d99, f99))
	b.Logf("ratios: node/bare p50 %.2fx, p99 %.2fx; node/floor p50 %.2fx, p99 %.2fx (goal <= 2x); floor/bare p50 %.2fx, p99 %.2fx",
		ratio(n50, b50), ratio(n99, b99), ratio(n50, f50), ratio(n99, f99), ratio(f50, b50), ratio(f99, b99))
	b.Logf("process CPU per delivery: node %.0f us (of which the stores' fsyncs %.0f us), bare %.0f us, floor %.0f us; node/floor %.2fx, node/bare %.2fx",
		nc, perDelivery(r.nodeFsyncCPU), bc, fc, nc/fc, nc/bc)
	b.Logf("durable floor (the floor, each delivery written to a file and fsynced, one fsync per delivery): p50 %.2f ms, p99 %.2f ms, CPU %.0f us per delivery; node/durable floor p50 %.2fx, p99 %.2fx",
		millis(u50), millis(u99), perDelivery(r.durableCPU), ratio(n50, u50), ratio(n99, u99))
	b.Logf("publish-to-durable (stored and covered by an fsync): node p50 %.2f ms, p99 %.2f ms; %.2fx / %.2fx the floor, %.2fx / %.2fx the durable floor",
		millis(s50), millis(s99), ratio(s50, f50), ratio(s99, f99), ratio(s50, u50), ratio(s99, u99))
	b.Logf("publish-to-stored as the benchmark's poll saw it (as measured before the nodes' own clocks): p50 %.2f ms, p99 %.2f ms, %.2fx / %.2fx the floor",
		millis(o50), millis(o99), ratio(o50, f50), ratio(o99, f99))
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

// nodeLat is what nodePublish measured on each node but the publisher.
type nodeLat struct {
	// stored is until the node's store answered the write (committed),
	// by the node's clock (counters.appliedAt); polled is until this
	// goroutine saw it, which under load lags by the poll's scheduling.
	stored, polled []time.Duration
}

// stillVolatile is a practice stored on a node and not yet known to be
// covered by an fsync there: durable once the store's Durable count
// reaches mark; published at start; noted when record.
type stillVolatile struct {
	node   *Node
	mark   uint64
	start  time.Time
	record bool
}

// durableWatch follows practices from stored to durable across
// publications: the stores fsync in the background, within their sync
// delay, while the next publications run.
type durableWatch struct {
	pending []stillVolatile
	// lat holds, for each practice and node noted, the time from Publish
	// until an fsync covering it ended.
	lat []time.Duration
}

// poll notes the practices now durable: once the store's Durable count
// reaches the mark, at the latest when the last fsync counted ended
// (SyncedAt, read after Durable).
func (w *durableWatch) poll() {
	kept := w.pending[:0]
	for _, p := range w.pending {
		ws := p.node.Store().WriteStats()
		switch {
		case ws.Durable < p.mark:
			kept = append(kept, p)
		case p.record:
			w.lat = append(w.lat, ws.SyncedAt.Sub(p.start))
		}
	}
	w.pending = kept
}

// wait polls until every practice is durable where it is stored.
func (w *durableWatch) wait(b *testing.B) {
	b.Helper()
	deadline := time.Now().Add(propDeadline)
	for w.poll(); len(w.pending) > 0; w.poll() {
		if time.Now().After(deadline) {
			b.Fatalf("%d stored practices not durable after %v", len(w.pending), propDeadline)
		}
		time.Sleep(propPoll)
	}
}

// nodePublish publishes sheet from pub and measures, for every other
// node, the time from the Publish call until the practice was stored
// there (committed and readable), and hands each node's practice to w,
// which notes (when record) when it becomes durable there (an fsync
// covered it). The stores are watched from this goroutine alone:
// each node's applied counter is read every propPoll, and only a node
// whose counter moved has its store read. The times are the nodes' own:
// once a node holds the practice, the time it last applied something,
// read then, is when it stored the practice (no node applies anything
// else meanwhile), and its store's count of committed announcements is a
// mark: the practice is durable once the store's Durable count reaches it
// (groups are fsynced in commit order).
func nodePublish(b *testing.B, nodes []*Node, pub *Node, sheet *protocol.FactSheet, w *durableWatch, record bool) (nodeLat, *protocol.Signed) {
	b.Helper()
	seen := make([]uint64, len(nodes))
	for j, n := range nodes {
		seen[j] = n.stats.applied.Load()
	}
	stored := make([]bool, len(nodes))
	var lat nodeLat
	start := time.Now()
	sg, err := pub.Publish(context.Background(), sheet)
	if err != nil {
		b.Fatal(err)
	}
	seq := sg.Announcement().Seq
	tick := time.NewTicker(propPoll)
	defer tick.Stop()
	for len(lat.stored) < len(nodes)-1 {
		for j, n := range nodes {
			if n == pub || stored[j] {
				continue
			}
			if c := n.stats.applied.Load(); c != seen[j] {
				// Read the clock after the counter: if the practice is
				// stored, this goroutine saw it before this instant.
				at := time.Now()
				seen[j] = c
				if has(n, pub.ID(), sheet.ID, seq) {
					stored[j] = true
					w.pending = append(w.pending, stillVolatile{node: n, mark: n.Store().WriteStats().Announcements, start: start, record: record})
					lat.polled = append(lat.polled, at.Sub(start))
					lat.stored = append(lat.stored, time.Unix(0, n.stats.appliedAt.Load()).Sub(start))
				}
			}
		}
		w.poll()
		if time.Since(start) > propDeadline {
			b.Fatalf("practice %s stored on %d of %d nodes in %v", sheet.ID, len(lat.stored), len(nodes)-1, propDeadline)
		}
		if len(lat.stored) < len(nodes)-1 {
			<-tick.C
		}
	}
	return lat, sg
}

// deliveries returns, for the nodes but pub that pubsub delivered env to
// (its validator accepted it) within a second of the last one storing
// it, the time from start until that delivery, as mesh saw it. A node
// that took the practice by sync first stores it without its pubsub ever
// delivering it (the validator ignores the duplicate).
func deliveries(mesh []*meshTracer, pub int, env []byte, start time.Time) []time.Duration {
	id := messageID(&pb.Message{Data: env})
	lat := make([]time.Duration, 0, len(mesh)-1)
	deadline := time.Now().Add(time.Second)
	for j, m := range mesh {
		if j == pub {
			continue
		}
		for {
			if at, ok := m.deliveredAt(id); ok {
				lat = append(lat, at.Sub(start))
				break
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	return lat
}

// Sync bytes.

const (
	syncPractices  = 10_000
	syncPublishers = 10
)
