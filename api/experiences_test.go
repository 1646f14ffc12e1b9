package api

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testExperience is a valid experience record of type typ, with ID expID,
// about the practice (pub, id).
func testExperience(typ protocol.ExperienceType, expID string, pub peer.ID, id string) *protocol.Experience {
	e := &protocol.Experience{Type: typ, ID: expID, About: protocol.About{Publisher: pub, ID: id}, Language: "en"}
	switch typ {
	case protocol.ExperienceAdaptation:
		e.Title, e.Country, e.City, e.StartYear, e.Changes = "Adapted in Lille", "FR", "Lille", 2019, "A smaller council."
	case protocol.ExperienceLesson:
		e.Title, e.Text = "What we learned", "Start small."
	case protocol.ExperienceQuestion:
		e.Title, e.Text = "Who chairs it?", "Is the chair elected?"
	case protocol.ExperienceAnswer:
		e.Text = "Yes, every two years."
	case protocol.ExperienceEndorsement:
		e.ID, e.Text = "", "We recommend it."
	}
	return e
}

// publishExperience publishes e on n, failing t on error.
func publishExperience(t testing.TB, n *node.Node, e *protocol.Experience) *protocol.Signed {
	t.Helper()
	sg, err := n.PublishExperience(context.Background(), e)
	if err != nil {
		t.Fatalf("publish %s %s: %v", e.Type, e.ID, err)
	}
	return sg
}

// walkExperiences lists path page by page with limit=1, following next.
func (c *testClient) walkExperiences(path string) []Experience {
	c.t.Helper()
	var all []Experience
	after := ""
	for range 100 {
		var page ExperienceList
		c.ok("GET", path+"&limit=1"+after, "", false, &page)
		if len(page.Experiences) > 1 || (len(page.Experiences) == 0 && page.Next != "") {
			c.t.Fatalf("page of %d records with limit=1 (after %q), next %q", len(page.Experiences), after, page.Next)
		}
		all = append(all, page.Experiences...)
		if page.Next == "" {
			return all
		}
		after = "&after=" + url.QueryEscape(page.Next)
	}
	c.t.Fatalf("listing %s does not end", path)
	return nil
}

// slotsOf names each listed record "<publisher>/<slot>".
func slotsOf(es []Experience) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Publisher + "/" + e.Slot
	}
	return out
}

// expWorld is the catalogue of TestAPIExperienceReads: a publishes two
// practices (the second retracted) and answers b's question; b adapts,
// reviews, asks about and endorses the first, writes a lesson about the
// retracted one and one about a practice nobody holds.
type expWorld struct {
	a, b           *node.Node
	ca             *testClient
	p, q, ghost    string // a's practice, a's retracted practice, a practice not held
	adaptedInto    string // b's practice that resulted from the adaptation
	bName          string
	all            []*protocol.Signed // every experience record
	aboutP, aboutQ []*protocol.Signed
}

