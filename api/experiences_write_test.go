package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// lessonFile is a lesson file about the practice (pub, id), in YAML.
func lessonFile(expID, pub, id string) string {
	return fmt.Sprintf("type: lesson\nid: %s\nabout:\n  publisher: %s\n  id: %s\nlanguage: en\ntitle: What we learned\ntext: Start small.\n", expID, pub, id)
}

// endorsementFile is an endorsement file of the practice (pub, id).
func endorsementFile(pub, id string) string {
	return fmt.Sprintf(`{"type": "endorsement", "about": {"publisher": %q, "id": %q}, "language": "en", "text": "We recommend it."}`, pub, id)
}

// oversizedLesson is a valid lesson whose signed form is over the payload
// limit: every text is at its limit, in 30 translations.
func oversizedLesson(pub, id string) string {
	var b strings.Builder
	b.WriteString(lessonFile("too-long", pub, id))
	b.WriteString("translations:\n")
	langs := strings.Fields("de fr it es nl pt pl sv da fi el cs sk sl hu ro bg hr et lv lt ga mt ar tr uk ru sq sr bs")
	for _, l := range langs[:protocol.MaxExperienceTranslations] {
		fmt.Fprintf(&b, "  %s:\n    title: T\n    text: %s\n", l, strings.Repeat("a", 2500))
	}
	return b.String()
}

