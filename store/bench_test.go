package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// benchEnvelopes returns n sealed envelopes of realistic size: the demo
// sheets, renamed, from 50 publishers.
func benchEnvelopes(b *testing.B, n int) [][]byte {
	b.Helper()
	return benchCatalogue(b, n, false)
}

// benchCatalogue is benchEnvelopes; with delegated, the 50 publishers are
// organisations and each record is signed by the organisation's delegate
// key (the organisations' genesis operations are not among the n).
func benchCatalogue(b *testing.B, n int, delegated bool) [][]byte {
	b.Helper()
	files, _ := filepath.Glob("../demo/sheets/*.yaml")
	if len(files) == 0 {
		b.Fatal("no demo sheets")
	}
	var sheets []*protocol.FactSheet
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		s, err := protocol.ParseSheet(data)
		if err != nil {
			b.Fatal(err)
		}
		sheets = append(sheets, s)
	}
	keys := make([]crypto.PrivKey, 50)
	for i := range keys {
		keys[i], _, _ = crypto.GenerateEd25519Key(rand.Reader)
	}
	orgs := make([]*protocol.Signed, len(keys))
	if delegated {
		for i := range orgs {
			orgs[i] = benchOrg(b, keys[i])
		}
	}
	out := make([][]byte, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				s := *sheets[i%len(sheets)]
				s.ID = fmt.Sprintf("%.50s-%d", s.ID, i)
				a := &protocol.Announcement{V: 1, Seq: uint64(i/len(keys) + 1), Time: t0, Kind: protocol.KindPractice, Practice: &s}
				if g := orgs[i%len(keys)]; g != nil {
					a.Publisher, a.Auth, a.Seq = g.Announcement().Publisher, g.Hash(), a.Seq+1
				}
				signed, err := protocol.Seal(a, keys[i%len(keys)])
				if err != nil {
					panic(err)
				}
				out[i] = signed.Envelope()
			}
		})
	}
	wg.Wait()
	return out
}

// benchOrg seals the genesis of an organisation that delegates every
// kind to delegate (its rotation key is thrown away).
func benchOrg(b *testing.B, delegate crypto.PrivKey) *protocol.Signed {
	b.Helper()
	rot, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	id, err := peer.IDFromPrivateKey(delegate)
	if err != nil {
		b.Fatal(err)
	}
	g, err := protocol.NewGenesis("Bench organisation", []crypto.PubKey{rot.GetPublic()}, t0,
		protocol.Delegation{Key: id, May: []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile}})
	if err != nil {
		b.Fatal(err)
	}
	sg, err := protocol.Seal(g, rot)
	if err != nil {
		b.Fatal(err)
	}
	return sg
}

// ingestWorkers is how many announcements are in flight at once, as with
// gossipsub validating concurrently (its default allows 1024 per topic).
const ingestWorkers = 256

// BenchmarkIngest measures, side by side in one run: raw Ed25519
// verification of a 4 KB message (one core, and all cores), protocol.Open
// (decode + verify + validate) on all cores, and the full ingest path
// (Open + Apply with the shipped durability: every Apply returns fsynced,
// concurrent calls share a group commit). It reports ingest rate divided
// by the raw verify rate on all cores (x-verify-par) and on one core
// (x-verify-1core), for plain publishers (open+apply) and for
// organisations whose delegates sign (open+apply-delegated; the store
// does not judge chains, the node does: see node's BenchmarkGossipIngest).
func BenchmarkIngest(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pubKey := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, 4096)
	sig := ed25519.Sign(priv, msg)
	var verify1, verifyPar, openPar float64

	var verifyCPU float64
	b.Run("ed25519-verify-1core", func(b *testing.B) {
		start, cpu := time.Now(), cpuTime()
		for i := 0; i < b.N; i++ {
			if !ed25519.Verify(pubKey, msg, sig) {
				b.Fatal("verify failed")
			}
		}
		verify1 = float64(b.N) / time.Since(start).Seconds()
		verifyCPU = (cpuTime() - cpu).Seconds() / float64(b.N)
		b.ReportMetric(verify1, "verify/s")
		b.ReportMetric(verifyCPU*1e6, "cpu-us/op")
	})
	b.Run("ed25519-verify-parallel", func(b *testing.B) {
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !ed25519.Verify(pubKey, msg, sig) {
					panic("verify failed")
				}
			}
		})
		verifyPar = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(verifyPar, "verify/s")
	})
	b.Run("open-parallel", func(b *testing.B) {
		envs := benchEnvelopes(b, min(b.N, 4096))
		b.ResetTimer()
		start, cpu := time.Now(), cpuTime()
		var i atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := protocol.Open(envs[int(i.Add(1))%len(envs)]); err != nil {
					panic(err)
				}
			}
		})
		openPar = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(openPar, "open/s")
		reportCPU(b, start, cpu)
	})
	for _, delegated := range []bool{false, true} {
		name := "open+apply"
		if delegated {
			name = "open+apply-delegated"
		}
		b.Run(name, func(b *testing.B) { benchOpenApply(b, delegated, verify1, verifyPar, openPar, verifyCPU) })
	}
}

