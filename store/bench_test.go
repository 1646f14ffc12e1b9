package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/internal/cputime"
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

// ingestSlice is how long each side of BenchmarkIngest's alternation runs
// before the next takes its turn. An ingest slice stops taking envelopes
// when it is up and ends when the last one in flight is stored, so it
// pays for filling and draining its pipeline once; longer slices pay
// less of that, shorter ones follow the machine's changes more closely.
const ingestSlice = 250 * time.Millisecond

// BenchmarkIngest measures the full ingest path (Open + Apply with the
// shipped durability: every Apply returns fsynced, concurrent calls share
// a group commit) against raw Ed25519 verification of a 4 KB message on
// one core and on all cores, and protocol.Open (decode + verify +
// validate) on all cores, side by side: the four take turns in slices of
// ingestSlice until b.N announcements are stored, so each rate is
// measured at the same moments as the others, on a machine whose speed
// changes under other work. It reports ingest/s divided by the raw verify
// rate on one core (x-verify-1core, by wall time; x-verify-1core-cpu, by
// CPU) and on all cores (x-verify-par), and by the Open rate (x-open),
// for plain publishers (open+apply) and for organisations whose delegates
// sign (open+apply-delegated; the store does not judge chains, the node
// does: see node's BenchmarkGossipIngest).
//
// Two more sides measure what storing costs beneath the store. "append"
// writes the envelopes, in groups as large as ingest's group commits so
// far, to a plain file with write and fdatasync (as the packs): the
// disk itself. "keep"
// stores the same groups and nothing else in a raw Badger database with
// the store's options, on one goroutine, one transaction and one Sync per
// group: what keeping the envelopes in Badger would cost (the store keeps
// them in packs instead, pack.go, because keep costs about ten times
// append). The physical floor of ingest is Open on every core plus append
// (floor/s: GOMAXPROCS cores over their CPU per announcement added),
// reported as floor-x-verify-1core, with ingest's share of it by wall
// time (x-floor) and by CPU (x-floor-cpu); keep-floor-x-verify-1core is
// the same with keep in place of append.
func BenchmarkIngest(b *testing.B) {
	for _, delegated := range []bool{false, true} {
		name := "open+apply"
		if delegated {
			name = "open+apply-delegated"
		}
		b.Run(name, func(b *testing.B) { benchOpenApply(b, delegated) })
	}
}

// benchVerify is a 4 KB message signed with a fresh key, for the verify
// sides of BenchmarkIngest.
type benchVerify struct {
	pub      ed25519.PublicKey
	msg, sig []byte
}

func newBenchVerify() benchVerify {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 4096)
	return benchVerify{pub: pub, msg: msg, sig: ed25519.Sign(priv, msg)}
}

// onThreads runs work on workers goroutines, each locked to its own OS
// thread, until d has passed, and returns the operations they did and the
// CPU time their threads used. work does a few operations and returns how
// many.
func onThreads(workers int, d time.Duration, work func() int64) (ops int64, own time.Duration) {
	var n, cpu atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := cputime.Thread()
			var mine int64
			for time.Now().Before(deadline) {
				mine += work()
			}
			n.Add(mine)
			cpu.Add(int64(cputime.Thread() - t0))
		})
	}
	wg.Wait()
	return n.Load(), time.Duration(cpu.Load())
}

// burst verifies v's signature 16 times and returns 16.
func (v benchVerify) burst() int64 {
	for range 16 {
		if !ed25519.Verify(v.pub, v.msg, v.sig) {
			panic("verify failed")
		}
	}
	return 16
}

