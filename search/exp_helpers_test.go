package search

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Experience records in the test catalogue: the catalogue keeps the live
// ones (c.exps, by docID of author and slot), so tests compute expected
// counts, facets and statistics by scanning it.

// experience seals and applies the experience record e by publisher p,
// and returns its docID.
func (c *catalogue) experience(p int, e *protocol.Experience) string {
	c.t.Helper()
	c.apply([]store.Incoming{{Signed: c.sealExperience(p, e), From: "test"}})
	return docID(c.pubs[p], e.Slot())
}

// sealExperience seals the experience record e by publisher p and counts
// it as live in c, without applying it.
func (c *catalogue) sealExperience(p int, e *protocol.Experience) *protocol.Signed {
	c.t.Helper()
	pub := c.pubs[p]
	c.seq[pub]++
	a := &protocol.Announcement{V: protocol.Version, Seq: c.seq[pub], Kind: protocol.KindExperience,
		Time: testNow.Add(time.Duration(c.seq[pub]) * time.Second), Experience: e}
	signed, err := protocol.Seal(a, c.keys[p])
	if err != nil {
		c.t.Fatalf("seal %s: %v", e.Slot(), err)
	}
	if c.exps == nil {
		c.exps = map[string]*protocol.Announcement{}
	}
	c.exps[docID(pub, e.Slot())] = signed.Announcement()
	return signed
}

// expsAbout returns the live records about the practice (pub, id), by
// docID.
func (c *catalogue) expsAbout(pub peer.ID, id string) []*protocol.Announcement {
	var out []*protocol.Announcement
	for _, k := range slices.Sorted(maps.Keys(c.exps)) {
		if a := c.exps[k]; a.Experience.About.Publisher == pub && a.Experience.About.ID == id {
			out = append(out, a)
		}
	}
	return out
}

// countsOf counts the live records about the practice (pub, id).
func (c *catalogue) countsOf(pub peer.ID, id string) ExperienceCounts {
	return collectExps(c.expsAbout(pub, id)).counts
}

// pubIndex returns the index of publisher pub in c.
func (c *catalogue) pubIndex(pub peer.ID) int {
	return slices.Index(c.pubs, pub)
}

// publisherOf returns the publisher of the current practice id (IDs of
// the demo are unique), or -1.
func (c *catalogue) publisherOf(id string) int {
	for _, e := range c.cur {
		if e.sheet.ID == id {
			return c.pubIndex(e.pub)
		}
	}
	return -1
}

// loadDemoExperiences publishes the demo's experience records about the
// demo practices that c holds: each by the publisher after the
// practice's, an answer by the practice's own, in the demo's publishing
// order. It returns how many it published.
func (c *catalogue) loadDemoExperiences() int {
	c.t.Helper()
	exps, err := demo.Experiences()
	if err != nil {
		c.t.Fatal(err)
	}
	author := map[string]int{} // experience ID → its author
	n := 0
	for _, x := range exps {
		e := *x.Record
		e.Translations = maps.Clone(e.Translations)
		p := c.publisherOf(e.About.ID)
		if p < 0 {
			continue
		}
		e.About.Publisher = c.pubs[p]
		by := (p + 1) % len(c.pubs)
		if e.Type == protocol.ExperienceAnswer {
			by = p
			r, ok := author[e.InReplyTo.ID]
			if !ok {
				continue
			}
			e.InReplyTo.Publisher = c.pubs[r]
		}
		if !e.Practice.IsZero() {
			if q := c.publisherOf(e.Practice.ID); q >= 0 {
				e.Practice.Publisher = c.pubs[q]
			}
		}
		if e.ID != "" {
			author[e.ID] = by
		}
		c.experience(by, &e)
		n++
	}
	return n
}

// expFixture is fixture with the demo's experience records too.
func expFixture(t testing.TB) (*catalogue, *Index) {
	t.Helper()
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 3)
	c.loadDemo()
	if n := c.loadDemoExperiences(); n < 20 {
		t.Fatalf("only %d demo experience records published", n)
	}
	return c, openIndex(t, t.TempDir(), st)
}

// adaptation, lesson, question, answer and endorsement return records
// about the practice (pub, id) whose texts hold word.
func adaptation(id string, pub peer.ID, about, country, word string) *protocol.Experience {
	return &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: id, Language: "en",
		About: protocol.About{Publisher: pub, ID: about}, Title: "Adapted with " + word,
		Country: country, StartYear: 2020, Changes: "We changed the " + word + " part."}
}

func lesson(id string, pub peer.ID, about, word string) *protocol.Experience {
	return &protocol.Experience{Type: protocol.ExperienceLesson, ID: id, Language: "en",
		About: protocol.About{Publisher: pub, ID: about}, Title: "A lesson", Text: "Mind the " + word + "."}
}

func question(id string, pub peer.ID, about, word string) *protocol.Experience {
	return &protocol.Experience{Type: protocol.ExperienceQuestion, ID: id, Language: "en",
		About: protocol.About{Publisher: pub, ID: about}, Title: "A question", Text: "What about " + word + "?"}
}

func endorsement(pub peer.ID, about, word string) *protocol.Experience {
	return &protocol.Experience{Type: protocol.ExperienceEndorsement, Language: "en",
		About: protocol.About{Publisher: pub, ID: about}, Text: "We recommend its " + word + "."}
}

// scanExpFacets adds the facets that experience records give practices
// to counts, for practice e.
func scanExpFacets(c *catalogue, e *entry, inc func(facet, v string)) {
	var n ExperienceCounts
	var endorsers, countries []string
	if c != nil {
		x := collectExps(c.expsAbout(e.pub, e.sheet.ID))
		n, endorsers, countries = x.counts, x.endorsers, slices.Compact(x.adaptedIn)
	}
	switch {
	case n.Adaptations == 0:
		inc("adapted", "0")
	case n.Adaptations == 1:
		inc("adapted", "1")
	case n.Adaptations <= 4:
		inc("adapted", "2-4")
	default:
		inc("adapted", "5+")
	}
	inc("has_lessons", strconv.FormatBool(n.Lessons > 0))
	for _, p := range endorsers {
		inc("endorsed_by", p)
	}
	for _, cc := range countries {
		inc("adapted_in", cc)
	}
}

// sortedFacet turns counts into a facet's values, by count then value.
func sortedFacet(counts map[string]int) []FacetValue {
	vs := []FacetValue{}
	for v, n := range counts {
		vs = append(vs, FacetValue{Value: v, Count: n})
	}
	slices.SortFunc(vs, func(a, b FacetValue) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
	})
	return vs
}
