package search

import (
	"context"
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
			slices.SortFunc(want.Groups, func(a, b Group) int { return compareStrings(a.Key, b.Key) })

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
