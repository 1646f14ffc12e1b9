package search

import (
	"slices"
	"sync"
	"testing"
)

// TestFacetDict: a term keeps its number, its values are those
// expandFacetTerm gives, a value shared by two terms has one number, and
// numbering from many goroutines gives each term one number.
func TestFacetDict(t *testing.T) {
	d := newFacetDict()
	c := d.id("CIT|2019")
	if again := d.id("CIT|2019"); again != c {
		t.Fatalf("the term was numbered %d, then %d", c, again)
	}
	g := d.id("Gfully|external|true|10k-100k")
	it := d.id("CIT|2021")
	v := d.view()
	values := func(term uint32) []facetValue {
		var out []facetValue
		for _, n := range v.expand[term] {
			out = append(out, v.values[n])
		}
		return out
	}
	want := []facetValue{{"country", "IT"}, {"start_year", "2019"}}
	if got := values(c); !slices.Equal(got, want) {
		t.Errorf("values of CIT|2019: %v, want %v", got, want)
	}
	want = []facetValue{{"achievement", "fully"}, {"evaluation", "external"}, {"has_translation", "true"}, {"funding_range", "10k-100k"}}
	if got := values(g); !slices.Equal(got, want) {
		t.Errorf("values of the G term: %v, want %v", got, want)
	}
	if v.expand[c][0] != v.expand[it][0] || v.expand[c][1] == v.expand[it][1] {
		t.Errorf("IT has two numbers or the years one: %v, %v", v.expand[c], v.expand[it])
	}

	d = newFacetDict()
	terms := []string{"pA", "pB", "pC", "LIT,en", "tWomen"}
	ids := make([][]uint32, 8)
	var wg sync.WaitGroup
	for g := range ids {
		wg.Go(func() {
			for _, term := range terms {
				ids[g] = append(ids[g], d.id(term))
			}
		})
	}
	wg.Wait()
	for g := range ids {
		if !slices.Equal(ids[g], ids[0]) {
			t.Fatalf("goroutine %d got numbers %v, goroutine 0 %v", g, ids[g], ids[0])
		}
	}
	if d.size() != len(terms) {
		t.Errorf("the dictionary holds %d terms, want %d", d.size(), len(terms))
	}
}