// TestAPIExperienceWrites drives POST /api/v1/experiences (YAML and JSON,
// field-level errors with lines, dry runs, the payload limit) and the two
// retraction routes (200, 409, 404, 400) on a plain node.
func TestAPIExperienceWrites(t *testing.T) {
	n := newTestNet(t, 15).add()
	c := newTestClient(t, n)
	self, other := n.ID().String(), testKeyID(t, 77)

	c.fail("POST", "/api/v1/experiences", lessonFile("lesson-one", other, "cric-roubaix"), false, 401)
	e := c.fail("POST", "/api/v1/experiences", "type: lesson\nid: lesson-one\nabout: {publisher: "+other+", id: cric-roubaix}\nlanguage: en\ncountry: FR\ntitle: x\ncolour: red\n", true, 400)
	wantProblems := map[string]int{"country": 5, "colour": 7, "text": 0}
	for _, p := range e.Problems {
		if line, ok := wantProblems[p.Path]; ok && (line == 0 || p.Line == line) {
			delete(wantProblems, p.Path)
		}
	}
	if len(wantProblems) > 0 {
		t.Fatalf("problems %+v; missing %v (path: line)", e.Problems, wantProblems)
	}
	if !strings.Contains(e.Error, "line 5: country") {
		t.Errorf("the message does not give lines: %s", e.Error)
	}

	var pub Published
	c.ok("POST", "/api/v1/experiences?dry_run=1", lessonFile("lesson-one", other, "cric-roubaix"), true, &pub)
	if pub != (Published{Publisher: self, ID: "_exp/lesson-one", DryRun: true}) {
		t.Fatalf("dry run answered %+v", pub)
	}
	var list ExperienceList
	if c.ok("GET", "/api/v1/experiences", "", false, &list); len(list.Experiences) != 0 {
		t.Fatalf("a dry run stored %+v", list.Experiences)
	}
	c.fail("POST", "/api/v1/experiences?dry_run=1", "type: lesson\n", true, 400)
	c.fail("POST", "/api/v1/experiences?dry_run=maybe", lessonFile("lesson-one", other, "cric-roubaix"), true, 400)
	c.fail("POST", "/api/v1/experiences?dry_run=1", oversizedLesson(other, "cric-roubaix"), true, 413)
	c.fail("POST", "/api/v1/experiences", oversizedLesson(other, "cric-roubaix"), true, 413)
	c.fail("POST", "/api/v1/experiences", "", true, 400)

	pub = Published{}
	c.ok("POST", "/api/v1/experiences", lessonFile("lesson-one", other, "cric-roubaix"), true, &pub)
	if pub.Publisher != self || pub.ID != "_exp/lesson-one" || pub.Seq != 1 || len(pub.Hash) != 64 || pub.DryRun {
		t.Fatalf("publish answered %+v", pub)
	}
	c.ok("POST", "/api/v1/experiences", endorsementFile(other, "cric-roubaix"), true, &pub)
	if pub.ID != "_endorse/"+other+"/cric-roubaix" || pub.Seq != 2 {
		t.Fatalf("publish of an endorsement (JSON) answered %+v", pub)
	}
	if c.ok("GET", "/api/v1/experiences?mine=1", "", false, &list); len(list.Experiences) != 2 {
		t.Fatalf("mine=1 lists %v", slotsOf(list.Experiences))
	}

	tests := []struct {
		name, path, body string
		auth             bool
		code             int
	}{
		{"retract without token", "/api/v1/experiences/lesson-one/retract", "", false, 401},
		{"retract a bad ID", "/api/v1/experiences/Lesson_One/retract", "", true, 400},
		{"retract an unknown ID", "/api/v1/experiences/lesson-two/retract", "", true, 404},
		{"retract with a bad reason", "/api/v1/experiences/lesson-one/retract", `{"reason": 3}`, true, 400},
		{"retract", "/api/v1/experiences/lesson-one/retract", `{"reason": "superseded"}`, true, 200},
		{"retract again", "/api/v1/experiences/lesson-one/retract", "", true, 409},
		{"retract an endorsement, bad publisher", "/api/v1/endorsements/nobody/cric-roubaix/retract", "", true, 400},
		{"retract an endorsement, bad ID", "/api/v1/endorsements/" + other + "/X/retract", "", true, 400},
		{"retract an endorsement never made", "/api/v1/endorsements/" + self + "/cric-roubaix/retract", "", true, 404},
		{"retract an endorsement without token", "/api/v1/endorsements/" + other + "/cric-roubaix/retract", "", false, 401},
		{"retract an endorsement", "/api/v1/endorsements/" + other + "/cric-roubaix/retract", "", true, 200},
		{"retract an endorsement again", "/api/v1/endorsements/" + other + "/cric-roubaix/retract", "", true, 409},
	}
	for _, tc := range tests {
		code, raw := c.do("POST", tc.path, tc.body, tc.auth)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, raw, tc.code)
		}
	}
	// A practice's slot is not an experience's: the practice route keeps it.
	sheets := demoSheets(t)
	prac := publish(t, n, sheets[0])
	c.fail("POST", "/api/v1/experiences/"+prac.Slot()+"/retract", "", true, 404)
	c.fail("POST", "/api/v1/practices/_exp%2Flesson-one/retract", "", true, 404)
	if c.ok("GET", "/api/v1/experiences?mine=1", "", false, &list); len(list.Experiences) != 0 {
		t.Fatalf("after the retractions mine=1 lists %v", slotsOf(list.Experiences))
	}
	rec, err := n.Store().Get(n.ID(), "_exp/lesson-one")
	if err != nil || rec.Announcement().Kind != protocol.KindRetract || rec.Announcement().Retract.Reason != "superseded" {
		t.Fatalf("the lesson's slot holds %+v (%v)", rec, err)
	}
}

