package node

// The baseline of a churn run (churn_test.go): bare gossipsub on the same
// edges with the same link options, carrying the run's envelopes from the
// same publishers at the same moments (relative to the first); and the
// process's memory, sampled through the run.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// newChurnBare builds n bare gossipsub hosts (as newBareNet does: the
// nodes' options without scoring, no validator, no storage) linked and
// connected along edges, each link with its options from opts.
func newChurnBare(t testing.TB, topic string, n int, edges [][2]int, opts map[[2]int]mocknet.LinkOptions) *bareNet {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	t.Cleanup(func() { cancel(); readers.Wait() })
	bn := &bareNet{arrivals: make(chan bareArrival, 64*n)}
	for i := range n {
		addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.4/tcp/4001", i/250, i%250+1))
		h, err := mn.AddPeer(benchKey(t, 0xba5f, i), addr)
		if err != nil {
			t.Fatal(err)
		}
		mesh := &meshTracer{peers: map[peer.ID]bool{}}
		ps, err := pubsub.NewGossipSub(ctx, h, append(PubsubOptions(topic, false), pubsub.WithRawTracer(mesh))...)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := ps.Join(topic)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := tp.Subscribe(pubsub.WithBufferSize(1024))
		if err != nil {
			t.Fatal(err)
		}
		readers.Go(func() {
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				at := time.Now()
				if m.ReceivedFrom == h.ID() {
					continue
				}
				select {
				case bn.arrivals <- bareArrival{node: i, id: m.ID, at: at}:
				case <-ctx.Done():
					return
				}
			}
		})
		bn.hosts, bn.mesh, bn.ps, bn.topics = append(bn.hosts, h), append(bn.mesh, mesh), append(bn.ps, ps), append(bn.topics, tp)
	}
	for _, e := range edges {
		l, err := mn.LinkPeers(bn.hosts[e[0]].ID(), bn.hosts[e[1]].ID())
		if err != nil {
			t.Fatal(err)
		}
		l.SetOptions(opts[e])
		if _, err := mn.ConnectPeers(bn.hosts[e[0]].ID(), bn.hosts[e[1]].ID()); err != nil {
			t.Fatal(err)
		}
	}
	return bn
}

// waitChurnMeshes is waitMeshes for any testing.TB.
func waitChurnMeshes(t testing.TB, topic string, ps []*pubsub.PubSub, nets []func() int, mesh []func() int) {
	t.Helper()
	eventually(t, 2*time.Minute, "every node's gossipsub mesh", func() bool {
		for i := range ps {
			n := len(ps[i].ListPeers(topic))
			if n == 0 || n < nets[i]() || mesh[i]() < min(n, pubsub.GossipSubDlo) {
				return false
			}
		}
		return true
	})
}

// replay publishes pubs on bn at the same offsets from the first as in
// the run, each from its publisher, and returns, for every other host, the
// time from publication until its subscription delivered the message. It
// fails the test unless every message reaches every host within deadline
// of the last publication.
func (bn *bareNet) replay(t testing.TB, pubs []*churnPub, deadline time.Duration) []time.Duration {
	t.Helper()
	idx := map[string]int{}
	for i, p := range pubs {
		idx[messageID(&pb.Message{Data: p.env})] = i
	}
	// starts[i] is written before message i is published, and read by this
	// goroutine after its arrivals: the channel orders the two.
	starts := make([]time.Time, len(pubs))
	published := make(chan int, len(pubs))
	errc := make(chan error, 1)
	go func() {
		t0 := time.Now()
		for i, p := range pubs {
			time.Sleep(time.Until(t0.Add(p.at.Sub(pubs[0].at)))) // the run's schedule
			starts[i] = time.Now()
			if err := bn.topics[p.publisher].Publish(context.Background(), p.env); err != nil {
				errc <- err
				return
			}
			published <- i
		}
	}()
	got := make([][]time.Time, len(pubs))
	want, have, done := len(pubs)*(len(bn.ps)-1), 0, 0
	var lat []time.Duration
	var end <-chan time.Time
	for have < want {
		select {
		case a := <-bn.arrivals:
			i, ok := idx[a.id]
			if !ok {
				continue
			}
			if got[i] == nil {
				got[i] = make([]time.Time, len(bn.ps))
			}
			if got[i][a.node].IsZero() {
				got[i][a.node] = a.at
				have++
			}
		case <-published:
			if done++; done == len(pubs) {
				end = time.After(deadline)
			}
		case err := <-errc:
			t.Fatalf("bare gossipsub publish: %v", err)
		case <-end:
			t.Fatalf("bare gossipsub: %d of %d deliveries within %v of the last publication", have, want, deadline)
		}
	}
	for done < len(pubs) { // every arrival came; let the schedule finish
		<-published
		done++
	}
	for i, p := range pubs {
		for v, at := range got[i] {
			if v != p.publisher {
				lat = append(lat, at.Sub(starts[i]))
			}
		}
	}
	return lat
}

// churnMem samples the Go runtime's memory every period until stop is
// called, keeping the peaks of HeapInuse and Sys and every HeapInuse
// sample (for its median).
type churnMem struct {
	heapInuse, sys uint64
	heapSamples    []time.Duration // HeapInuse in bytes, typed for quantile
	stop           func()
}

func sampleChurnMemory(period time.Duration) *churnMem {
	m := &churnMem{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.heapInuse, m.sys = max(m.heapInuse, ms.HeapInuse), max(m.sys, ms.Sys)
		m.heapSamples = append(m.heapSamples, time.Duration(ms.HeapInuse))
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	m.stop = func() { cancel(); <-done; sample() }
	return m
}

// churnVmHWM returns the process's peak resident set size (VmHWM in
// /proc/self/status) in bytes, or 0 where that cannot be read.
func churnVmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
