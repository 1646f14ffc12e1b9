package oai

import (
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The moments at which newExpFixture applies its two batches of
// experience records, after newFixture's and before nowT.
var (
	expBatch1 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	expBatch2 = time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
)

// expItem is what the tests expect of an experience item.
type expItem struct {
	pub     peer.ID
	slot    string
	signed  *protocol.Signed // nil for a deleted item
	stamp   time.Time
	deleted bool
	sets    []string // the sets a harvest of each set lists it in
}

// expFixture is newFixture's repository with experience records of
// every type on top: publisher 1 adapts (into its own practice), reviews,
// asks about and endorses publisher 0's practices; publisher 0 answers
// without a title and adapts a practice held nowhere here; in batch 2,
// publisher 1 retracts one adaptation and its endorsement and updates
// its lesson.
type expFixture struct {
	*fixture
	exps map[string]*expItem // by identifier
}

func newExpFixture(t testing.TB, cfg Config) *expFixture {
	t.Helper()
	f := &expFixture{fixture: newFixture(t, cfg), exps: map[string]*expItem{}}
	sheets := demoSheets(t)
	p0, p1 := f.pubs[0], f.pubs[1]
	// Practices of publisher 0 still held (newFixture retracts 0 and 4
	// and publishes the even sheets as publisher 0).
	held0, held1 := sheets[2].ID, sheets[6].ID
	own1 := sheets[1].ID // a practice of publisher 1
	absent, err := peer.IDFromPrivateKey(testKey(t, 9))
	if err != nil {
		t.Fatal(err)
	}
	exp := func(i int, at time.Time, e *protocol.Experience) *protocol.Signed {
		t.Helper()
		if err := e.Validate(); err != nil {
			t.Fatalf("fixture experience %s: %v", e.Slot(), err)
		}
		sg := f.announce(i, &protocol.Announcement{Kind: protocol.KindExperience, Experience: e})
		sets := []string{"experiences", "experiences:" + string(e.Type)}
		f.exps[identifierOf(f.pubs[i], e.Slot())] = &expItem{pub: f.pubs[i], slot: e.Slot(), signed: sg, stamp: at, sets: sets}
		return sg
	}
	about := func(id string) protocol.About { return protocol.About{Publisher: p0, ID: id} }
	b1 := []*protocol.Signed{
		exp(1, expBatch1, &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "adapted-in-lille", About: protocol.About{Publisher: p0, ID: held0, Seq: 1},
			Language: "fr", Title: "Adapté à <Lille> & \"ailleurs\"", Country: "FR", Region: "Hauts-de-France", City: "Lille",
			StartYear: 2019, Ongoing: true, Changes: "Moins de réunions.\nPlus de bibliothèques.", Achievement: "partially",
			Evaluation: "internal", Outcomes: "Trois quartiers.", Practice: protocol.Ref{Publisher: p1, ID: own1},
			Translations: map[string]protocol.ExperienceTranslation{"en": {Title: "Adapted in Lille", Text: "Fewer meetings."}}}),
		exp(1, expBatch1, &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "adapted-then-withdrawn", About: about(held1),
			Language: "en", Title: "Tried, then withdrawn", Country: "BE", StartYear: 2017, EndYear: 2018, Changes: "Shorter."}),
		exp(1, expBatch1, &protocol.Experience{Type: protocol.ExperienceLesson, ID: "what-worked", About: about(held0),
			Language: "en", Title: "What worked", Text: "Start small.", Worked: "Libraries.", DidNotWork: "Evenings.", ForWhom: "Young residents."}),
		exp(1, expBatch1, &protocol.Experience{Type: protocol.ExperienceQuestion, ID: "who-chairs", About: about(held0),
			Language: "en", Title: "Who chairs the council?", Text: "Is the chair elected?"}),
		exp(1, expBatch1, &protocol.Experience{Type: protocol.ExperienceEndorsement, About: about(held1), Language: "en", Text: "We recommend it."}),
		exp(0, expBatch1, &protocol.Experience{Type: protocol.ExperienceAnswer, ID: "the-chair", About: about(held0),
			Language: "it", Text: "Sì, ogni due anni.", InReplyTo: protocol.Ref{Publisher: p1, ID: "who-chairs"}}),
		exp(0, expBatch1, &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "from-far-away", About: protocol.About{Publisher: absent, ID: "far-away"},
			Language: "en", Title: "From a practice not held here", Country: "IT", StartYear: 2020, Changes: "All of it."}),
	}
	f.apply(expBatch1, b1)

	var b2 []*protocol.Signed
	for _, slot := range []string{protocol.ExperienceSlot("adapted-then-withdrawn"), protocol.EndorsementSlot(p0, held1)} {
		sg := f.announce(1, &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: slot}})
		b2 = append(b2, sg)
		sets := []string{"experiences", "experiences:adaptation", "experiences:lesson", "experiences:question", "experiences:answer"}
		if slot != protocol.ExperienceSlot("adapted-then-withdrawn") {
			sets = []string{"experiences", "experiences:endorsement"}
		}
		f.exps[identifierOf(p1, slot)] = &expItem{pub: p1, slot: slot, stamp: expBatch2, deleted: true, sets: sets}
	}
	b2 = append(b2, exp(1, expBatch2, &protocol.Experience{Type: protocol.ExperienceLesson, ID: "what-worked", About: about(held0),
		Language: "en", Title: "What worked, two years on", Text: "Start small, stay long."}))
	f.apply(expBatch2, b2)
	return f
}

// expIDs returns the identifiers of the experience items a harvest of
// set lists, with a datestamp of at least from, sorted.
func (f *expFixture) expIDs(set string, from time.Time) []string {
	var out []string
	for id, it := range f.exps {
		if !it.stamp.Before(from) && containsString(it.sets, set) {
			out = append(out, id)
		}
	}
	return sortedCopy(out)
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
