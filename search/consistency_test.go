package search

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/khantara/khantara/protocol"
)

// TestUpdateAndRetract: a new version replaces the old one in the index,
// and a retracted practice is never found again, through Update and
// through Notify.
func TestUpdateAndRetract(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			c, ix := fixture(t)
			update := func(p int, id string) {
				t.Helper()
				if async {
					ix.Notify(c.pubs[p], id)
					flush(t, ix)
				} else if err := ix.Update(c.pubs[p], id); err != nil {
					t.Fatal(err)
				}
			}
			e := c.cur[docID(c.pubs[0], "abitazioni-lombardy")]
			if e == nil {
				t.Fatal("abitazioni-lombardy is not publisher 0's")
			}
			if n := len(mustSearch(t, ix, Query{Text: "Abitazioni"}).Hits); n != 1 {
				t.Fatalf("before: %d hits for the old title", n)
			}

			s := *e.sheet
			s.Title = "Casa sicura per famiglie zanzibarite"
			s.Translations = nil
			c.publish(0, &s)
			update(0, s.ID)
			if got := practiceIDs(mustSearch(t, ix, Query{Text: "Abitazioni"}).Hits); len(got) != 0 {
				t.Errorf("old title still found: %v", got)
			}
			res := mustSearch(t, ix, Query{Text: "zanzibarite"})
			if len(res.Hits) != 1 || res.Hits[0].ID != s.ID || res.Hits[0].Seq != c.cur[docID(c.pubs[0], s.ID)].seq {
				t.Fatalf("new title: %+v", res.Hits)
			}
			if got := mustSearch(t, ix, Query{HasTranslation: ptr(false)}).Total; got != 5 {
				t.Errorf("has_translation=false: %d, want 5 (4 demo sheets and the new version)", got)
			}

			c.retract(0, s.ID)
			update(0, s.ID)
			for _, q := range []Query{{Text: "zanzibarite"}, {Text: "Abitazioni"}, {Country: []string{"IT"}}, {}} {
				for _, h := range mustSearch(t, ix, q).Hits {
					if h.ID == s.ID {
						t.Errorf("%+v finds the retracted practice", q)
					}
				}
			}
			if n, _ := ix.Count(); n != uint64(len(c.cur)) {
				t.Errorf("count %d, want %d", n, len(c.cur))
			}
			// Republishing an old version cannot bring it back: the store
			// keeps the retraction, and the index follows the store.
			update(0, s.ID)
			if got := mustSearch(t, ix, Query{Text: "zanzibarite"}).Total; got != 0 {
				t.Errorf("retracted practice back after another update: %d", got)
			}
			// Updating a slot the store never had, or a profile, is harmless.
			update(1, "never-published")
			if err := ix.Update(c.pubs[1], protocol.ProfileSlot); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRebuildEqualsIncremental: an index built by updates as
// announcements arrive answers exactly as one rebuilt from the store.
func TestRebuildEqualsIncremental(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 3)
	ix := openIndex(t, t.TempDir(), st) // empty store: built empty
	sheets := demoSheets(t)
	for i, s := range sheets {
		c.publish(i%3, s)
		ix.Notify(c.pubs[i%3], s.ID)
	}
	// Some churn: new versions, retractions, a re-publication.
	for i := 0; i < len(sheets); i += 5 {
		v := *sheets[i]
		v.Title = "Revised: " + v.Title
		c.publish(i%3, &v)
		ix.Notify(c.pubs[i%3], v.ID)
	}
	for i := 2; i < len(sheets); i += 7 {
		c.retract(i%3, sheets[i].ID)
		ix.Notify(c.pubs[i%3], sheets[i].ID)
	}
	flush(t, ix)

	rebuilt := openIndex(t, t.TempDir(), st)
	queries := []Query{{}, {Text: "integration"}, {Text: "Revised"}, {Text: "integrazione lavorativa"},
		{Country: []string{"IT", "DE"}, Sort: "-funding"}, {Text: "migrants", YearFrom: 2010, Sort: "beneficiaries"}}
	for _, q := range queries {
		a, b := mustSearch(t, ix, q), mustSearch(t, rebuilt, q)
		if !slices.Equal(hitOrder(a.Hits), hitOrder(b.Hits)) || a.Total != b.Total {
			t.Errorf("%+v: incremental %v\nrebuilt %v", q, hitOrder(a.Hits), hitOrder(b.Hits))
		}
		for name, fa := range a.Facets {
			if !slices.Equal(fa, b.Facets[name]) {
				t.Errorf("%+v: facet %s differs: %v vs %v", q, name, fa, b.Facets[name])
			}
		}
	}
	if got, want := ids(mustSearch(t, ix, Query{}).Hits), c.scan(func(*protocol.FactSheet) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("incremental index %v\nstore %v", got, want)
	}
	// Rebuild in place gives the same again, and the old directory goes.
	n, err := ix.Rebuild(context.Background())
	if err != nil || n != len(c.cur) {
		t.Fatalf("rebuild: %d, %v; want %d", n, err, len(c.cur))
	}
	if got := hitOrder(mustSearch(t, ix, Query{Text: "integration"}).Hits); !slices.Equal(got, hitOrder(mustSearch(t, rebuilt, Query{Text: "integration"}).Hits)) {
		t.Errorf("after Rebuild: %v", got)
	}
}

