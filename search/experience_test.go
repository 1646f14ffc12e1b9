package search

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/khantara/khantara/protocol"
)

// TestExperienceCountsFacetsDemo: over the demo catalogue and its
// experience records, every hit carries the counts of the records about
// it, and the facets, filters and sort keys that records give practices
// agree with a scan of the catalogue.
func TestExperienceCountsFacetsDemo(t *testing.T) {
	c, ix := expFixture(t)
	all := mustSearch(t, ix, Query{})
	withRecords := 0
	for _, h := range all.Hits {
		e := c.cur[h.Publisher+"/"+h.ID]
		want := c.countsOf(e.pub, e.sheet.ID)
		if h.ExperienceCounts != want {
			t.Errorf("%s: counts %+v, want %+v", h.ID, h.ExperienceCounts, want)
		}
		if want.Total() > 0 {
			withRecords++
		}
	}
	if withRecords < 10 {
		t.Fatalf("only %d practices have experience records: too few to test", withRecords)
	}

	t.Run("facets", func(t *testing.T) {
		for _, q := range []Query{{}, {Country: []string{"IT", "DE", "ES"}}, {Text: "integration"}} {
			res := mustSearch(t, ix, q)
			var matched []*entry
			for _, h := range res.Hits {
				matched = append(matched, c.cur[h.Publisher+"/"+h.ID])
			}
			want := scanFacets(matched, c)
			for _, name := range []string{"adapted", "has_lessons", "endorsed_by", "adapted_in"} {
				if !slices.Equal(res.Facets[name], want[name]) {
					t.Errorf("%+v: facet %s\ngot  %v\nwant %v", q, name, res.Facets[name], want[name])
				}
			}
		}
		res := mustSearch(t, ix, Query{})
		if len(res.Facets["endorsed_by"]) == 0 || len(res.Facets["adapted_in"]) < 3 || len(res.Facets["adapted"]) < 2 {
			t.Errorf("the demo's records give too few facet values: %v", res.Facets)
		}
	})

	t.Run("filters", func(t *testing.T) {
		endorser := c.pubs[1].String()
		tests := []struct {
			q    Query
			keep func(ExperienceCounts, *entry) bool
		}{
			{Query{Adapted: 1}, func(n ExperienceCounts, _ *entry) bool { return n.Adaptations >= 1 }},
			{Query{AdaptedMax: ptr(0)}, func(n ExperienceCounts, _ *entry) bool { return n.Adaptations == 0 }},
			{Query{Adapted: 1, AdaptedMax: ptr(1)}, func(n ExperienceCounts, _ *entry) bool { return n.Adaptations == 1 }},
			{Query{HasLessons: ptr(true)}, func(n ExperienceCounts, _ *entry) bool { return n.Lessons > 0 }},
			{Query{HasLessons: ptr(false), Country: []string{"IT"}}, func(n ExperienceCounts, e *entry) bool {
				return n.Lessons == 0 && e.sheet.Country == "IT"
			}},
			{Query{EndorsedBy: []string{endorser}}, func(_ ExperienceCounts, e *entry) bool {
				return slices.Contains(collectExps(c.expsAbout(e.pub, e.sheet.ID)).endorsers, endorser)
			}},
		}
		for _, tt := range tests {
			var want []string
			for _, e := range c.entries() {
				if tt.keep(c.countsOf(e.pub, e.sheet.ID), e) {
					want = append(want, docID(e.pub, e.sheet.ID))
				}
			}
			slices.Sort(want)
			if got := ids(mustSearch(t, ix, tt.q).Hits); !slices.Equal(got, want) {
				t.Errorf("%+v:\ngot  %v\nwant %v", tt.q, got, want)
			}
			if len(want) == 0 || len(want) == len(c.cur) {
				t.Errorf("%+v: %d of %d practices match; the test shows nothing", tt.q, len(want), len(c.cur))
			}
		}
	})

	t.Run("sort", func(t *testing.T) {
		for _, sort := range []string{"adapted", "-adapted", "endorsements", "-endorsements"} {
			key := func(e *entry) int {
				n := c.countsOf(e.pub, e.sheet.ID)
				if sort == "adapted" || sort == "-adapted" {
					return n.Adaptations
				}
				return n.Endorsements
			}
			want := c.entries() // by publisher, then ID
			slices.SortStableFunc(want, func(a, b *entry) int {
				if sort[0] == '-' {
					return cmp.Compare(key(b), key(a))
				}
				return cmp.Compare(key(a), key(b))
			})
			got := mustSearch(t, ix, Query{Sort: sort}).Hits
			for i := range want {
				if w := docID(want[i].pub, want[i].sheet.ID); got[i].Publisher+"/"+got[i].ID != w {
					t.Errorf("sort=%s: hit %d is %s/%s, want %s", sort, i, got[i].Publisher, got[i].ID, w)
					break
				}
			}
		}
	})
}

