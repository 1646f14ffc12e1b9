package search

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/khantara/khantara/protocol"
)

// TestSearchDemo runs queries with known answers over the demo catalogue,
// published by three publishers. Expected sets come from reading the
// sheets (text queries) or from scanning them in the test (filters).
func TestSearchDemo(t *testing.T) {
	c, ix := fixture(t)
	sheets := demoSheets(t)

	t.Run("stemmed text", func(t *testing.T) {
		// "lavorativa" appears in no sheet; the Italian analyzer stems it,
		// and "lavorativo", to "lavorativ". Both words are in the indexed
		// Italian text of these two only: certifica-il-tuo-italiano and
		// milano-accoglienza-bella-milano say "lavorativo" in fields that
		// are not searched (challenges, other_information).
		for _, s := range sheets {
			raw, _ := os.ReadFile(filepath.Join("../demo/sheets", s.ID+".yaml"))
			if strings.Contains(strings.ToLower(string(raw)), "lavorativa") {
				t.Fatalf("%s contains the query word itself; the test no longer shows stemming", s.ID)
			}
		}
		tests := []struct {
			text string
			want []string
		}{
			{"integrazione lavorativa", []string{"al-khantara-sicilia", "polo-sociale-integrato-palermo"}},
			// German: plural and umlaut (Kindergärten → kindergart), in
			// the German titles and summaries of the two Lower Austria
			// kindergarten sheets.
			{"Kindergärten", []string{"lower-austria-kindergarten-german", "lower-austria-kindergarten-to-school"}},
			// German "Schule" finds "Schulen" and "Schule" in four German translations.
			{"Schule", []string{"active-parents-hamburg", "fluchtort-hamburg", "lower-austria-intercultural-school-staff", "lower-austria-kindergarten-to-school"}},
			// Polish: the genitive plural, in both Warsaw sheets' Polish translations.
			{"cudzoziemców", []string{"foreigners-forum-mazovia", "foreigners-information-centre-warsaw"}},
			// Greek has stop words but no stemmer: the exact word.
			{"μετανάστριες", []string{"athens-migrant-mothers-greek"}},
			// English: "doulas" stems to "doula"; only the Gothenburg sheet has it.
			{"doula", []string{"gothenburg-migrant-doulas"}},
			// Code words: target group "ethnic_minorities" is searchable as
			// words; no sheet writes them in its text, but the
			// entrepreneurship centre's activities say "ethnic minority".
			{"ethnic minorities", []string{"cric-roubaix", "shoreditch-festival", "uog-migrant-business-centre"}},
		}
		for _, tt := range tests {
			res := mustSearch(t, ix, Query{Text: tt.text})
			if got := practiceIDs(res.Hits); !slices.Equal(got, tt.want) {
				t.Errorf("%q: got %v, want %v", tt.text, got, tt.want)
			}
		}
	})

	t.Run("title boost", func(t *testing.T) {
		res := mustSearch(t, ix, Query{Text: "Kindergarten"})
		if len(res.Hits) < 2 || !strings.Contains(strings.ToLower(res.Hits[0].Title), "kindergarten") {
			t.Fatalf("first hit %+v is not one with the word in its title", res.Hits[0])
		}
		for i := 1; i < len(res.Hits); i++ {
			if res.Hits[i].Score > res.Hits[i-1].Score {
				t.Fatalf("hits not by score: %v then %v", res.Hits[i-1].Score, res.Hits[i].Score)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name string
			q    Query
			keep func(*protocol.FactSheet) bool
		}{
			{"eu and IT", Query{FundingSource: []string{"eu"}, Country: []string{"IT"}}, func(s *protocol.FactSheet) bool {
				return s.Country == "IT" && slices.Contains(sourcesOf(s), "eu")
			}},
			{"IT or FR", Query{Country: []string{"IT", "FR"}}, func(s *protocol.FactSheet) bool {
				return s.Country == "IT" || s.Country == "FR"
			}},
			{"cultural, refugees", Query{Dimension: []string{"cultural"}, TargetGroup: []string{"refugees"}}, func(s *protocol.FactSheet) bool {
				return slices.Contains(s.Dimensions, "cultural") && slices.Contains(s.TargetGroups, "refugees")
			}},
			{"achievement, evaluation", Query{Achievement: []string{"fully", "partially"}, Evaluation: []string{"external"}}, func(s *protocol.FactSheet) bool {
				return (s.Achievement == "fully" || s.Achievement == "partially") && s.Evaluation == "external"
			}},
			{"language de", Query{Language: []string{"de"}}, func(s *protocol.FactSheet) bool {
				_, ok := s.Translations["de"]
				return s.Language == "de" || ok
			}},
			{"publisher", Query{Publisher: []string{c.pubs[1].String()}}, nil},
			{"has translation", Query{HasTranslation: ptr(true)}, func(s *protocol.FactSheet) bool { return len(s.Translations) > 0 }},
			{"no translation", Query{HasTranslation: ptr(false)}, func(s *protocol.FactSheet) bool { return len(s.Translations) == 0 }},
			{"ongoing", Query{Ongoing: ptr(true)}, func(s *protocol.FactSheet) bool { return s.Ongoing }},
			{"not ongoing", Query{Ongoing: ptr(false)}, func(s *protocol.FactSheet) bool { return !s.Ongoing }},
			{"city, with a comma in one", Query{City: []string{"DE/Hamburg", "IT/Palermo, Termini Imerese, Mazara del Vallo"}}, func(s *protocol.FactSheet) bool {
				return s.Country == "DE" && s.City == "Hamburg" || s.Country == "IT" && s.City == "Palermo, Termini Imerese, Mazara del Vallo"
			}},
			{"city of another country", Query{City: []string{"IT/Hamburg", "DE/Milano"}}, func(s *protocol.FactSheet) bool { return false }},
			{"place by location", Query{Place: []string{"IT@45.43713,12.33265"}}, func(s *protocol.FactSheet) bool { return s.ID == "re-lab-venezia" }},
			{"place by city leaves out sheets with a location", Query{Place: []string{"IT/Venezia", "IT/Milano"}}, func(s *protocol.FactSheet) bool {
				return s.Country == "IT" && (s.City == "Venezia" || s.City == "Milano") && s.Location == nil
			}},
			{"city keeps sheets with a location", Query{City: []string{"IT/Venezia"}}, func(s *protocol.FactSheet) bool { return s.City == "Venezia" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []string
				if tt.keep == nil { // publisher
					for _, e := range c.entries() {
						if e.pub == c.pubs[1] {
							want = append(want, docID(e.pub, e.sheet.ID))
						}
					}
					slices.Sort(want)
				} else {
					want = c.scan(tt.keep)
				}
				if len(want) == 0 && tt.name != "city of another country" {
					t.Fatal("the filter matches nothing; pick one that can fail")
				}
				if got := ids(mustSearch(t, ix, tt.q).Hits); !slices.Equal(got, want) {
					t.Errorf("got %v\nwant %v", got, want)
				}
			})
		}
	})

	t.Run("year overlap", func(t *testing.T) {
		for _, r := range [][2]int{{2010, 2010}, {2000, 2005}, {0, 2003}, {2015, 0}, {2013, 2013}, {2027, 0}, {1990, 1995}} {
			want := c.scan(func(s *protocol.FactSheet) bool {
				return (r[0] == 0 || endYear(s) >= r[0]) && (r[1] == 0 || s.StartYear <= r[1])
			})
			got := ids(mustSearch(t, ix, Query{YearFrom: r[0], YearTo: r[1]}).Hits)
			if !slices.Equal(got, want) {
				t.Errorf("years %v: got %d %v\nwant %d %v", r, len(got), got, len(want), want)
			}
		}
	})

	t.Run("funding range", func(t *testing.T) {
		for _, r := range [][2]*int64{{ptr[int64](100_000), nil}, {nil, ptr[int64](50_000)}, {ptr[int64](800_000), ptr[int64](3_200_000)}, {ptr[int64](0), nil}} {
			want := c.scan(func(s *protocol.FactSheet) bool {
				f := fundingOf(s)
				return f != nil && (r[0] == nil || *f >= *r[0]) && (r[1] == nil || *f <= *r[1])
			})
			got := ids(mustSearch(t, ix, Query{FundingMin: r[0], FundingMax: r[1]}).Hits)
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("funding %v-%v: got %v\nwant %v", r[0], r[1], got, want)
			}
		}
	})

	t.Run("text and filters", func(t *testing.T) {
		tests := []struct {
			q    Query
			want []string
		}{
			// Of the two, only the Sicilian one ran in or before 2015.
			{Query{Text: "integrazione lavorativa", YearTo: 2015}, []string{"al-khantara-sicilia"}},
			{Query{Text: "integrazione lavorativa", Country: []string{"FR"}}, nil},
			{Query{Text: "Schule", FundingSource: []string{"eu"}, Country: []string{"AT"}}, []string{"lower-austria-intercultural-school-staff", "lower-austria-kindergarten-to-school"}},
			{Query{Text: "Schule", FundingSource: []string{"national"}}, []string{"fluchtort-hamburg", "lower-austria-kindergarten-to-school"}},
		}
		for _, tt := range tests {
			if got := practiceIDs(mustSearch(t, ix, tt.q).Hits); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("%+v: got %v, want %v", tt.q, got, tt.want)
			}
		}
		// A broad text query with a filter is the text result within the filter.
		text := mustSearch(t, ix, Query{Text: "integration"})
		inIT := c.scan(func(s *protocol.FactSheet) bool { return s.Country == "IT" })
		var want []string
		for _, id := range ids(text.Hits) {
			if slices.Contains(inIT, id) {
				want = append(want, id)
			}
		}
		filtered := mustSearch(t, ix, Query{Text: "integration", Country: []string{"IT"}})
		if got := ids(filtered.Hits); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("integration in IT: got %v, want %v", got, want)
		}
		// Filters do not change scores.
		scores := map[string]float64{}
		for _, h := range text.Hits {
			scores[h.Publisher+"/"+h.ID] = h.Score
		}
		for _, h := range filtered.Hits {
			if s := scores[h.Publisher+"/"+h.ID]; s != h.Score || s == 0 {
				t.Errorf("%s: score %v with the filter, %v without", h.ID, h.Score, s)
			}
		}
	})

	t.Run("facets", func(t *testing.T) {
		for _, q := range []Query{{}, {Country: []string{"IT", "DE"}}, {Text: "integration"}, {City: []string{"IT/Milano"}}} {
			res := mustSearch(t, ix, q)
			in := map[string]bool{}
			for _, id := range ids(res.Hits) {
				in[id] = true
			}
			var matched []*entry
			for _, e := range c.entries() {
				if in[docID(e.pub, e.sheet.ID)] {
					matched = append(matched, e)
				}
			}
			want := scanFacets(matched, nil)
			if len(res.Facets) != len(want) {
				t.Errorf("%+v: facets %v, want %d of them", q, slices.Sorted(mapsKeys(res.Facets)), len(want))
			}
			for name, w := range want {
				if got := res.Facets[name]; !slices.Equal(got, w) {
					t.Errorf("%+v: facet %s\ngot  %v\nwant %v", q, name, got, w)
				}
			}
		}
	})

	t.Run("sort and paging", func(t *testing.T) {
		all := c.entries()
		tests := []struct {
			sort string
			key  func(*protocol.FactSheet) *int64
			desc bool
		}{
			{"", func(s *protocol.FactSheet) *int64 { return ptr(int64(s.StartYear)) }, true},
			{"year", func(s *protocol.FactSheet) *int64 { return ptr(int64(s.StartYear)) }, false},
			{"-year", func(s *protocol.FactSheet) *int64 { return ptr(int64(s.StartYear)) }, true},
			{"funding", fundingOf, false},
			{"-funding", fundingOf, true},
			{"beneficiaries", func(s *protocol.FactSheet) *int64 { return s.Beneficiaries }, false},
			{"-beneficiaries", func(s *protocol.FactSheet) *int64 { return s.Beneficiaries }, true},
		}
		for _, tt := range tests {
			want := slices.Clone(all)
			slices.SortStableFunc(want, func(a, b *entry) int {
				ka, kb := tt.key(a.sheet), tt.key(b.sheet)
				switch {
				case ka == nil && kb == nil:
					return 0
				case ka == nil: // missing values last, either way
					return 1
				case kb == nil:
					return -1
				case tt.desc:
					return cmp.Compare(*kb, *ka)
				}
				return cmp.Compare(*ka, *kb)
			}) // ties keep the (publisher, ID) order of entries
			var wantIDs []string
			for _, e := range want {
				wantIDs = append(wantIDs, describe(e))
			}
			full := mustSearch(t, ix, Query{Sort: tt.sort})
			if got := hitOrder(full.Hits); !slices.Equal(got, wantIDs) {
				t.Errorf("sort %q:\ngot  %v\nwant %v", tt.sort, got, wantIDs)
			}
			var stitched []string
			for off := 0; ; off += 7 {
				page := mustSearch(t, ix, Query{Sort: tt.sort, Offset: off, Limit: 7})
				if page.Total != len(all) {
					t.Fatalf("page at %d: total %d, want %d", off, page.Total, len(all))
				}
				if len(page.Hits) == 0 {
					break
				}
				stitched = append(stitched, hitOrder(page.Hits)...)
			}
			if !slices.Equal(stitched, wantIDs) {
				t.Errorf("sort %q: pages of 7 give\n%v\nwant\n%v", tt.sort, stitched, wantIDs)
			}
		}
		// Relevance with text: ties by publisher then ID, pages stitch.
		full := hitOrder(mustSearch(t, ix, Query{Text: "integration"}).Hits)
		var stitched []string
		for off := 0; off < len(full); off += 5 {
			stitched = append(stitched, hitOrder(mustSearch(t, ix, Query{Text: "integration", Offset: off, Limit: 5}).Hits)...)
		}
		if !slices.Equal(stitched, full) {
			t.Errorf("relevance pages:\n%v\nwant\n%v", stitched, full)
		}
		if res := mustSearch(t, ix, Query{Limit: 0}); len(res.Hits) != 1000 && len(res.Hits) != len(all) {
			t.Errorf("limit: %d hits", len(res.Hits))
		}
		res, err := ix.Search(context.Background(), Query{})
		if err != nil || len(res.Hits) != defaultLimit {
			t.Errorf("default limit: %d hits, %v", len(res.Hits), err)
		}
	})

	t.Run("hits", func(t *testing.T) {
		located := 0
		for _, h := range mustSearch(t, ix, Query{Limit: 1000}).Hits {
			e := c.cur[h.Publisher+"/"+h.ID]
			if e == nil {
				t.Fatalf("hit %s/%s is not in the catalogue", h.Publisher, h.ID)
			}
			s := e.sheet
			want := Hit{Publisher: e.pub.String(), ID: s.ID, Seq: e.seq, Title: s.Title, Language: s.Language,
				Organiser: s.Organiser, Country: s.Country, StartYear: s.StartYear, EndYear: s.EndYear,
				Ongoing: s.Ongoing, Dimensions: s.Dimensions, FundingEUR: fundingOf(s), Beneficiaries: s.Beneficiaries,
				Languages: append([]string{s.Language}, slices.Sorted(mapsKeys(s.Translations))...)}
			if s.Location != nil {
				located++
				lat, _ := strconv.ParseFloat(s.Location.Lat.String(), 64)
				lon, _ := strconv.ParseFloat(s.Location.Lon.String(), 64)
				want.Location = &Point{Lat: lat, Lon: lon}
			}
			if !hitEqual(h, want) {
				t.Errorf("hit\n%+v\nwant\n%+v", h, want)
			}
		}
		if located == 0 {
			t.Error("no demo sheet has a location: the hit's location is not tested")
		}
	})

	t.Run("count", func(t *testing.T) {
		n, err := ix.Count()
		if err != nil || n != uint64(len(sheets)) {
			t.Fatalf("count %d, %v; want %d", n, err, len(sheets))
		}
	})
}