// benchOpenApply is BenchmarkIngest for plain publishers, or for
// organisations whose delegates sign: rounds of four slices (verify on
// one core, ingest, verify on all cores, Open on all cores) until all
// b.N envelopes are stored.
func benchOpenApply(b *testing.B, delegated bool) {
	envs := benchCatalogue(b, b.N, delegated)
	s := openStore(b, "")
	var size int
	for _, e := range envs {
		size += len(e)
	}
	b.SetBytes(int64(size / len(envs)))
	v := newBenchVerify()
	var opened atomic.Int64
	open := func() int64 {
		if _, err := protocol.Open(envs[int(opened.Add(1))%len(envs)]); err != nil {
			panic(err)
		}
		return 1
	}
	cores := runtime.GOMAXPROCS(0)
	var verify1, ingest, verifyPar, openPar, keep, appended cputime.Tally
	var next atomic.Int64
	fl := newFloor(b, s, envs)
	// The benchmark's timer runs only in the ingest slices: ns/op and
	// MB/s are ingest's.
	b.ResetTimer()
	b.StopTimer()
	rounds := 0
	for ; int(next.Load()) < len(envs); rounds++ {
		sl := cputime.Start()
		ops, own := labelled("verify1", func() (int64, time.Duration) { return onThreads(1, ingestSlice, v.burst) })
		verify1.Add(sl, ops, own)

		b.StartTimer()
		sl = cputime.Start()
		ops, _ = labelled("ingest", func() (int64, time.Duration) { return ingestFor(s, envs, &next, ingestSlice), 0 })
		ingest.Add(sl, ops, 0)
		b.StopTimer()

		sl = cputime.Start()
		ops, own = labelled("verify-par", func() (int64, time.Duration) { return onThreads(cores, ingestSlice, v.burst) })
		verifyPar.Add(sl, ops, own)

		sl = cputime.Start()
		ops, own = labelled("open", func() (int64, time.Duration) { return onThreads(cores, ingestSlice, open) })
		openPar.Add(sl, ops, own)

		group := fl.group(s)
		sl = cputime.Start()
		ops, _ = labelled("keep", func() (int64, time.Duration) { return fl.keep(b, group, ingestSlice), 0 })
		keep.Add(sl, ops, 0)

		sl = cputime.Start()
		ops, _ = labelled("append", func() (int64, time.Duration) { return fl.append(b, group, ingestSlice), 0 })
		appended.Add(sl, ops, 0)
	}
	b.ReportMetric(float64(rounds), "rounds")
	reportIngest(b, &verify1, &ingest, &verifyPar, &openPar)
	reportFloor(b, &verify1, &ingest, &openPar, &keep, &appended)
	ws := s.WriteStats()
	b.ReportMetric(float64(ws.Announcements)/float64(max(ws.Syncs, 1)), "per-fsync")
	if c, _, _ := s.Counts(); c.Practices != uint64(b.N) {
		b.Fatalf("stored %d practices, want %d", c.Practices, b.N)
	}
}

// labelled runs one slice of BenchmarkIngest with the profiler label
// slice=name on its goroutines, so that a CPU profile (-cpuprofile) can be
// cut by slice: go tool pprof -tagfocus slice=ingest. Work the store's own
// goroutines do carries no label (-tagignore the other slices to keep it).
// In an execution trace (-trace) the slice is a region named name, which
// tools/schedtrace -region reads.
func labelled(name string, run func() (int64, time.Duration)) (ops int64, own time.Duration) {
	pprof.Do(context.Background(), pprof.Labels("slice", name), func(ctx context.Context) {
		trace.WithRegion(ctx, name, func() { ops, own = run() })
	})
	return ops, own
}

// ingestFor is one ingest slice: ingestWorkers workers each open an
// envelope and apply it, as gossip validators and sync sessions do (the
// store groups their commits), taking envelopes from next on until d has
// passed or none is left. It returns how many it stored, once every one
// it took is stored.
func ingestFor(s *Store, envs [][]byte, next *atomic.Int64, d time.Duration) int64 {
	deadline := time.Now().Add(d)
	var done atomic.Int64
	var wg sync.WaitGroup
	for range ingestWorkers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
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
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return done.Load()
}

// reportIngest reports BenchmarkIngest's rates and ratios from its four
// tallies. Ingest's CPU includes what the process used during the
// one-core verify slices off the verifying thread (the garbage collector,
// Badger's background work, both left behind by ingest), so the one-core
// ratio by CPU does not flatter ingest. faults/op is the minor page
// faults the process took in the ingest slices, per announcement.
func reportIngest(b *testing.B, verify1, ingest, verifyPar, openPar *cputime.Tally) {
	rate := ingest.Rate()
	ingestCPU := (ingest.CPU + verify1.Spill()).Seconds() / float64(max(ingest.Ops, 1))
	b.ReportMetric(rate, "ingest/s")
	b.ReportMetric(ingestCPU*1e6, "cpu-us/op")
	b.ReportMetric(ingest.CPU.Seconds()/ingest.Wall.Seconds(), "cores")
	b.ReportMetric(ingest.FaultsPerOp(), "faults/op")
	b.ReportMetric(verify1.Rate(), "verify1/s")
	b.ReportMetric(verify1.OwnPerOp()*1e6, "verify1-cpu-us/op")
	b.ReportMetric(verifyPar.Rate(), "verify-par/s")
	b.ReportMetric(openPar.Rate(), "open/s")
	b.ReportMetric(openPar.CPUPerOp()*1e6, "open-cpu-us/op")
	b.ReportMetric(rate/verify1.Rate(), "x-verify-1core")
	b.ReportMetric(rate/verifyPar.Rate(), "x-verify-par")
	b.ReportMetric(rate/openPar.Rate(), "x-open")
	if cputime.Supported && ingestCPU > 0 {
		// What the ratio would be on cores of its own: ingest on
		// GOMAXPROCS cores, each as fast as the one that verified,
		// over one core verifying (robust to other load on the
		// machine, which takes CPU time but does not count in it).
		b.ReportMetric(float64(runtime.GOMAXPROCS(0))*verify1.OwnPerOp()/ingestCPU, "x-verify-1core-cpu")
	}
}