// TestExperienceText: a record's text makes the practice it is about
// match, analysed in the record's language, and the hit names it; the
// record is found on its own with kind=experience, also when its
// practice is not held or retracted; updates that move a record to
// another practice, and retractions, move the matches with it.
func TestExperienceText(t *testing.T) {
	c, ix := fixture(t)
	a, b := c.entries()[0], c.entries()[5]
	pa, pb := c.pubIndex(a.pub), c.pubIndex(b.pub)
	author := (pa + 1) % 3
	update := func() { t.Helper(); flush(t, ix) }

	l := lesson("quokka-lesson", a.pub, a.sheet.ID, "quokkawise mentors")
	c.experience(author, l)
	it := &protocol.Experience{Type: protocol.ExperienceQuestion, ID: "domanda-zorblatt", Language: "it",
		About: protocol.About{Publisher: b.pub, ID: b.sheet.ID}, Title: "Una domanda",
		Text: "Il percorso zorblatt era lavorativo?"}
	c.experience(author, it)
	update()

	res := mustSearch(t, ix, Query{Text: "quokkawise"})
	if len(res.Hits) != 1 || res.Hits[0].ID != a.sheet.ID {
		t.Fatalf("quokkawise: %v, want %s", practiceIDs(res.Hits), a.sheet.ID)
	}
	want := []ExperienceRef{{Publisher: c.pubs[author].String(), Slot: "_exp/quokka-lesson", Type: "lesson", Title: "A lesson"}}
	if got := res.Hits[0].MatchedExperiences; !slices.Equal(got, want) {
		t.Errorf("matched experiences %+v, want %+v", got, want)
	}
	if got := res.Hits[0].ExperienceCounts; got != (ExperienceCounts{Lessons: 1}) {
		t.Errorf("counts %+v", got)
	}
	// Italian stems "lavorativa" and "lavorativo" alike: the words match
	// in the record's language.
	if got := practiceIDs(mustSearch(t, ix, Query{Text: "zorblatt lavorativa"}).Hits); !slices.Equal(got, []string{b.sheet.ID}) {
		t.Errorf("zorblatt lavorativa: %v, want %s", got, b.sheet.ID)
	}
	// A practice matched by its own text lists no record.
	for _, h := range mustSearch(t, ix, Query{Text: a.sheet.Title}).Hits {
		if len(h.MatchedExperiences) > 0 {
			t.Errorf("%s matches by its title, yet lists %v", h.ID, h.MatchedExperiences)
		}
	}

	exp := mustSearch(t, ix, Query{Kind: KindExperience, Text: "quokkawise"})
	if len(exp.Experiences) != 1 || len(exp.Hits) != 0 || exp.Total != 1 {
		t.Fatalf("kind=experience: %+v", exp)
	}
	h := exp.Experiences[0]
	if h.Slot != "_exp/quokka-lesson" || h.ID != "quokka-lesson" || h.Type != "lesson" || h.AboutState != AboutHeld ||
		h.About != (PracticeRef{a.pub.String(), a.sheet.ID}) || h.Score == 0 || h.Excerpt != "Mind the quokkawise mentors." {
		t.Errorf("experience hit %+v", h)
	}

	// About a practice nobody holds: found, as not held.
	c.experience(author, question("ghost-question", a.pub, "never-published-here", "quokkawise"))
	update()
	exp = mustSearch(t, ix, Query{Kind: KindExperience, Text: "quokkawise", Sort: "time"})
	if len(exp.Experiences) != 2 || exp.Experiences[1].AboutState != AboutNotHeld || exp.Experiences[1].ID != "ghost-question" {
		t.Fatalf("a record about a practice not held: %+v", exp.Experiences)
	}
	if got := mustSearch(t, ix, Query{Kind: KindExperience, AboutState: []string{AboutNotHeld}}).Total; got != 1 {
		t.Errorf("about_state=not_held: %d", got)
	}
	if got := practiceIDs(mustSearch(t, ix, Query{Text: "quokkawise"}).Hits); len(got) != 1 {
		t.Errorf("a record about a practice not held makes a practice match: %v", got)
	}

	// The update moves the lesson to b: a no longer matches, b does.
	l2 := *l
	l2.About = protocol.About{Publisher: b.pub, ID: b.sheet.ID}
	c.experience(author, &l2)
	update()
	if got := practiceIDs(mustSearch(t, ix, Query{Text: "quokkawise"}).Hits); !slices.Equal(got, []string{b.sheet.ID}) {
		t.Errorf("after the update: %v, want %s", got, b.sheet.ID)
	}
	if got := mustSearch(t, ix, Query{Publisher: []string{a.pub.String()}}).Hits; slices.ContainsFunc(got, func(h Hit) bool {
		return h.ID == a.sheet.ID && h.ExperienceCounts.Total() != 0
	}) {
		t.Errorf("the practice the lesson left still counts it")
	}

	// Retracting b marks its records; retracting the lesson removes it.
	c.retract(pb, b.sheet.ID)
	update()
	exp = mustSearch(t, ix, Query{Kind: KindExperience, About: []string{docID(b.pub, b.sheet.ID)}})
	if exp.Total != 2 || exp.Experiences[0].AboutState != AboutRetracted || exp.Experiences[1].AboutState != AboutRetracted {
		t.Errorf("records about a retracted practice: %+v", exp.Experiences)
	}
	c.retract(author, protocol.ExperienceSlot("quokka-lesson"))
	update()
	if got := mustSearch(t, ix, Query{Kind: KindExperience, Text: "mentors"}).Total; got != 0 {
		t.Errorf("a retracted record is found: %d", got)
	}
	if n, _ := ix.Count(); n != uint64(len(c.cur)) {
		t.Errorf("Count %d, want %d practices", n, len(c.cur))
	}
}

