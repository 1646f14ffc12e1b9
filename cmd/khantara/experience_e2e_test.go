package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
)

// practiceExperiences fetches the experience records about (pub, id) from
// d; ok is false when the request fails.
func (d *daemon) practiceExperiences(pub, id string) (api.PracticeExperiences, bool) {
	var pe api.PracticeExperiences
	err := d.do(http.MethodGet, "/api/v1/practices/"+pub+"/"+id+"/experiences", "", &pe)
	return pe, err == nil
}

// writeExperience writes an experience file into dir and returns its path.
func writeExperience(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExperienceEndToEnd drives experience records through real daemons
// on loopback: organisation B adapts plain node A's practice (pointing at
// its own resulting practice) and publishes a lesson and a question about
// it; A answers the question; node C, started afterwards, gets all of it
// by sync and shows it (counts, threading, where adapted) on its API and
// in show; B retracts its lesson; A retracts its practice, and B's
// records stay readable on every node, about a retracted practice. A and
// B publish with experience add.
func TestExperienceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three daemons")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(150 * time.Second)
	tmp := t.TempDir()
	homeA, homeB, homeC := filepath.Join(tmp, "roubaix"), filepath.Join(tmp, "lille"), filepath.Join(tmp, "late")
	for _, h := range []string{homeA, homeB, homeC} {
		expect(t, bin, 0, nil, "init", "--home", h)
	}
	onA := func(args ...string) []string { return append(args, "--home", homeA) }
	onB := func(args ...string) []string { return append(args, "--home", homeB) }
	onC := func(args ...string) []string { return append(args, "--home", homeC) }
	dA := startDaemon(t, bin, "A", homeA, deadline)
	dB := startDaemon(t, bin, "B", homeB, deadline, dA.status.Addrs[0])
	expect(t, bin, 0, []string{"Created the organisation"}, onB("org", "init", "--name", "Ville de Lille", "--keys-out", filepath.Join(tmp, "lille-keys.txt"))...)
	stB, err := dB.getStatus()
	if err != nil || stB.Org == "" {
		t.Fatalf("B's status after org init: %+v %v", stB, err)
	}
	a, b := dA.status.PeerID, stB.Org
	original := dA.publish(t, "../../demo/sheets/cric-roubaix.yaml")
	var bPubs []api.Published
	if err := json.Unmarshal([]byte(expect(t, bin, 0, nil, onB("publish", "--json", "../../demo/sheets/coprod-migrants-nantes.yaml")...)), &bPubs); err != nil || len(bPubs) != 1 || bPubs[0].Publisher != b {
		t.Fatalf("B's practice: %+v %v", bPubs, err)
	}
	resulting := bPubs[0]
	waitFor(t, deadline, "B to hold A's practice", []*daemon{dA, dB}, func() bool { return dB.has(original) })

	// B adapts, reviews and asks, with experience add.
	dir := t.TempDir()
	about := fmt.Sprintf("about: {publisher: %s, id: %s, seq: %d}\nlanguage: en\n", a, original.ID, original.Seq)
	bad := writeExperience(t, dir, "bad.yaml", "type: adaptation\nid: conseil-lille\n"+about+"title: T\ncountry: XX\n")
	_, errOut, code := runBin(t, bin, onB("experience", "add", bad)...)
	if code != 2 || !strings.Contains(errOut, bad+":6: country") || !strings.Contains(errOut, bad+": start_year") {
		t.Fatalf("experience add of a bad file: exit %d, stderr:\n%s", code, errOut)
	}
	files := map[string]string{
		"adapt.yaml": "type: adaptation\nid: conseil-lille\n" + about + "title: An intercultural council in Lille\ncountry: FR\ncity: Lille\nstart_year: 2019\nongoing: true\n" +
			"changes: A smaller council that meets in the city's libraries.\nachievement: partially\nevaluation: internal\n" +
			fmt.Sprintf("practice: {publisher: %s, id: %s}\n", b, resulting.ID),
		"lesson.yaml":   "type: lesson\nid: lille-lesson\n" + about + "title: Start with the associations\ntext: Invite the associations before the first meeting.\n",
		"question.yaml": "type: question\nid: lille-question\n" + about + "title: Who chairs the council?\ntext: Is the chair elected by the members?\n",
	}
	for _, name := range []string{"adapt.yaml", "lesson.yaml", "question.yaml"} {
		path := writeExperience(t, dir, name, files[name])
		expect(t, bin, 0, []string{"valid"}, onB("experience", "add", "--dry-run", path)...)
		expect(t, bin, 0, []string{"published"}, onB("experience", "add", path)...)
	}
	waitFor(t, deadline, "A to hold B's question", []*daemon{dA, dB}, func() bool {
		pe, ok := dA.practiceExperiences(a, original.ID)
		return ok && pe.Counts.Questions == 1
	})
	// A answers, with experience add.
	answer := writeExperience(t, dir, "answer.yaml", "type: answer\nid: chair-answer\n"+about+"text: Yes, for two years, by the members.\n"+
		fmt.Sprintf("in_reply_to: {publisher: %s, id: lille-question}\n", b))
	expect(t, bin, 0, []string{"published answer _exp/chair-answer"}, onA("experience", "add", answer)...)

	// C joins later and catches up by sync.
	dC := startDaemon(t, bin, "C", homeC, deadline, dA.status.Addrs[0])
	want := api.ExperienceCounts{Adaptations: 1, Lessons: 1, Questions: 1, Answers: 1}
	all := []*daemon{dA, dB, dC}
	waitFor(t, deadline, "every node to hold the four records", all, func() bool {
		for _, d := range all {
			if pe, ok := d.practiceExperiences(a, original.ID); !ok || pe.Counts != want {
				return false
			}
		}
		return true
	})
	pe, _ := dC.practiceExperiences(a, original.ID)
	checkLateNode(t, pe, a, b, resulting)
	out := expect(t, bin, 0, []string{"Records:           1 adaptation, 1 lesson, 1 question, 1 answer",
		"Adapted in:        Lille, FR (2019), by Ville de Lille; resulting practice", b + "/" + resulting.ID},
		onC("show", a+"/"+original.ID)...)
	q, ans := strings.Index(out, "\nQuestion lille-question by Ville de Lille"), strings.Index(out, "\n    Answer chair-answer by ")
	if q < 0 || ans < q {
		t.Fatalf("show on C does not thread the answer under the question:\n%s", out)
	}
	expect(t, bin, 0, []string{"conseil-lille", "lille-lesson", "lille-question", "chair-answer"}, onC("experience", "list", a+"/"+original.ID)...)
	out = expect(t, bin, 0, []string{"lille-lesson"}, onC("experience", "list", "--type", "lesson", "--author", b)...)
	if strings.Contains(out, "conseil-lille") {
		t.Fatalf("--type lesson listed the adaptation:\n%s", out)
	}

	// B withdraws its lesson; A withdraws its practice.
	expect(t, bin, 0, []string{"retracted _exp/lille-lesson"}, onB("experience", "retract", "lille-lesson")...)
	expect(t, bin, 1, []string{"already retracted"}, onB("experience", "retract", "lille-lesson")...)
	expect(t, bin, 1, []string{"has published no experience record"}, onA("experience", "retract", "lille-question")...)
	expect(t, bin, 0, []string{"retracted " + original.ID}, onA("retract", original.ID)...)
	want.Lessons = 0
	waitFor(t, deadline, "every node to show B's records about a retracted practice", all, func() bool {
		for _, d := range all {
			pe, ok := d.practiceExperiences(a, original.ID)
			if !ok || pe.State != api.AboutRetracted || pe.Counts != want || len(pe.Experiences) != 3 {
				return false
			}
			for _, e := range pe.Experiences {
				if e.AboutState != api.AboutRetracted {
					return false
				}
			}
		}
		return true
	})
	var rec api.Record
	if err := dC.do(http.MethodGet, "/api/v1/practices/"+a+"/"+original.ID, "", &rec); err != nil || rec.Kind != protocol.KindRetract ||
		rec.ExperienceCounts == nil || *rec.ExperienceCounts != want {
		t.Fatalf("C's record of the retracted practice: %v %+v", err, rec.ExperienceCounts)
	}
	expect(t, bin, 0, []string{"is retracted", "Records:           1 adaptation, 1 question, 1 answer"}, onC("show", a+"/"+original.ID)...)
	expect(t, bin, 0, []string{"conseil-lille", "(retracted)"}, onC("experience", "list", "--author", b)...)
}