// setInternal sets (or with nil deletes) an internal key of the closed
// index in dir, behind the package's back.
func setInternal(t *testing.T, dir string, key, val []byte) {
	t.Helper()
	name, err := readCurrent(dir)
	if err != nil || name == "" {
		t.Fatalf("no current index: %v", err)
	}
	idx, err := bleve.Open(dir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if val == nil {
		err = idx.DeleteInternal(key)
	} else {
		err = idx.SetInternal(key, val)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentUpdates: many writers publish versions and retractions
// and tell the index in any order, some with Update, some with Notify,
// while a Rebuild runs; afterwards the index equals the store.
func TestConcurrentUpdates(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 4)
	ix := openIndex(t, t.TempDir(), st, WithBatchSize(7))
	sheets := demoSheets(t)

	var mu sync.Mutex // serialises c, which is not safe for concurrent use
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for round := range 3 {
				for i := w; i < len(sheets); i += 4 {
					s := *sheets[i]
					s.Title = fmt.Sprintf("Round %d: %s", round, s.Title)
					mu.Lock()
					if round == 2 && i%3 == 0 {
						c.retract(w, s.ID)
					} else {
						c.publish(w, &s)
					}
					mu.Unlock()
					if i%2 == 0 {
						ix.Notify(c.pubs[w], s.ID)
					} else if err := ix.Update(c.pubs[w], s.ID); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Go(func() {
		if _, err := ix.Rebuild(context.Background()); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	flush(t, ix)
	got := ids(mustSearch(t, ix, Query{}).Hits)
	want := c.scan(func(*protocol.FactSheet) bool { return true })
	if !slices.Equal(got, want) {
		t.Fatalf("index %v\nstore %v", got, want)
	}
	for _, h := range mustSearch(t, ix, Query{}).Hits {
		if e := c.cur[h.Publisher+"/"+h.ID]; e.seq != h.Seq {
			t.Errorf("%s/%s: index has seq %d, store %d", h.Publisher, h.ID, h.Seq, e.seq)
		}
	}
}

// TestRebuildKeepsServing: while Rebuild fills a new index, searches use
// the old one, and updates made meanwhile reach the new one.
func TestRebuildKeepsServing(t *testing.T) {
	c, ix := fixture(t)
	before := mustSearch(t, ix, Query{}).Total
	extra := *demoSheets(t)[1]
	extra.ID, extra.Title = "during-rebuild", "Plopsquash practice"
	gone := "abitazioni-lombardy" // publisher 0's
	ix.afterFill = func() {
		if got := mustSearch(t, ix, Query{}).Total; got != before {
			t.Errorf("search during rebuild: %d practices, want %d", got, before)
		}
		c.publish(1, &extra)
		if err := ix.Update(c.pubs[1], extra.ID); err != nil {
			t.Error(err)
		}
		c.retract(0, gone)
		ix.Notify(c.pubs[0], gone)
		flush(t, ix)
	}
	n, err := ix.Rebuild(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != before {
		t.Errorf("rebuild: %d practices, want %d (one added, one retracted)", n, before)
	}
	if mustSearch(t, ix, Query{Text: "Plopsquash"}).Total != 1 {
		t.Error("a practice published during the rebuild is missing")
	}
	if got := mustSearch(t, ix, Query{Text: "Abitazioni"}).Total; got != 0 {
		t.Error("a practice retracted during the rebuild is back")
	}
	if got, want := ids(mustSearch(t, ix, Query{}).Hits), c.scan(func(*protocol.FactSheet) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("index %v\nstore %v", got, want)
	}
}
