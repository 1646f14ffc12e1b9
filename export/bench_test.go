package export

import (
	"io"
	"testing"

	"github.com/khantara/khantara/store"
)

// BenchmarkExport writes the demo catalogue, repeated to 430 practices,
// in every format, from memory to io.Discard: the cost of formatting.
func BenchmarkExport(b *testing.B) {
	f := newFixture(b)
	var recs []*store.Record
	for r, err := range StorePractices(f.st) {
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	const total = 430
	src := func(yield func(*store.Record, error) bool) {
		for i := range total {
			if !yield(recs[i%len(recs)], nil) {
				return
			}
		}
	}
	profiles := StoreProfiles(f.st)
	for _, bc := range []struct {
		name string
		run  func() (int, error)
	}{
		{"CSV", func() (int, error) { return CSV(io.Discard, src, Options{Profiles: profiles}) }},
		{"JSONL", func() (int, error) { return JSONL(io.Discard, src, Options{Profiles: profiles}) }},
		{"DCAT", func() (int, error) { return DCAT(io.Discard, src, Catalog{NodeID: f.a, Profiles: profiles}) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				k, err := bc.run()
				if err != nil || k != total {
					b.Fatalf("n=%d err=%v", k, err)
				}
				n += k
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "practices/s")
		})
	}
}
