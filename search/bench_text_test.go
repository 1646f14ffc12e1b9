package search

import (
	"cmp"
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"time"
)

// BenchmarkSearchText runs only BenchmarkSearch's text queries (the
// same benchTextQueries, each with facets and a loaded page), on the
// index of KHANTARA_BENCH_N practices, to study the tail of their
// latency: it reports p50, p99 and their ratio over two rounds, the
// ratio of each query's two runs at the p99 (does a slow query stay
// slow?), and the share of the slowest 1% that a garbage collection
// cycle overlapped. With -v it logs the slowest queries.
//
// KHANTARA_BENCH_INDEX names a directory that keeps the index between
// runs (it is rebuilt only when the mapping or the store changed);
// without it the index is built in a temporary directory.
func BenchmarkSearchText(b *testing.B) {
	n := benchN(b)
	st := benchStore(b, n)
	ctx := context.Background()
	dir := os.Getenv("KHANTARA_BENCH_INDEX")
	if dir == "" {
		dir = b.TempDir()
	}
	ix, err := Open(dir, st, WithClock(func() time.Time { return testNow }))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	if err := ix.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if count, _ := ix.Count(); int(count) != n {
		b.Fatalf("index holds %d practices, want %d", count, n)
	}
	runtime.GC()
	qs := genTextQueries(rand.New(rand.NewPCG(1, 2)))
	gcs := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	cycles := func() uint64 { metrics.Read(gcs); return gcs[0].Value.Uint64() }
	rounds := [2][]run{}
	// The search runs on this goroutine: pinned to its thread, the
	// thread's CPU time is the search's (and its GC assists'), which
	// other processes on the machine do not lengthen.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for r := range rounds {
		rounds[r] = make([]run, len(qs))
		for i, q := range qs {
			before, cpu := cycles(), threadCPU()
			start := time.Now()
			res, err := ix.search(ctx, q, true, true)
			ms := float64(time.Since(start).Microseconds()) / 1000
			if err != nil {
				b.Fatal(err)
			}
			rounds[r][i] = run{ms: ms, cpu: threadCPU() - cpu, total: res.Total, gc: cycles() != before, q: q.Text}
		}
	}
	pct := func(rs []run, cpu bool) latencies {
		ms := make([]float64, len(rs))
		for i, r := range rs {
			ms[i] = r.ms
			if cpu {
				ms[i] = r.cpu
			}
		}
		slices.Sort(ms)
		return latencies{p50: ms[len(ms)/2], p99: ms[min(len(ms)-1, len(ms)*99/100)]}
	}
	first, second, cpu := pct(rounds[0], false), pct(rounds[1], false), pct(rounds[0], true)
	slow := slices.Clone(rounds[0])
	for i := range slow {
		slow[i].again = rounds[1][i].ms
	}
	slices.SortFunc(slow, func(a, b run) int { return -cmp.Compare(a.ms, b.ms) })
	top := slow[:max(1, len(slow)/100)]
	withGC, stable := 0, 0
	for _, r := range top {
		if r.gc {
			withGC++
		}
		if r.again >= first.p99/2 {
			stable++
		}
	}
	for _, r := range slow[:min(len(slow), 15)] {
		b.Logf("%7.2f ms (cpu %6.2f, again %6.2f) total %6d gc %-5v %q", r.ms, r.cpu, r.again, r.total, r.gc, r.q)
	}
	b.ReportMetric(first.p50, "p50-ms")
	b.ReportMetric(first.p99, "p99-ms")
	b.ReportMetric(first.p99/first.p50, "p99/p50")
	b.ReportMetric(second.p50, "again-p50-ms")
	b.ReportMetric(second.p99, "again-p99-ms")
	b.ReportMetric(second.p99/second.p50, "again-p99/p50")
	b.ReportMetric(cpu.p50, "cpu-p50-ms")
	b.ReportMetric(cpu.p99, "cpu-p99-ms")
	b.ReportMetric(cpu.p99/cpu.p50, "cpu-p99/p50")
	fixed, perMatch := fitCost(rounds[1])
	b.ReportMetric(fixed, "cpu-fixed-ms")
	b.ReportMetric(perMatch*1000, "cpu-us-per-match")
	b.ReportMetric(float64(withGC)/float64(len(top)), "slowest-with-gc")
	b.ReportMetric(float64(stable)/float64(len(top)), "slowest-slow-again")
}

// fitCost fits the CPU time of the runs as fixed + perMatch x total
// (least squares), in ms.
func fitCost(rs []run) (fixed, perMatch float64) {
	var n, sx, sy, sxx, sxy float64
	for _, r := range rs {
		x, y := float64(r.total), r.cpu
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	perMatch = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return (sy - perMatch*sx) / n, perMatch
}

// run is one text query's run in BenchmarkSearchText.
type run struct {
	ms, cpu float64 // wall time, and CPU time of the search's thread
	total   int     // matches
	gc      bool    // a GC cycle ended during it
	q       string
	again   float64 // wall time of the second round
}