// TestBadQuery checks that invalid queries and stats keys are refused
// with ErrBadQuery and a message naming the field.
func TestBadQuery(t *testing.T) {
	_, ix := fixture(t)
	tests := []struct {
		q     Query
		field string
	}{
		{Query{Country: []string{"it"}}, "country"},
		{Query{Country: []string{"ITA"}}, "country"},
		{Query{Dimension: []string{"economic"}}, "dimension"},
		{Query{TargetGroup: []string{"aliens"}}, "target_group"},
		{Query{FundingSource: []string{"EU"}}, "funding_source"},
		{Query{Achievement: []string{"maybe"}}, "achievement"},
		{Query{Evaluation: []string{"peer"}}, "evaluation"},
		{Query{Language: []string{"english"}}, "language"},
		{Query{Publisher: []string{"not/a/peer"}}, "publisher"},
		{Query{FundingMin: ptr[int64](-1)}, "funding_min"},
		{Query{FundingMin: ptr[int64](10), FundingMax: ptr[int64](5)}, "funding_min"},
		{Query{YearFrom: 2020, YearTo: 2010}, "year_from"},
		{Query{YearTo: 3000}, "year_to"},
		{Query{Limit: 1001}, "limit"},
		{Query{Limit: -1}, "limit"},
		{Query{Offset: -1}, "offset"},
		{Query{Sort: "title"}, "sort"},
		{Query{Text: strings.Repeat("x", 1001)}, "q"},
	}
	for _, tt := range tests {
		_, err := ix.Search(context.Background(), tt.q)
		if !errors.Is(err, ErrBadQuery) || !strings.HasPrefix(err.Error(), tt.field+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: got %v, want a one-line ErrBadQuery about %s", tt.q, err, tt.field)
		}
		if _, err := ix.Stats(context.Background(), tt.q, "country"); !errors.Is(err, ErrBadQuery) {
			t.Errorf("stats %+v: got %v, want ErrBadQuery", tt.q, err)
		}
	}
	_, err := ix.Stats(context.Background(), Query{}, "city")
	if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), "country, dimension, year, source") {
		t.Errorf("stats by city: %v", err)
	}
	// Limit 1000 and every sort are fine.
	for _, s := range []string{"", "relevance", "year", "-year", "funding", "-funding", "beneficiaries", "-beneficiaries"} {
		if _, err := ix.Search(context.Background(), Query{Sort: s, Limit: 1000}); err != nil {
			t.Errorf("sort %q: %v", s, err)
		}
	}
}