// benchOpenApply is BenchmarkIngest's open+apply: plain publishers, or
// organisations whose delegates sign.
func benchOpenApply(b *testing.B, delegated bool, verify1, verifyPar, openPar, verifyCPU float64) {
	envs := benchCatalogue(b, b.N, delegated)
	s := openStore(b, "")
	var size int
	for _, e := range envs {
		size += len(e)
	}
	b.SetBytes(int64(size / len(envs)))
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	// Workers each open one envelope and apply it, as gossip validators
	// and sync sessions do; the store groups their commits.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range ingestWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(envs) {
					return
				}
				signed, err := protocol.Open(envs[i])
				if err != nil {
					panic(err)
				}
				if _, err := s.Apply(context.Background(), Incoming{Signed: signed, From: "bench"}); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if cpuOp := reportCPU(b, start, cpu); verifyCPU > 0 {
		// What the ratio would be on two cores of its own: the CPU one
		// verify takes on one core over the CPU one ingest takes,
		// times the two cores (robust to other load on the machine).
		b.ReportMetric(2*verifyCPU/cpuOp, "x-verify-1core-cpu")
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "ingest/s")
	ws := s.WriteStats()
	b.ReportMetric(float64(ws.Announcements)/float64(max(ws.Syncs, 1)), "per-fsync")
	if verifyPar > 0 {
		b.ReportMetric(rate/verifyPar, "x-verify-par")
		b.ReportMetric(rate/verify1, "x-verify-1core")
		b.ReportMetric(rate/openPar, "x-open")
	}
	if c, _, _ := s.Counts(); c.Practices != uint64(b.N) {
		b.Fatalf("stored %d practices, want %d", c.Practices, b.N)
	}
}

// BenchmarkApplySequential is the worst case: one caller, one announcement
// per Apply, so every call pays its own fsync (own publications one at a
// time). Its rate is bounded by the disk's fsync latency.
func BenchmarkApplySequential(b *testing.B) {
	envs := benchEnvelopes(b, b.N)
	signed := make([]*protocol.Signed, len(envs))
	for i, e := range envs {
		signed[i], _ = protocol.Open(e)
	}
	s := openStore(b, "")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Apply(context.Background(), Incoming{Signed: signed[i]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGossipIngest is the gossip path in the store: each worker
// opens an envelope, asks the store what the validator asks (seen? the
// slot's head? the publisher's summary?) and applies it. "asked-twice"
// asks with Seen, Head and PublisherSummary and lets Apply read it all
// again in its transaction; "asked-once" asks with one Lookup and hands
// the Prior to Apply. It reports ingest/s and, for asked-once, the share
// of announcements Apply took from their Prior.
func BenchmarkGossipIngest(b *testing.B) {
	for _, once := range []bool{false, true} {
		name := "asked-twice"
		if once {
			name = "asked-once"
		}
		b.Run(name, func(b *testing.B) {
			envs := benchEnvelopes(b, b.N)
			s := openStore(b, "")
			b.ResetTimer()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range ingestWorkers {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= len(envs) {
							return
						}
						signed, err := protocol.Open(envs[i])
						if err != nil {
							panic(err)
						}
						in := Incoming{Signed: signed, From: "bench"}
						if once {
							if in.Prior, err = s.Lookup(signed); err != nil {
								panic(err)
							}
						} else {
							ann, h := signed.Announcement(), signed.Hash()
							if _, err := s.Seen(ann.Publisher, ann.Seq, h[:]); err != nil {
								panic(err)
							}
							if _, err := s.Head(ann.Publisher, ann.Slot()); err != nil && !errors.Is(err, ErrNotFound) {
								panic(err)
							}
							if _, err := s.PublisherSummary(ann.Publisher); err != nil && !errors.Is(err, ErrNotFound) {
								panic(err)
							}
						}
						if _, err := s.Apply(context.Background(), in); err != nil {
							panic(err)
						}
					}
				})
			}
			wg.Wait()
			rate := float64(b.N) / time.Since(start).Seconds()
			b.StopTimer()
			b.ReportMetric(rate, "ingest/s")
			if once {
				b.ReportMetric(float64(s.reused.Load())/float64(b.N), "reused")
			}
			if c, _, _ := s.Counts(); c.Practices != uint64(b.N) {
				b.Fatalf("stored %d practices, want %d", c.Practices, b.N)
			}
		})
	}
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start
// (cpu-us/op) and the cores it kept busy on average (cores), and returns
// the CPU seconds per operation. On a machine shared with other work,
// cores below GOMAXPROCS means waiting (on the disk, or for a CPU).
func reportCPU(b *testing.B, start time.Time, cpu time.Duration) float64 {
	used := (cpuTime() - cpu).Seconds()
	b.ReportMetric(used/float64(b.N)*1e6, "cpu-us/op")
	b.ReportMetric(used/time.Since(start).Seconds(), "cores")
	return used / float64(b.N)
}