// TestExperienceEndorsements: endorsements count, filter and facet by
// their publishers, and a retraction withdraws them.
func TestExperienceEndorsements(t *testing.T) {
	c, ix := fixture(t)
	target := c.entries()[3]
	p := c.pubIndex(target.pub)
	others := []int{(p + 1) % 3, (p + 2) % 3}
	for _, o := range others {
		c.experience(o, endorsement(target.pub, target.sheet.ID, "weekly café"))
	}
	flush(t, ix)
	res := mustSearch(t, ix, Query{EndorsedBy: []string{c.pubs[others[0]].String()}})
	if len(res.Hits) != 1 || res.Hits[0].ID != target.sheet.ID || res.Hits[0].ExperienceCounts.Endorsements != 2 {
		t.Fatalf("endorsed_by: %+v", res.Hits)
	}
	want := sortedFacet(map[string]int{c.pubs[others[0]].String(): 1, c.pubs[others[1]].String(): 1})
	if got := mustSearch(t, ix, Query{}).Facets["endorsed_by"]; !slices.Equal(got, want) {
		t.Errorf("endorsed_by facet %v, want %v", got, want)
	}
	if top := mustSearch(t, ix, Query{Sort: "-endorsements", Limit: 1}).Hits; top[0].ID != target.sheet.ID {
		t.Errorf("-endorsements puts %s first", top[0].ID)
	}
	c.retract(others[0], protocol.EndorsementSlot(target.pub, target.sheet.ID))
	flush(t, ix)
	if got := mustSearch(t, ix, Query{EndorsedBy: []string{c.pubs[others[0]].String()}}).Total; got != 0 {
		t.Errorf("a withdrawn endorsement still filters: %d", got)
	}
	if got := mustSearch(t, ix, Query{EndorsedBy: []string{c.pubs[others[1]].String()}}).Hits; len(got) != 1 ||
		got[0].ExperienceCounts.Endorsements != 1 {
		t.Errorf("after one withdrawal: %+v", got)
	}
}