// checkLateNode checks what the late node C shows of A's practice: the
// counts, B's records by its organisation's name, the answer's thread
// and where the practice was adapted.
func checkLateNode(t *testing.T, pe api.PracticeExperiences, a, b string, resulting api.Published) {
	t.Helper()
	if pe.State != api.AboutHeld || len(pe.Experiences) != 4 {
		t.Fatalf("C: state %s, %d records", pe.State, len(pe.Experiences))
	}
	slots := map[string]api.Experience{}
	for _, e := range pe.Experiences {
		slots[e.Publisher+"/"+e.Slot] = e
		if e.AboutState != api.AboutHeld || (e.Publisher == b) != (e.AuthorName == "Ville de Lille") || e.Signer == "" {
			t.Errorf("C shows %s/%s by %q, signed by %s, about %s", e.Publisher, e.Slot, e.AuthorName, e.Signer, e.AboutState)
		}
	}
	ans, ok := slots[a+"/_exp/chair-answer"]
	if _, asked := slots[b+"/_exp/lille-question"]; !ok || !asked || ans.Experience.InReplyTo.Publisher.String() != b || ans.Experience.InReplyTo.ID != "lille-question" {
		t.Fatalf("C lacks the question or the answer's reply: %v", slices.Collect(maps.Keys(slots)))
	}
	if len(pe.AdaptedIn) != 1 {
		t.Fatalf("C: adapted_in %+v", pe.AdaptedIn)
	}
	ad := pe.AdaptedIn[0]
	if ad.Country != "FR" || ad.City != "Lille" || ad.StartYear != 2019 || ad.Author != b || ad.ID != "conseil-lille" ||
		ad.Practice == nil || *ad.Practice != (api.PracticeRef{Publisher: b, ID: resulting.ID}) {
		t.Fatalf("C: adapted_in %+v", ad)
	}
}
