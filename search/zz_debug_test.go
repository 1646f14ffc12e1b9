package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func BenchmarkDebugSlow(b *testing.B) {
	n := benchN(b)
	st := benchStore(b, n)
	dir := "/tmp/khantara-debug-index"
	ix, err := Open(dir, st, WithClock(func() time.Time { return testNow }))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	r := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []struct {
		name string
		qs   []Query
	}{{"text", genQueries(r, true, false)}, {"filter", genQueries(r, false, true)}, {"combined", genQueries(r, true, true)}} {
		type res struct {
			ms    float64
			total int
			q     Query
		}
		var rs []res
		for _, q := range kind.qs {
			start := time.Now()
			out, err := ix.Search(context.Background(), q)
			if err != nil {
				b.Fatal(err)
			}
			rs = append(rs, res{float64(time.Since(start).Microseconds()) / 1000, out.Total, q})
		}
		slices.SortFunc(rs, func(a, b res) int { return int(b.ms*1000 - a.ms*1000) })
		for _, x := range rs[:6] {
			fmt.Printf("%s %.1fms total=%d q=%q filters=%+v\n", kind.name, x.ms, x.total, x.q.Text, x.q)
		}
	}
}
