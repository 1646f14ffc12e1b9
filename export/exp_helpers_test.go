package export

import (
	"context"
	"testing"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// expFixture is newFixture's store with experience records on top: the
// demo's experience records, written by C (a plain publisher with a
// profile) and, for the answers, by A, the publisher of every practice
// they are about; and records the demo lacks: an adaptation of a
// practice no replica here holds, one of a retracted practice, one that
// B updated (only the new version is live) and one that C retracted.
type expFixture struct {
	*fixture
	c     peer.ID
	cName string
	// live are the live experience records the fixture applied, by
	// key(publisher, slot).
	live map[string]*protocol.Signed
	// absent is a publisher of which the store holds nothing.
	absent peer.ID
}

func newExpFixture(tb testing.TB) *expFixture {
	tb.Helper()
	f := &expFixture{fixture: newFixture(tb), cName: "Ville de Prova", live: map[string]*protocol.Signed{}}
	ka, _ := testKey(tb, 1)
	kb, _ := testKey(tb, 2)
	kc, c := testKey(tb, 3)
	_, f.absent = testKey(tb, 4)
	f.c = c
	// A's and B's sequence numbers go on from newFixture's.
	seqs := map[peer.ID]uint64{f.a: 1000, f.b: 1000, c: 0}
	keys := map[peer.ID]crypto.PrivKey{f.a: ka, f.b: kb, c: kc}
	var in []store.Incoming
	add := func(pub peer.ID, ann *protocol.Announcement) *protocol.Signed {
		tb.Helper()
		seqs[pub]++
		sg := seal(tb, keys[pub], seqs[pub], ann)
		in = append(in, store.Incoming{Signed: sg, From: f.a.String()})
		return sg
	}
	experience := func(pub peer.ID, e *protocol.Experience) {
		tb.Helper()
		if err := e.Validate(); err != nil {
			tb.Fatalf("fixture experience %s: %v", e.Slot(), err)
		}
		sg := add(pub, &protocol.Announcement{Kind: protocol.KindExperience, Experience: e})
		f.live[key(pub, sg.Slot())] = sg
	}
	add(c, &protocol.Announcement{Kind: protocol.KindProfile, Profile: &protocol.Profile{Name: f.cName, Country: "FR", Level: "municipality"}})

	exps, err := demo.Experiences()
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range exps {
		e := *d.Record
		author := c
		e.About.Publisher = f.a
		if e.Type == protocol.ExperienceAnswer {
			author = f.a
			// The question answered is C's, an answer to an answer A's.
			e.InReplyTo.Publisher = c
			if slicesContainsAnswer(exps, e.InReplyTo.ID) {
				e.InReplyTo.Publisher = f.a
			}
		}
		if !e.Practice.IsZero() {
			e.Practice.Publisher = f.a
		}
		experience(author, &e)
	}

	// An adaptation of a practice held nowhere here, resulting in another
	// one, with cells a spreadsheet would run and a CRLF.
	experience(c, &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "from-elsewhere",
		About: protocol.About{Publisher: f.absent, ID: "far-away-practice", Seq: 3}, Language: "fr",
		Title: "=HYPERLINK(\"http://evil.example\")", Country: "FR", City: "Lille", StartYear: 2021, Ongoing: true,
		Changes: "-Moins de réunions,\r\nplus de \"bibliothèques\"; voilà.", Achievement: "partially", Evaluation: "internal",
		Practice:     protocol.Ref{Publisher: f.absent, ID: "result-elsewhere"},
		Translations: map[string]protocol.ExperienceTranslation{"en": {Title: "From elsewhere"}, "de": {Title: "Von anderswo"}}})
	// An adaptation of A's retracted practice.
	experience(c, &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "of-a-retracted-one",
		About: protocol.About{Publisher: f.a, ID: "to-be-retracted"}, Language: "en",
		Title: "We tried it before it ended", Country: "BE", StartYear: 2015, EndYear: 2016, Changes: "Shorter."})
	// B's adaptation, updated: the first version is superseded.
	first := demoDocs(tb)[0].sheet.ID
	b1 := &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "b-adapts", About: protocol.About{Publisher: f.a, ID: first},
		Language: "en", Title: "First version", Country: "AT", StartYear: 2018, Changes: "Some."}
	experience(f.b, b1)
	delete(f.live, key(f.b, b1.Slot()))
	b2 := *b1
	b2.Title, b2.Country, b2.Achievement = "Second version", "DE", "fully"
	experience(f.b, &b2)
	// C's adaptation, then its retraction.
	gone := &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "withdrawn-adaptation", About: protocol.About{Publisher: f.a, ID: first},
		Language: "en", Title: "Withdrawn", Country: "FR", StartYear: 2019, Changes: "None."}
	experience(c, gone)
	delete(f.live, key(c, gone.Slot()))
	add(c, &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: gone.Slot()}})

	res, err := f.st.Apply(context.Background(), in...)
	if err != nil {
		tb.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.Applied {
			tb.Fatalf("fixture record %d (%s): %v", i, in[i].Signed.Slot(), r.Outcome)
		}
	}
	return f
}

func slicesContainsAnswer(exps []demo.Experience, id string) bool {
	for _, d := range exps {
		if d.Record.ID == id {
			return d.Record.Type == protocol.ExperienceAnswer
		}
	}
	return false
}

// adaptations returns the fixture's live adaptation records.
func (f *expFixture) adaptations() map[string]*protocol.Signed {
	out := map[string]*protocol.Signed{}
	for k, sg := range f.live {
		if sg.Announcement().Experience.Type == protocol.ExperienceAdaptation {
			out[k] = sg
		}
	}
	return out
}