// floor holds the two floor sides of BenchmarkIngest: a raw Badger
// database and a plain file, each in a directory of its own, and the
// envelopes they store (the same as ingest's, in turn).
type floor struct {
	db   *badger.DB
	file *os.File
	envs [][]byte
	next int // the next envelope
	keys uint64
	buf  []byte
}

// newFloor opens the floor's Badger database, with s's options, and its
// file, each in a directory of its own that the benchmark removes.
func newFloor(b *testing.B, s *Store, envs [][]byte) *floor {
	db, err := badger.Open(s.badgerOptions(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	f, err := os.Create(filepath.Join(b.TempDir(), "append"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return &floor{db: db, file: f, envs: envs}
}

// group returns the mean size of s's group commits so far (at least 1).
func (f *floor) group(s *Store) int {
	ws := s.WriteStats()
	return max(1, int(ws.Announcements/max(ws.Syncs, 1)))
}

// env returns the next envelope.
func (f *floor) env() []byte {
	e := f.envs[f.next%len(f.envs)]
	f.next++
	return e
}

// keep is one keep slice: groups of group envelopes, each group one
// transaction and one Sync, until d has passed. It returns how many it
// stored.
func (f *floor) keep(b *testing.B, group int, d time.Duration) int64 {
	var n int64
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		txn := f.db.NewTransaction(true)
		for range group {
			e := f.env()
			f.keys++
			h := sha256.Sum256(e)
			if err := txn.Set(binary.BigEndian.AppendUint64(h[:8:8], f.keys), e); err != nil {
				b.Fatal(err)
			}
		}
		if err := txn.Commit(); err != nil {
			b.Fatal(err)
		}
		if err := f.db.Sync(); err != nil {
			b.Fatal(err)
		}
		n += int64(group)
	}
	return n
}

// appendLimit is where the append side starts its file anew (as a log is
// rotated), so that it does not fill the disk at 100,000 envelopes a
// second.
const appendLimit = 64 << 20

// append is one append slice: groups of group envelopes, each group one
// write and one fdatasync of the file (as the store's packs), until d has
// passed.
func (f *floor) append(b *testing.B, group int, d time.Duration) int64 {
	var n int64
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if off, err := f.file.Seek(0, io.SeekCurrent); err != nil {
			b.Fatal(err)
		} else if off > appendLimit {
			if err := f.file.Truncate(0); err != nil {
				b.Fatal(err)
			}
			if _, err := f.file.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
		}
		f.buf = f.buf[:0]
		for range group {
			f.buf = append(f.buf, f.env()...)
		}
		if _, err := f.file.Write(f.buf); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f.file); err != nil {
			b.Fatal(err)
		}
		n += int64(group)
	}
	return n
}

// reportFloor reports the floor sides of BenchmarkIngest and ingest
// against them (see BenchmarkIngest).
func reportFloor(b *testing.B, verify1, ingest, openPar, keep, appended *cputime.Tally) {
	if !cputime.Supported {
		return
	}
	cores := float64(runtime.GOMAXPROCS(0))
	ingestCPU := (ingest.CPU + verify1.Spill()).Seconds() / float64(max(ingest.Ops, 1))
	floorCPU := openPar.CPUPerOp() + appended.CPUPerOp()
	floorRate := cores / floorCPU
	b.ReportMetric(cores/(openPar.CPUPerOp()+keep.CPUPerOp())/verify1.Rate(), "keep-floor-x-verify-1core")
	b.ReportMetric(keep.CPUPerOp()*1e6, "keep-cpu-us/op")
	b.ReportMetric(appended.CPUPerOp()*1e6, "append-cpu-us/op")
	b.ReportMetric(keep.Rate(), "keep/s")
	b.ReportMetric(appended.Rate(), "append/s")
	b.ReportMetric(floorRate, "floor/s")
	b.ReportMetric(floorRate/verify1.Rate(), "floor-x-verify-1core")
	b.ReportMetric(ingest.Rate()/floorRate, "x-floor")
	b.ReportMetric(floorCPU/ingestCPU, "x-floor-cpu")
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