// TestExperienceKindFacets: a search of experience records counts them by
// type, about state, country, language and author, and filters by each.
func TestExperienceKindFacets(t *testing.T) {
	c, ix := expFixture(t)
	res := mustSearch(t, ix, Query{Kind: KindExperience})
	if res.Total != len(c.exps) {
		t.Fatalf("kind=experience finds %d records, the catalogue holds %d", res.Total, len(c.exps))
	}
	counts := map[string]map[string]int{}
	inc := func(f, v string) {
		if counts[f] == nil {
			counts[f] = map[string]int{}
		}
		counts[f][v]++
	}
	for _, a := range c.exps {
		e := a.Experience
		inc("type", string(e.Type))
		inc("about_state", AboutHeld)
		if e.Country != "" {
			inc("country", e.Country)
		}
		inc("language", e.Language)
		for tag := range e.Translations {
			inc("language", tag)
		}
		inc("publisher", a.Publisher.String())
	}
	for _, f := range expFacetNames {
		if got, want := res.Facets[f], sortedFacet(counts[f]); !slices.Equal(got, want) {
			t.Errorf("facet %s\ngot  %v\nwant %v", f, got, want)
		}
	}
	if len(res.Facets) != len(expFacetNames) {
		t.Errorf("facets %v", slices.Sorted(mapsKeys(res.Facets)))
	}
	// Newest first by default, then by type and author filters.
	for i := 1; i < len(res.Experiences); i++ {
		if res.Experiences[i].Time.After(res.Experiences[i-1].Time) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	var adapter string // the author of some adaptation
	for _, k := range slices.Sorted(mapsKeys(c.exps)) {
		if a := c.exps[k]; a.Experience.Type == protocol.ExperienceAdaptation {
			adapter = a.Publisher.String()
		}
	}
	q := Query{Kind: KindExperience, Type: []string{"adaptation"}, Publisher: []string{adapter}}
	want := 0
	for _, a := range c.exps {
		if a.Experience.Type == protocol.ExperienceAdaptation && a.Publisher.String() == adapter {
			want++
		}
	}
	if got := mustSearch(t, ix, q).Total; got != want || want == 0 {
		t.Errorf("%+v: %d, want %d", q, got, want)
	}
	if _, err := ix.Stats(context.Background(), Query{Kind: KindExperience}, "country"); err == nil {
		t.Error("stats of experience records: no error")
	}
}

// TestMatchedWithoutTerms: the records a practice matched through are
// the same whether its document stores their terms (exptokens.go) or
// not, when a search of the records' documents finds them.
func TestMatchedWithoutTerms(t *testing.T) {
	c, ix := expFixture(t)
	old := maxExpTerms
	maxExpTerms = 0 // every practice with a word in its records stores none
	without := openIndex(t, t.TempDir(), c.st)
	maxExpTerms = old

	var queries []string
	for _, a := range c.exps {
		if e := a.Experience; e.Title != "" {
			queries = append(queries, e.Title)
		}
		if e := a.Experience; e.Text != "" {
			queries = append(queries, strings.Join(strings.Fields(e.Text)[:min(2, len(strings.Fields(e.Text)))], " "))
		}
	}
	slices.Sort(queries)
	found := 0
	for _, text := range queries {
		a, b := mustSearch(t, ix, Query{Text: text}), mustSearch(t, without, Query{Text: text})
		if !reflect.DeepEqual(a.Hits, b.Hits) {
			t.Errorf("%q: with stored terms %+v\nwithout %+v", text, a.Hits, b.Hits)
			continue
		}
		for _, h := range a.Hits {
			found += len(h.MatchedExperiences)
		}
	}
	if found < len(queries) {
		t.Errorf("%d queries found only %d matched records", len(queries), found)
	}
}