// TestAPIExperienceOrg: an organisation's node publishes and retracts
// experience records as the organisation, signed by its own key; a node
// whose delegation does not list the kind is refused with 409.
func TestAPIExperienceOrg(t *testing.T) {
	tn := newTestNet(t, 16)
	allowed, refused := tn.add(), tn.add()
	now := time.Now().UTC().Truncate(time.Second)
	orgFor := func(n *node.Node, name string, seed uint64, may ...protocol.Kind) (*testClient, string) {
		k := testKey(t, seed)
		gen, err := protocol.NewGenesis(name, []crypto.PubKey{k.GetPublic()}, now, protocol.Delegation{Key: n.ID(), May: may})
		if err != nil {
			t.Fatal(err)
		}
		gsg := seal(t, gen, k)
		c := newTestClient(t, n)
		if code, raw := c.postEnvelope(gsg.Envelope(), true); code != 200 {
			t.Fatalf("genesis: %d %s", code, raw)
		}
		org := gsg.Announcement().Publisher.String()
		var set OrgSetting
		c.ok("PUT", "/api/v1/org", `{"org":"`+org+`"}`, true, &set)
		return c, org
	}
	ca, orgA := orgFor(allowed, "Ville de Lille", 161, protocol.KindExperience, protocol.KindRetract)
	cr, _ := orgFor(refused, "Ville de Roubaix", 162, protocol.KindPractice)
	about := testKeyID(t, 78)

	var pub Published
	ca.ok("POST", "/api/v1/experiences?dry_run=1", lessonFile("lesson-org", about, "cric-roubaix"), true, &pub)
	if pub.Publisher != orgA || !pub.DryRun {
		t.Fatalf("the organisation's dry run answered %+v", pub)
	}
	ca.ok("POST", "/api/v1/experiences", lessonFile("lesson-org", about, "cric-roubaix"), true, &pub)
	if pub.Publisher != orgA || pub.ID != "_exp/lesson-org" {
		t.Fatalf("the organisation's node published %+v", pub)
	}
	var list ExperienceList
	ca.ok("GET", "/api/v1/experiences?mine=1", "", false, &list)
	if len(list.Experiences) != 1 || list.Experiences[0].Publisher != orgA || list.Experiences[0].Signer != allowed.ID().String() ||
		list.Experiences[0].AuthorName != "Ville de Lille" || list.Experiences[0].AboutState != AboutNotHeld {
		t.Fatalf("mine=1 of the organisation's node: %+v", list.Experiences)
	}
	// An answer naming the organisation reads back through the Client's
	// types (peer.ID's own UnmarshalJSON refuses organisation IDs).
	ca.ok("POST", "/api/v1/experiences", "type: answer\nid: answer-org\nabout: {publisher: "+about+", id: cric-roubaix}\nlanguage: en\ntext: Yes.\nin_reply_to: {publisher: "+orgA+", id: lesson-org}\n", true, &pub)
	ca.ok("GET", "/api/v1/experiences?mine=1&type=answer", "", false, &list)
	if len(list.Experiences) != 1 || list.Experiences[0].Experience.InReplyTo.Publisher.String() != orgA {
		t.Fatalf("the answer to the organisation reads back as %+v", list.Experiences)
	}
	ca.ok("POST", "/api/v1/experiences", endorsementFile(about, "cric-roubaix"), true, &pub)
	ca.ok("POST", "/api/v1/endorsements/"+about+"/cric-roubaix/retract", "", true, &pub)
	if pub.Publisher != orgA || pub.ID != "_endorse/"+about+"/cric-roubaix" {
		t.Fatalf("the organisation's retraction: %+v", pub)
	}
	ca.ok("POST", "/api/v1/experiences/lesson-org/retract", "", true, &pub)
	ca.fail("POST", "/api/v1/experiences/lesson-org/retract", "", true, 409)

	e := cr.fail("POST", "/api/v1/experiences", lessonFile("lesson-org", about, "cric-roubaix"), true, 409)
	if !strings.Contains(e.Error, "experience") {
		t.Errorf("the refusal does not name the kind: %s", e.Error)
	}
	var refusedList ExperienceList
	if cr.ok("GET", "/api/v1/experiences", "", false, &refusedList); len(refusedList.Experiences) != 0 {
		t.Fatalf("a refused publication was stored: %+v", refusedList.Experiences)
	}
	raw, _ := json.Marshal(refusedList)
	if !strings.Contains(string(raw), `"next":""`) {
		t.Errorf("an empty page is %s", raw)
	}
}
