package store

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// BenchmarkCompact measures one purge of a store holding b.N practices (make
// bench runs 20,000), a tenth of them superseded: the copy and swap of
// Compact, side by side with a full read of the same store (List, which
// decodes every envelope) and with the ingest of the same practices. It
// reports practices copied per second and the two ratios; writes wait for
// the whole of a Compact.
func BenchmarkCompact(b *testing.B) {
	envs := benchEnvelopes(b, b.N)
	s := openStore(b, "")
	ingest := time.Now()
	apply := func(envs [][]byte) {
		for len(envs) > 0 {
			n := min(len(envs), 512)
			in := make([]Incoming, n)
			for i, e := range envs[:n] {
				signed, err := protocol.Open(e)
				if err != nil {
					b.Fatal(err)
				}
				in[i] = Incoming{Signed: signed}
			}
			if _, err := s.Apply(context.Background(), in...); err != nil {
				b.Fatal(err)
			}
			envs = envs[n:]
		}
	}
	apply(envs)
	ingestTook := time.Since(ingest)
	// Supersede a tenth: retract them.
	k, _ := key(b, 9)
	var rs []*protocol.Signed
	for i := range b.N / 10 {
		rs = append(rs, retract(b, k, uint64(i+1), "gone"))
	}
	for _, r := range rs {
		apply([][]byte{r.Envelope()})
	}

	b.ResetTimer()
	scan := time.Now()
	n := 0
	for _, err := range s.List(ListOptions{}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	scanTook := time.Since(scan)
	start := time.Now()
	st, err := s.Compact(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "practices/s")
	b.ReportMetric(took.Seconds()/scanTook.Seconds(), "x-full-read")
	b.ReportMetric(took.Seconds()/ingestTook.Seconds(), "x-ingest")
	b.ReportMetric(float64(st.After)/(1<<20), "MiB-after")
	if pending, _ := s.PurgePending(); pending || n < b.N {
		b.Fatalf("after Compact: pending %v, %d records listed", pending, n)
	}
}
