package demo

import (
	"slices"
	"testing"

	"github.com/khantara/khantara/protocol"
)

// TestPublishers checks Publishers and every layout: each sheet goes to exactly one
// publisher, every region is named explicitly (no country falls through to
// the last region) and no publisher is empty.
func TestPublishers(t *testing.T) {
	all, err := ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < MaxNodes {
		t.Fatalf("only %d demo sheets", len(all))
	}
	for n := MinNodes; n <= MaxNodes; n++ {
		pubs := split(n, all)
		if len(pubs) != n {
			t.Fatalf("Publishers(%d) gave %d publishers", n, len(pubs))
		}
		seen := map[string]string{}
		slugs := map[string]bool{}
		for i, p := range pubs {
			if len(p.Sheets) == 0 {
				t.Errorf("n=%d: publisher %s has no sheets", n, p.Slug)
			}
			if slugs[p.Slug] {
				t.Errorf("n=%d: slug %s twice", n, p.Slug)
			}
			slugs[p.Slug] = true
			if !slices.Equal(p.Countries, layouts[n-MinNodes][i].countries) {
				t.Errorf("n=%d: %s covers %v, its region names %v: add the new country to a region", n, p.Slug, p.Countries, layouts[n-MinNodes][i].countries)
			}
			for _, s := range p.Sheets {
				if other, dup := seen[s.ID]; dup {
					t.Errorf("n=%d: sheet %s in %s and %s", n, s.ID, other, p.Slug)
				}
				seen[s.ID] = p.Slug
				if !slices.Contains(p.Countries, s.Country) {
					t.Errorf("n=%d: sheet %s (%s) given to %s", n, s.ID, s.Country, p.Slug)
				}
			}
		}
		if len(seen) != len(all) {
			t.Errorf("n=%d: %d of %d sheets dealt out", n, len(seen), len(all))
		}
	}
	if pubs, err := Publishers(MaxNodes); err != nil || len(pubs) != MaxNodes {
		t.Errorf("Publishers(%d): %d publishers, %v", MaxNodes, len(pubs), err)
	}
	for _, n := range []int{MinNodes - 1, MaxNodes + 1} {
		if _, err := Publishers(n); err == nil {
			t.Errorf("Publishers(%d) succeeded", n)
		}
	}
}

func TestTrySheet(t *testing.T) {
	s, err := protocol.ParseSheet([]byte(TrySheet))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != TrySheetID {
		t.Errorf("TrySheet's ID is %s, TrySheetID says %s", s.ID, TrySheetID)
	}
	all, err := ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if o.ID == s.ID {
			t.Fatalf("TrySheet's ID %s is already a demo sheet", s.ID)
		}
	}
}