// scanFacets counts the facets of a set of practices, as Result.Facets
// should.
func scanFacets(es []*entry, c *catalogue) map[string][]FacetValue {
	counts := map[string]map[string]int{}
	inc := func(facet, v string) {
		if counts[facet] == nil {
			counts[facet] = map[string]int{}
		}
		counts[facet][v]++
	}
	for _, e := range es {
		s := e.sheet
		inc("country", s.Country)
		for _, v := range s.Dimensions {
			inc("dimension", v)
		}
		for _, v := range s.TargetGroups {
			inc("target_group", v)
		}
		for _, v := range sourcesOf(s) {
			inc("funding_source", v)
		}
		if s.Achievement != "" {
			inc("achievement", s.Achievement)
		}
		if s.Evaluation != "" {
			inc("evaluation", s.Evaluation)
		}
		inc("publisher", e.pub.String())
		inc("language", s.Language)
		for tag := range s.Translations {
			inc("language", tag)
		}
		scanExpFacets(c, e, inc)
		inc("start_year", strconv.Itoa(s.StartYear))
		inc("has_translation", strconv.FormatBool(len(s.Translations) > 0))
		if s.City != "" {
			inc("city", s.Country+"/"+s.City)
		}
		switch {
		case s.Location != nil:
			inc("place", s.Country+"@"+s.Location.Lat.String()+","+s.Location.Lon.String())
		case s.City != "":
			inc("place", s.Country+"/"+s.City)
		}
		if f := fundingOf(s); f != nil {
			switch {
			case *f < 10_000:
				inc("funding_range", "<10k")
			case *f < 100_000:
				inc("funding_range", "10k-100k")
			case *f < 1_000_000:
				inc("funding_range", "100k-1M")
			case *f < 10_000_000:
				inc("funding_range", "1M-10M")
			default:
				inc("funding_range", ">=10M")
			}
		}
	}
	out := map[string][]FacetValue{}
	for _, name := range []string{"country", "dimension", "target_group", "funding_source", "achievement",
		"evaluation", "publisher", "language", "start_year", "funding_range", "has_translation", "city", "place",
		"adapted", "has_lessons", "endorsed_by", "adapted_in"} {
		out[name] = sortedFacet(counts[name])
	}
	return out
}

func hitOrder(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Publisher + "/" + h.ID
	}
	return out
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func hitEqual(a, b Hit) bool {
	eqPtr := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Publisher == b.Publisher && a.ID == b.ID && a.Seq == b.Seq && a.Title == b.Title &&
		a.Language == b.Language && a.Organiser == b.Organiser && a.Country == b.Country &&
		a.StartYear == b.StartYear && a.EndYear == b.EndYear && a.Ongoing == b.Ongoing &&
		slices.Equal(a.Dimensions, b.Dimensions) && eqPtr(a.FundingEUR, b.FundingEUR) &&
		eqPtr(a.Beneficiaries, b.Beneficiaries) && slices.Equal(a.Languages, b.Languages) &&
		(a.Location == nil) == (b.Location == nil) && (a.Location == nil || *a.Location == *b.Location)
}
