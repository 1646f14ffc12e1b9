package search

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
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

// TestRebuildEqualsIncrementalExperiences: practices and experience
// records published, updated (a record moved to another practice),
// retracted and re-delivered in random order, records arriving before
// their practice or about one never published, and the index closed and
// reopened midway (it replays what it missed): the index that followed
// it all answers exactly as one rebuilt from the store at the end, and
// both agree with the catalogue's own count of the records.
func TestRebuildEqualsIncrementalExperiences(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			st := openStore(t, t.TempDir())
			c := newCatalogue(t, st, 4)
			dir := t.TempDir()
			ix := openIndex(t, dir, st, WithBatchSize(5))
			r := rand.New(rand.NewPCG(seed, 13))
			g := newExpChurn(c, r)
			for step := range 160 {
				g.step()
				if step%7 == 0 {
					ix.Notify(c.pubs[0], "")
				}
				if step == 80 { // the index misses some changes, then replays them
					if err := ix.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if step == 120 {
					ix = openIndexAsync(t, dir, st, WithBatchSize(5))
				}
			}
			g.tail()
			flush(t, ix)
			rebuilt := openIndex(t, t.TempDir(), st)
			if g.before == 0 || g.moved == 0 || g.redelivered == 0 || len(c.exps) < 10 {
				t.Fatalf("the churn shows too little: %d records before their practice, %d moved, %d re-delivered, %d live",
					g.before, g.moved, g.redelivered, len(c.exps))
			}
			compareIndexes(t, ix, rebuilt, g.queries())
			checkAgainstCatalogue(t, rebuilt, c, g.retracted)
		})
	}
}

// expChurn makes random changes to a catalogue: practices (a few demo
// sheets) and experience records about them and about practices never
// published.
type expChurn struct {
	c         *catalogue
	r         *rand.Rand
	sheets    []*protocol.FactSheet
	pubOf     map[string]int // practice ID → its publisher
	retracted map[string]bool
	words     []string
	stale     []*protocol.Signed // older versions, delivered later
	// What happened, so the test knows it tested something.
	before, moved, redelivered int
}

func newExpChurn(c *catalogue, r *rand.Rand) *expChurn {
	g := &expChurn{c: c, r: r, sheets: demoSheets(c.t)[:12], pubOf: map[string]int{}, retracted: map[string]bool{},
		words: []string{"kiwi", "mango", "papaya", "quince", "durian"}}
	for i, s := range g.sheets {
		g.pubOf[s.ID] = i % len(c.pubs)
	}
	return g
}

// about picks a practice to write about: a demo sheet's, or one nobody
// publishes.
func (g *expChurn) about() (int, string) {
	if g.r.IntN(8) == 0 {
		return 3, "never-published"
	}
	s := g.sheets[g.r.IntN(len(g.sheets))]
	return g.pubOf[s.ID], s.ID
}

func (g *expChurn) step() {
	c, r := g.c, g.r
	switch op := r.IntN(10); {
	case op < 2: // a practice: a new version, or its retraction
		s := *g.sheets[r.IntN(len(g.sheets))]
		p := g.pubOf[s.ID]
		if r.IntN(4) == 0 && c.cur[docID(c.pubs[p], s.ID)] != nil {
			c.retract(p, s.ID)
			g.retracted[docID(c.pubs[p], s.ID)] = true
			return
		}
		if !g.retracted[docID(c.pubs[p], s.ID)] {
			s.Title = fmt.Sprintf("%s (%s)", s.Title, g.words[r.IntN(len(g.words))])
			c.publish(p, &s)
		}
	case op < 8: // a record: new, or a new version of one, maybe about another practice
		author := r.IntN(len(c.pubs))
		p, id := g.about()
		e := g.record(author, c.pubs[p], id)
		if c.cur[docID(c.pubs[p], id)] == nil {
			g.before++
		}
		if old := c.exps[docID(c.pubs[author], e.Slot())]; old != nil && old.Experience.About.ID != id {
			g.moved++
		}
		sg := c.sealExperience(author, e)
		if r.IntN(3) == 0 { // a newer version comes first; this one later
			g.stale = append(g.stale, sg)
			newer := *e
			newer.Text = e.Text + " Updated."
			c.experience(author, &newer)
			return
		}
		c.apply([]store.Incoming{{Signed: sg, From: "test"}})
	case op < 9: // a retraction of a record
		keys := slices.Sorted(maps.Keys(c.exps))
		if len(keys) == 0 {
			return
		}
		a := c.exps[keys[r.IntN(len(keys))]]
		c.retract(c.pubIndex(a.Publisher), a.Experience.Slot())
	default: // old versions delivered again: the store keeps the newer state
		if len(g.stale) == 0 {
			return
		}
		var in []store.Incoming
		for _, sg := range g.stale {
			in = append(in, store.Incoming{Signed: sg, From: "test"})
		}
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		if _, err := c.st.Apply(context.Background(), in...); err != nil {
			c.t.Fatal(err)
		}
		g.redelivered += len(in)
		g.stale = nil
	}
}

