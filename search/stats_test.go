package search

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/khantara/khantara/protocol"
)

// TestStats compares Stats with an independent scan of the sheets.
func TestStats(t *testing.T) {
	c, ix := fixture(t)
	keysOf := map[string]func(*protocol.FactSheet) []string{
		"country":   func(s *protocol.FactSheet) []string { return []string{s.Country} },
		"dimension": func(s *protocol.FactSheet) []string { return s.Dimensions },
		"year":      func(s *protocol.FactSheet) []string { return []string{strconv.Itoa(s.StartYear)} },
		"source":    sourcesOf,
	}
	queries := []struct {
		q    Query
		keep func(*protocol.FactSheet) bool
	}{
		{Query{}, func(*protocol.FactSheet) bool { return true }},
		{Query{Country: []string{"IT", "AT", "DE"}, Sort: "funding", Limit: 3}, func(s *protocol.FactSheet) bool {
			return s.Country == "IT" || s.Country == "AT" || s.Country == "DE"
		}},
	}
	for by, keys := range keysOf {
		for _, qq := range queries {
			want := Stats{By: by}
			groups := map[string]*Group{}
			for _, e := range c.entries() {
				s := e.sheet
				if !qq.keep(s) {
					continue
				}
				for _, g := range append(groupsFor(groups, keys(s)), &want.Total) {
					g.Practices++
					if f := fundingOf(s); f != nil {
						g.Funded++
						g.FundingEUR += *f
					}
					if s.Beneficiaries != nil {
						g.Beneficiaries += *s.Beneficiaries
					}
				}
			}
			for _, g := range groups {
				want.Groups = append(want.Groups, *g)
			}
			slices.SortFunc(want.Groups, func(a, b Group) int { return cmp.Compare(a.Key, b.Key) })

			got, err := ix.Stats(context.Background(), qq.q, by)
			if err != nil {
				t.Fatal(err)
			}
			if got.By != want.By || got.Total != want.Total || !slices.Equal(got.Groups, want.Groups) {
				t.Errorf("by %s, %+v:\ngot  %+v\nwant %+v", by, qq.q, *got, want)
			}
			if want.Total.FundingEUR == 0 || len(want.Groups) < 2 {
				t.Errorf("by %s: the scan found too little to test (%+v)", by, want)
			}
		}
	}
	// Text queries count only their matches.
	st, err := ix.Stats(context.Background(), Query{Text: "integrazione lavorativa"}, "country")
	if err != nil || st.Total.Practices != 2 || len(st.Groups) != 1 || st.Groups[0].Key != "IT" {
		t.Errorf("text stats: %+v, %v", st, err)
	}
}

func groupsFor(groups map[string]*Group, keys []string) []*Group {
	var out []*Group
	for _, k := range keys {
		g := groups[k]
		if g == nil {
			g = &Group{Key: k}
			groups[k] = g
		}
		out = append(out, g)
	}
	return out
}

// TestStatsByAdaptation compares Stats by adaptation (groups by how many
// live adaptations a practice has, and the flows from the practices'
// countries to the adaptations') with a scan of the catalogue.
func TestStatsByAdaptation(t *testing.T) {
	c, ix := expFixture(t)
	// More adaptations: one practice adapted three times (twice in one
	// country), another once; and a lesson alone, which adapts nothing.
	es := c.entries()
	a, b := es[2], es[7]
	pa, pb := c.pubIndex(a.pub), c.pubIndex(b.pub)
	c.experience((pa+1)%3, adaptation("extra-one", a.pub, a.sheet.ID, "PT", "intake"))
	c.experience((pa+2)%3, adaptation("extra-two", a.pub, a.sheet.ID, "PT", "intake"))
	c.experience((pa+1)%3, adaptation("extra-three", a.pub, a.sheet.ID, "SI", "intake"))
	c.experience((pb+1)%3, adaptation("extra-four", b.pub, b.sheet.ID, "PT", "intake"))
	c.experience((pb+1)%3, lesson("extra-lesson", b.pub, es[9].sheet.ID, "intake"))
	flush(t, ix)

	for _, qq := range []struct {
		q    Query
		keep func(*protocol.FactSheet) bool
	}{
		{Query{}, func(*protocol.FactSheet) bool { return true }},
		{Query{Country: []string{a.sheet.Country, "IT"}}, func(s *protocol.FactSheet) bool { return s.Country == a.sheet.Country || s.Country == "IT" }},
	} {
		want := Stats{By: "adaptation"}
		groups := map[string]*Group{}
		type edge struct{ from, to string }
		flows := map[edge]*Flow{}
		for _, e := range c.entries() {
			s := e.sheet
			if !qq.keep(s) {
				continue
			}
			x := collectExps(c.expsAbout(e.pub, s.ID))
			for _, g := range append(groupsFor(groups, []string{strconv.Itoa(x.counts.Adaptations)}), &want.Total) {
				g.Practices++
				if f := fundingOf(s); f != nil {
					g.Funded++
					g.FundingEUR += *f
				}
				if s.Beneficiaries != nil {
					g.Beneficiaries += *s.Beneficiaries
				}
			}
			seen := map[string]bool{}
			for _, to := range x.adaptedIn {
				f := flows[edge{s.Country, to}]
				if f == nil {
					f = &Flow{From: s.Country, To: to}
					flows[edge{s.Country, to}] = f
				}
				f.Adaptations++
				if !seen[to] {
					f.Practices++
					seen[to] = true
				}
			}
		}
		for _, g := range groups {
			want.Groups = append(want.Groups, *g)
		}
		slices.SortFunc(want.Groups, func(a, b Group) int {
			x, _ := strconv.Atoi(a.Key)
			y, _ := strconv.Atoi(b.Key)
			return x - y
		})
		for _, f := range flows {
			want.Flows = append(want.Flows, *f)
		}
		slices.SortFunc(want.Flows, func(a, b Flow) int {
			return cmp.Or(cmp.Compare(b.Adaptations, a.Adaptations), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
		})
		got, err := ix.Stats(context.Background(), qq.q, "adaptation")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%+v:\ngot  %+v\nwant %+v", qq.q, *got, want)
		}
		if len(want.Groups) < 2 || len(want.Flows) < 2 {
			t.Errorf("%+v: the scan found too little to test: %+v", qq.q, want)
		}
	}
	if _, err := ix.Stats(context.Background(), Query{}, "adaptations"); err == nil ||
		err.Error() != `by: "adaptations" is not one of country, dimension, year, source, adaptation` {
		t.Errorf("a bad key: %v", err)
	}
}