func newExpWorld(t *testing.T) *expWorld {
	tn := newTestNet(t, 13)
	w := &expWorld{a: tn.add(), b: tn.add(), ghost: "not-held-here", bName: "Ville de Lille"}
	w.ca = newTestClient(t, w.a)
	a, b := w.a, w.b
	sheets := demoSheets(t)
	w.p, w.q = publish(t, a, sheets[0]).Slot(), publish(t, a, sheets[1]).Slot()
	w.adaptedInto = publish(t, b, variant(sheets, 2)).Slot()
	if _, err := a.Retract(context.Background(), w.q, "ended"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetProfile(context.Background(), &protocol.Profile{Name: w.bName, Country: "FR", Level: "municipality"}); err != nil {
		t.Fatal(err)
	}
	adapt := testExperience(protocol.ExperienceAdaptation, "adapt-lille", a.ID(), w.p)
	adapt.Practice = protocol.Ref{Publisher: b.ID(), ID: w.adaptedInto}
	w.aboutP = []*protocol.Signed{
		publishExperience(t, b, adapt),
		publishExperience(t, b, testExperience(protocol.ExperienceLesson, "lesson-lille", a.ID(), w.p)),
		publishExperience(t, b, testExperience(protocol.ExperienceQuestion, "ask-lille", a.ID(), w.p)),
		publishExperience(t, b, testExperience(protocol.ExperienceEndorsement, "", a.ID(), w.p)),
	}
	answer := testExperience(protocol.ExperienceAnswer, "answer-lille", a.ID(), w.p)
	answer.InReplyTo = protocol.Ref{Publisher: b.ID(), ID: "ask-lille"}
	w.aboutP = append(w.aboutP, publishExperience(t, a, answer))
	w.aboutQ = []*protocol.Signed{publishExperience(t, b, testExperience(protocol.ExperienceLesson, "lesson-ended", a.ID(), w.q))}
	ghost := publishExperience(t, b, testExperience(protocol.ExperienceLesson, "lesson-ghost", a.ID(), w.ghost))
	w.all = slices.Concat(w.aboutP, w.aboutQ, []*protocol.Signed{ghost})
	tn.connect(a, b)
	tn.eventually(20*time.Second, "a and b converge", func() bool { return converged(t, tn.nodes) })
	return w
}

// TestAPIExperienceReads drives GET /api/v1/practices/{publisher}/{id}/
// experiences, GET /api/v1/experiences and the counts of GET
// /api/v1/practices/{publisher}/{id} against a real node holding another
// node's records.
func TestAPIExperienceReads(t *testing.T) {
	w := newExpWorld(t)
	a, b, ca := w.a, w.b, w.ca
	base := "/api/v1/practices/" + a.ID().String() + "/"

	t.Run("practice", func(t *testing.T) {
		var pe PracticeExperiences
		ca.ok("GET", base+w.p+"/experiences", "", false, &pe)
		want := ExperienceCounts{Adaptations: 1, Lessons: 1, Questions: 1, Answers: 1, Endorsements: 1}
		if pe.About != (PracticeRef{a.ID().String(), w.p}) || pe.State != AboutHeld || pe.Counts != want {
			t.Fatalf("about %+v, state %s, counts %+v", pe.About, pe.State, pe.Counts)
		}
		checkDisplayOrder(t, pe.Experiences)
		if got, want := sortedSlots(pe.Experiences), sortedSlots(experiencesOf(w.aboutP)); !slices.Equal(got, want) {
			t.Fatalf("records %v, want %v", got, want)
		}
		for _, e := range pe.Experiences {
			checkExperience(t, e, w.aboutP, AboutHeld)
			if wantName := map[string]string{b.ID().String(): w.bName}[e.Publisher]; e.AuthorName != wantName {
				t.Errorf("%s: author_name %q, want %q", e.Slot, e.AuthorName, wantName)
			}
			if e.Experience.Type == protocol.ExperienceAnswer && e.Experience.InReplyTo != (protocol.Ref{Publisher: b.ID(), ID: "ask-lille"}) {
				t.Errorf("the answer replies to %+v", e.Experience.InReplyTo)
			}
		}
		wantAd := Adaptation{Country: "FR", City: "Lille", StartYear: 2019, Author: b.ID().String(), AuthorName: w.bName, ID: "adapt-lille",
			Practice: &PracticeRef{b.ID().String(), w.adaptedInto}}
		if len(pe.AdaptedIn) != 1 {
			t.Fatalf("adapted_in %+v, want one", pe.AdaptedIn)
		}
		got := pe.AdaptedIn[0]
		gotP, wantP := got.Practice, wantAd.Practice
		got.Practice, wantAd.Practice = nil, nil
		if got != wantAd || gotP == nil || *gotP != *wantP {
			t.Fatalf("adapted_in %+v (practice %v), want %+v (practice %v)", got, gotP, wantAd, wantP)
		}
		var rec Record
		ca.ok("GET", base+w.p, "", false, &rec)
		if rec.ExperienceCounts == nil || *rec.ExperienceCounts != want {
			t.Fatalf("the record's experience_counts %+v, want %+v", rec.ExperienceCounts, want)
		}
	})

	t.Run("retracted and not held", func(t *testing.T) {
		for _, tc := range []struct {
			id, state string
			slots     []string
		}{
			{w.q, AboutRetracted, []string{b.ID().String() + "/_exp/lesson-ended"}},
			{w.ghost, AboutNotHeld, []string{b.ID().String() + "/_exp/lesson-ghost"}},
			{"nothing-about-it", AboutNotHeld, []string{}},
		} {
			var pe PracticeExperiences
			ca.ok("GET", base+tc.id+"/experiences", "", false, &pe)
			if pe.State != tc.state || !slices.Equal(slotsOf(pe.Experiences), tc.slots) || pe.Counts.Total() != uint64(len(tc.slots)) || len(pe.AdaptedIn) != 0 {
				t.Errorf("%s: state %s, records %v, counts %+v; want %s, %v", tc.id, pe.State, slotsOf(pe.Experiences), pe.Counts, tc.state, tc.slots)
			}
			for _, e := range pe.Experiences {
				checkExperience(t, e, w.all, tc.state)
			}
		}
		var rec Record
		ca.ok("GET", base+w.q, "", false, &rec)
		if rec.Kind != protocol.KindRetract || rec.ExperienceCounts == nil || *rec.ExperienceCounts != (ExperienceCounts{Lessons: 1}) {
			t.Fatalf("the retracted record's experience_counts %+v", rec.ExperienceCounts)
		}
	})

	t.Run("list", func(t *testing.T) {
		var all ExperienceList
		ca.ok("GET", "/api/v1/experiences", "", false, &all)
		if got, want := slotsOf(all.Experiences), listingOrder(experiencesOf(w.all)); !slices.Equal(got, want) || all.Next != "" {
			t.Fatalf("listing %v next %q, want %v", got, all.Next, want)
		}
		for _, e := range all.Experiences {
			checkExperience(t, e, w.all, map[string]string{w.p: AboutHeld, w.q: AboutRetracted, w.ghost: AboutNotHeld}[e.Experience.About.ID])
		}
		about := "publisher=" + a.ID().String() + "&id=" + w.p
		tests := []struct {
			query string
			keep  func(e Experience) bool
		}{
			{"", func(Experience) bool { return true }},
			{about, func(e Experience) bool { return e.Experience.About.ID == w.p }},
			{about + "&type=answer", func(e Experience) bool { return e.Experience.About.ID == w.p && e.Experience.Type == "answer" }},
			{about + "&author=" + b.ID().String(), func(e Experience) bool { return e.Experience.About.ID == w.p && e.Publisher == b.ID().String() }},
			{"type=lesson", func(e Experience) bool { return e.Experience.Type == "lesson" }},
			{"author=" + b.ID().String(), func(e Experience) bool { return e.Publisher == b.ID().String() }},
			{"mine=1", func(e Experience) bool { return e.Publisher == a.ID().String() }},
			{"mine=1&type=lesson", func(Experience) bool { return false }},
		}
		for _, tc := range tests {
			want := slotsOf(slices.DeleteFunc(slices.Clone(all.Experiences), func(e Experience) bool { return !tc.keep(e) }))
			var page ExperienceList
			ca.ok("GET", "/api/v1/experiences?"+tc.query, "", false, &page)
			if got := slotsOf(page.Experiences); !slices.Equal(got, want) || page.Next != "" {
				t.Errorf("?%s: %v next %q, want %v", tc.query, got, page.Next, want)
			}
			if got := slotsOf(ca.walkExperiences("/api/v1/experiences?" + tc.query)); !slices.Equal(got, want) {
				t.Errorf("?%s by pages of 1: %v, want %v", tc.query, got, want)
			}
		}
		var page ExperienceList
		ca.ok("GET", "/api/v1/experiences?limit=7", "", false, &page)
		if len(page.Experiences) != 7 || page.Next != "" {
			t.Errorf("a page holding exactly the rest: %d records, next %q", len(page.Experiences), page.Next)
		}
	})
}

// experiencesOf is the API form of published records, the fields a test
// can know in advance.
func experiencesOf(sgs []*protocol.Signed) []Experience {
	out := make([]Experience, len(sgs))
	for i, sg := range sgs {
		ann := sg.Announcement()
		out[i] = Experience{Publisher: ann.Publisher.String(), Slot: sg.Slot(), Seq: ann.Seq, Time: ann.Time, Experience: ann.Experience}
	}
	return out
}

func sortedSlots(es []Experience) []string {
	s := slotsOf(es)
	slices.Sort(s)
	return s
}

// listingOrder sorts records as the listing does: by publisher (a shorter
// ID first, then bytes), then slot.
func listingOrder(es []Experience) []string {
	es = slices.Clone(es)
	slices.SortFunc(es, func(x, y Experience) int {
		px, py := mustDecode(x.Publisher), mustDecode(y.Publisher)
		if len(px) != len(py) {
			return len(px) - len(py)
		}
		if c := strings.Compare(string(px), string(py)); c != 0 {
			return c
		}
		return strings.Compare(x.Slot, y.Slot)
	})
	return slotsOf(es)
}

func mustDecode(s string) peer.ID {
	p, err := peer.Decode(s)
	if err != nil {
		panic(err)
	}
	return p
}

// checkDisplayOrder fails t unless es is in the order of PROTOCOL.md
// 13.4: time, then publisher (shorter first, then bytes), then slot.
func checkDisplayOrder(t *testing.T, es []Experience) {
	t.Helper()
	for i := 1; i < len(es); i++ {
		x, y := es[i-1], es[i]
		px, py := mustDecode(x.Publisher), mustDecode(y.Publisher)
		switch {
		case x.Time.Before(y.Time):
		case y.Time.Before(x.Time):
			t.Errorf("%s (%v) before %s (%v)", x.Slot, x.Time, y.Slot, y.Time)
		case len(px) != len(py):
			if len(px) > len(py) {
				t.Errorf("%s by a longer ID before %s", x.Slot, y.Slot)
			}
		case px != py:
			if px > py {
				t.Errorf("%s by %s before %s by %s", x.Slot, px, y.Slot, py)
			}
		case x.Slot >= y.Slot:
			t.Errorf("slot %s before %s", x.Slot, y.Slot)
		}
	}
}

// checkExperience fails t unless e is one of the published records, as
// published, about a practice in state.
func checkExperience(t *testing.T, e Experience, published []*protocol.Signed, state string) {
	t.Helper()
	i := slices.IndexFunc(published, func(sg *protocol.Signed) bool {
		return sg.Announcement().Publisher.String() == e.Publisher && sg.Slot() == e.Slot
	})
	if i < 0 {
		t.Errorf("%s/%s was not published", e.Publisher, e.Slot)
		return
	}
	sg := published[i]
	ann := sg.Announcement()
	if e.Seq != ann.Seq || !e.Time.Equal(ann.Time) || e.Signer != sg.Signer().String() || e.AboutState != state ||
		fmt.Sprintf("%+v", *e.Experience) != fmt.Sprintf("%+v", *ann.Experience) {
		t.Errorf("%s: %+v (about %s), want seq %d, signer %s, about %s, body %+v", e.Slot, e, e.AboutState, ann.Seq, sg.Signer(), state, *ann.Experience)
	}
}

// TestAPIExperienceBadQueries: every bad parameter of the read routes is
// a 400 naming it; the same routes answer 200 when the values are right.
func TestAPIExperienceBadQueries(t *testing.T) {
	n := newTestNet(t, 14).add()
	c := newTestClient(t, n)
	self, other := n.ID().String(), testKeyID(t, 99)
	tests := []struct {
		path, wantText string
		code           int
	}{
		{"/api/v1/experiences?publisher=" + self, "give both", 400},
		{"/api/v1/experiences?id=cric-roubaix", "give both", 400},
		{"/api/v1/experiences?publisher=nobody&id=cric-roubaix", "publisher", 400},
		{"/api/v1/experiences?publisher=" + self + "&id=Not_An_ID", "practice ID", 400},
		{"/api/v1/experiences?author=nobody", "author", 400},
		{"/api/v1/experiences?type=review", "type", 400},
		{"/api/v1/experiences?type=lesson&type=question", "once", 400},
		{"/api/v1/experiences?mine=maybe", "mine", 400},
		{"/api/v1/experiences?mine=1&author=" + other, "mine=1 and author", 400},
		{"/api/v1/experiences?limit=0", "limit", 400},
		{"/api/v1/experiences?limit=1001", "limit", 400},
		{"/api/v1/experiences?after=%21%21", "after", 400},
		{"/api/v1/experiences?after=" + cursorOf(self, "cric-roubaix"), "after", 400},
		{"/api/v1/experiences?after=" + cursorOf(self, "_exp/gone"), "does not hold", 400},
		{"/api/v1/experiences?author=" + other + "&after=" + cursorOf(self, "_exp/gone"), "other filters", 400},
		{"/api/v1/experiences?writer=" + other, "unknown query parameter", 400},
		{"/api/v1/practices/nobody/cric-roubaix/experiences", "publisher", 400},
		{"/api/v1/practices/" + self + "/_profile/experiences", "practice ID", 400},
		// Right values of the same parameters.
		{"/api/v1/experiences?publisher=" + self + "&id=cric-roubaix&author=" + other + "&type=review", "type", 400},
		{"/api/v1/experiences?publisher=" + self + "&id=cric-roubaix&author=" + other + "&type=lesson&limit=1000", "", 200},
		{"/api/v1/experiences?mine=1&author=" + self + "&after=" + cursorOf(self, "_exp/gone") + "&publisher=" + self + "&id=cric-roubaix", "", 200},
		{"/api/v1/practices/" + self + "/cric-roubaix/experiences", "", 200},
	}
	for _, tc := range tests {
		code, raw := c.do("GET", tc.path, "", false)
		if code != tc.code || !strings.Contains(string(raw), tc.wantText) {
			t.Errorf("GET %s: %d %s, want %d naming %q", tc.path, code, raw, tc.code, tc.wantText)
		}
	}
}