// tail ends the churn with changes that leave practices without the
// records they held and touch them no more: the last live record about
// a held practice moves to a practice nobody publishes, the one before
// it is retracted.
func (g *expChurn) tail() {
	c := g.c
	var held []*protocol.Announcement
	for _, k := range slices.Sorted(maps.Keys(c.exps)) {
		a := c.exps[k]
		if e := a.Experience; c.cur[docID(e.About.Publisher, e.About.ID)] != nil && e.Type != protocol.ExperienceEndorsement {
			held = append(held, a)
		}
	}
	if len(held) < 2 {
		c.t.Fatalf("%d records about held practices at the end", len(held))
	}
	last, prev := held[len(held)-1], held[len(held)-2]
	moved := *last.Experience
	moved.About = protocol.About{Publisher: c.pubs[3], ID: "never-published"}
	c.experience(c.pubIndex(last.Publisher), &moved)
	c.retract(c.pubIndex(prev.Publisher), prev.Experience.Slot())
	g.moved++
}

// record returns a random record by author about (pub, id), with one of
// a few IDs so that later ones update earlier ones.
func (g *expChurn) record(author int, pub peer.ID, id string) *protocol.Experience {
	word := g.words[g.r.IntN(len(g.words))]
	expID := fmt.Sprintf("rec-%d", g.r.IntN(12))
	switch g.r.IntN(5) {
	case 0:
		countries := []string{"FR", "IT", "PL"}
		return adaptation(expID, pub, id, countries[g.r.IntN(3)], word)
	case 1:
		return lesson(expID, pub, id, word)
	case 2:
		return question(expID, pub, id, word)
	case 3:
		return &protocol.Experience{Type: protocol.ExperienceAnswer, ID: expID, Language: "it",
			About: protocol.About{Publisher: pub, ID: id}, Text: "Sì, con il " + word + ".",
			InReplyTo: protocol.Ref{Publisher: g.c.pubs[author], ID: "rec-0"}}
	}
	return endorsement(pub, id, word)
}

// queries are what the test asks both indexes.
func (g *expChurn) queries() []Query {
	qs := []Query{{}, {Sort: "-adapted"}, {Sort: "endorsements"}, {Adapted: 1}, {AdaptedMax: ptr(0)},
		{HasLessons: ptr(true)}, {EndorsedBy: []string{g.c.pubs[1].String()}},
		{Kind: KindExperience}, {Kind: KindExperience, Sort: "time"},
		{Kind: KindExperience, AboutState: []string{AboutNotHeld, AboutRetracted}}}
	for _, w := range g.words {
		qs = append(qs, Query{Text: w}, Query{Kind: KindExperience, Text: w}, Query{Text: w, Sort: "adapted"})
	}
	return qs
}

// compareIndexes fails when a and b answer one of qs differently: hits
// in order with every field but the score, totals and facets.
func compareIndexes(t *testing.T, a, b *Index, qs []Query) {
	t.Helper()
	for _, q := range qs {
		ra, rb := mustSearch(t, a, q), mustSearch(t, b, q)
		for _, r := range []*Result{ra, rb} {
			for i := range r.Hits {
				r.Hits[i].Score = 0
			}
			for i := range r.Experiences {
				r.Experiences[i].Score = 0
			}
			r.Took = 0
		}
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("%+v:\nincremental %+v\nrebuilt     %+v", q, ra, rb)
		}
	}
}

// checkAgainstCatalogue compares an index with the catalogue: the
// practices, their counts, the live records and how their practices
// stand.
func checkAgainstCatalogue(t *testing.T, ix *Index, c *catalogue, retracted map[string]bool) {
	t.Helper()
	res := mustSearch(t, ix, Query{})
	if got, want := ids(res.Hits), c.scan(func(*protocol.FactSheet) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("practices %v\nwant      %v", got, want)
	}
	for _, h := range res.Hits {
		e := c.cur[h.Publisher+"/"+h.ID]
		if want := c.countsOf(e.pub, e.sheet.ID); h.ExperienceCounts != want {
			t.Errorf("%s: counts %+v, want %+v", h.ID, h.ExperienceCounts, want)
		}
	}
	exps := mustSearch(t, ix, Query{Kind: KindExperience})
	var got []string
	for _, h := range exps.Experiences {
		id := h.Publisher + "/" + h.Slot
		got = append(got, id)
		about := h.About.Publisher + "/" + h.About.ID
		want := AboutNotHeld
		switch {
		case c.cur[about] != nil:
			want = AboutHeld
		case retracted[about]:
			want = AboutRetracted
		}
		if h.AboutState != want {
			t.Errorf("%s: about %s is %s, want %s", id, about, h.AboutState, want)
		}
		if a := c.exps[id]; a == nil || a.Seq != h.Seq {
			t.Errorf("%s: seq %d, the catalogue's live record %v", id, h.Seq, a)
		}
	}
	slices.Sort(got)
	if want := slices.Sorted(maps.Keys(c.exps)); !slices.Equal(got, want) {
		t.Errorf("records %v\nwant    %v", got, want)
	}
}
