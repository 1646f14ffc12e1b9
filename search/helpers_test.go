package search

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testNow is the clock of every test index: ongoing practices run to 2026.
var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func testKey(t testing.TB, seed uint64) crypto.PrivKey {
	t.Helper()
	s := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("khantara-search-test-key"), seed))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s[:]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// demoSheets is the demo catalogue, in ID order (the order of its files).
func demoSheets(t testing.TB) []*protocol.FactSheet {
	t.Helper()
	sheets, err := demo.ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	return sheets
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.WithMemTableSize(4<<20), store.WithCacheSize(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openIndex opens an index and waits until it is ready.
func openIndex(t testing.TB, dir string, st *store.Store, opts ...Option) *Index {
	t.Helper()
	ix := openIndexAsync(t, dir, st, opts...)
	flush(t, ix)
	return ix
}

// openIndexAsync opens an index and returns at once, as Open does.
func openIndexAsync(t testing.TB, dir string, st *store.Store, opts ...Option) *Index {
	t.Helper()
	opts = append([]Option{WithClock(func() time.Time { return testNow }), WithLogger(testLogger(t))}, opts...)
	ix, err := Open(dir, st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	return ix
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// entry is one current practice as the test knows it.
type entry struct {
	pub   peer.ID
	seq   uint64
	sheet *protocol.FactSheet
}

// catalogue publishes fact sheets from a few publishers into a real
// store, through sealed announcements, and remembers what is current,
// so tests can compute expected answers by scanning it.
type catalogue struct {
	t    testing.TB
	st   *store.Store
	keys []crypto.PrivKey
	pubs []peer.ID
	seq  map[peer.ID]uint64
	cur  map[string]*entry // by docID
	// exps are the live experience records, by docID of author and slot
	// (exp_helpers_test.go).
	exps map[string]*protocol.Announcement
}

func newCatalogue(t testing.TB, st *store.Store, publishers int) *catalogue {
	c := &catalogue{t: t, st: st, seq: map[peer.ID]uint64{}, cur: map[string]*entry{}}
	for i := range publishers {
		k := testKey(t, uint64(i+1))
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, k)
		c.pubs = append(c.pubs, id)
	}
	return c
}

// publish seals and applies announcements of sheets by publisher p.
func (c *catalogue) publish(p int, sheets ...*protocol.FactSheet) {
	c.t.Helper()
	var in []store.Incoming
	for _, s := range sheets {
		pub := c.pubs[p]
		c.seq[pub]++
		a := &protocol.Announcement{V: protocol.Version, Seq: c.seq[pub], Kind: protocol.KindPractice,
			Time: testNow.Add(time.Duration(c.seq[pub]) * time.Second), Practice: s}
		signed, err := protocol.Seal(a, c.keys[p])
		if err != nil {
			c.t.Fatalf("seal %s: %v", s.ID, err)
		}
		in = append(in, store.Incoming{Signed: signed, From: "test"})
		c.cur[docID(pub, s.ID)] = &entry{pub: pub, seq: a.Seq, sheet: s}
	}
	c.apply(in)
}

// retract seals and applies the retraction of id by publisher p.
func (c *catalogue) retract(p int, id string) {
	c.t.Helper()
	pub := c.pubs[p]
	c.seq[pub]++
	a := &protocol.Announcement{V: protocol.Version, Seq: c.seq[pub], Kind: protocol.KindRetract,
		Time: testNow.Add(time.Duration(c.seq[pub]) * time.Second), Retract: &protocol.Retraction{ID: id}}
	signed, err := protocol.Seal(a, c.keys[p])
	if err != nil {
		c.t.Fatal(err)
	}
	delete(c.cur, docID(pub, id))
	delete(c.exps, docID(pub, id))
	c.apply([]store.Incoming{{Signed: signed, From: "test"}})
}

func (c *catalogue) apply(in []store.Incoming) {
	c.t.Helper()
	res, err := c.st.Apply(context.Background(), in...)
	if err != nil {
		c.t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.Applied {
			c.t.Fatalf("announcement %d: %v", i, r.Outcome)
		}
	}
}

// loadDemo publishes the demo sheets round-robin from the publishers.
func (c *catalogue) loadDemo() []*protocol.FactSheet {
	c.t.Helper()
	sheets := demoSheets(c.t)
	by := make([][]*protocol.FactSheet, len(c.pubs))
	for i, s := range sheets {
		by[i%len(c.pubs)] = append(by[i%len(c.pubs)], s)
	}
	for p, ss := range by {
		c.publish(p, ss...)
	}
	return sheets
}

// entries returns the current practices in (publisher, ID) order.
func (c *catalogue) entries() []*entry {
	out := make([]*entry, 0, len(c.cur))
	for _, e := range c.cur {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int {
		if a.pub != b.pub {
			if a.pub.String() < b.pub.String() {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.sheet.ID, b.sheet.ID)
	})
	return out
}

// scan returns the current practices that pass keep, as "pub/id" IDs, sorted.
func (c *catalogue) scan(keep func(*protocol.FactSheet) bool) []string {
	var out []string
	for _, e := range c.entries() {
		if keep(e.sheet) {
			out = append(out, docID(e.pub, e.sheet.ID))
		}
	}
	sort.Strings(out)
	return out
}

// ids returns the "pub/id" of every hit, sorted.
func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Publisher + "/" + h.ID
	}
	sort.Strings(out)
	return out
}

// practiceIDs returns the practice IDs of every hit, sorted.
func practiceIDs(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	sort.Strings(out)
	return out
}

func mustSearch(t testing.TB, ix *Index, q Query) *Result {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	res, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	n := len(res.Hits)
	if q.Kind == KindExperience {
		n = len(res.Experiences)
	}
	if res.Total != n && q.Offset == 0 && q.Limit >= res.Total {
		t.Fatalf("search %+v: total %d, %d hits", q, res.Total, n)
	}
	return res
}

func flush(t testing.TB, ix *Index) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// fixture is a store with the demo catalogue from three publishers and
// an index over it.
func fixture(t testing.TB) (*catalogue, *Index) {
	t.Helper()
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 3)
	c.loadDemo()
	ix := openIndex(t, t.TempDir(), st)
	return c, ix
}

// endYear is the end of a practice's years for Query.YearFrom.
func endYear(s *protocol.FactSheet) int {
	if s.EndYear != 0 {
		return s.EndYear
	}
	return max(s.StartYear, testNow.Year())
}

func fundingOf(s *protocol.FactSheet) *int64 {
	if s.Funding == nil {
		return nil
	}
	return s.Funding.AmountEUR
}

func sourcesOf(s *protocol.FactSheet) []string {
	if s.Funding == nil {
		return nil
	}
	return s.Funding.Sources
}

func describe(e *entry) string { return fmt.Sprintf("%s/%s", e.pub, e.sheet.ID) }
