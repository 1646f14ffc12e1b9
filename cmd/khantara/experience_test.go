package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	testPub   = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7" // PROTOCOL.md 11.1
	testOther = "12D3KooWFn8QWiVE9T9jxM4din3HgH872hhXfjew2Jg73H4FvT3h" // PROTOCOL.md 13.6
)

// lessonYAML is a valid lesson about testPub's cric-roubaix.
const lessonYAML = "type: lesson\nid: lesson-lille\nabout:\n  publisher: " + testPub + "\n  id: cric-roubaix\nlanguage: en\ntitle: What we learned\ntext: Start small.\n"

// badLessonYAML has three problems: a country in a lesson (line 6), an
// unknown key (line 7), and no text.
const badLessonYAML = "type: lesson\nid: lesson-lille\nabout: {publisher: " + testPub + ", id: cric-roubaix}\nlanguage: en\ntitle: T\ncountry: FR\ncolour: red\n"

func TestExperienceAddChecksFirst(t *testing.T) {
	dir := t.TempDir()
	good, bad, big := filepath.Join(dir, "lesson.yaml"), filepath.Join(dir, "bad.yaml"), filepath.Join(dir, "big.yaml")
	writeTestFile(t, good, lessonYAML)
	writeTestFile(t, bad, badLessonYAML)
	writeTestFile(t, big, "text: "+strings.Repeat("x", 300<<10)+"\n")
	home := t.TempDir() // no daemon: none is needed to refuse
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"invalid", []string{"experience", "add", bad}, 2, nil, []string{
			bad + ":6: country: ", bad + ":7: colour: ", bad + ": text: ", "bad.yaml is not a valid experience record; nothing was published"}},
		{"dry run", []string{"experience", "add", "--dry-run", good}, 0, []string{good + ": valid (lesson _exp/lesson-lille)"}, nil},
		{"dry run json", []string{"experience", "add", good, "--dry-run", "--json"}, 0, []string{`"id": "_exp/lesson-lille"`, `"dry_run": true`}, nil},
		{"dry run invalid", []string{"experience", "add", "--dry-run", bad}, 2, nil, []string{"bad.yaml:6: country"}},
		{"missing file", []string{"experience", "add", filepath.Join(dir, "nope.yaml")}, 2, nil, []string{"nope.yaml: no such file or directory"}},
		{"too large", []string{"experience", "add", big}, 2, nil, []string{"big.yaml: the file is over the limit of 262144 bytes"}},
		{"no daemon", []string{"experience", "add", good}, 3, nil, []string{"no daemon is running for " + home}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, append(tc.args, "--home", home)...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestExperienceUsageErrors(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add"}, "name one experience file"},
		{[]string{"add", "a.yaml", "b.yaml"}, "name one experience file"},
		{[]string{"list", "a", "b"}, "at most one practice"},
		{[]string{"list", "--author", testPub, "--mine"}, "either --author or --mine"},
		{[]string{"list", "--type", "review"}, `--type "review" is not one of adaptation, lesson`},
		{[]string{"retract"}, "name one experience ID, or --endorsement PUBLISHER/ID"},
		{[]string{"retract", "x", "--endorsement", testPub + "/x"}, "not both"},
		{[]string{"retract", "--endorsement", "x"}, `--endorsement "x" is not PUBLISHER/ID`},
		{[]string{"retract", "--endorsement", testPub + "/x/y"}, "is not PUBLISHER/ID"},
		{[]string{"retract", "x", "--reason", "a\x00b"}, "--reason"},
		{[]string{"list", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"experience", tc.args[0], "--home", home}, tc.args[1:]...)
			_, errOut, code := run(t, args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want %d and one line with %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
	for _, args := range [][]string{{"list"}, {"retract", "x"}, {"retract", "--endorsement", testPub + "/x"}} {
		_, errOut, code := run(t, append(append([]string{"experience"}, args...), "--home", home)...)
		if code != exitNoDaemon || !strings.Contains(errOut, "no daemon is running for "+home) {
			t.Errorf("experience %v without a daemon: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// requestLog records the requests a fake daemon received.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q, _ := url.QueryUnescape(r.URL.RawQuery)
	l.reqs = append(l.reqs, r.Method+" "+r.URL.EscapedPath()+"?"+q)
}

func (l *requestLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reqs[len(l.reqs)-1]
}

// TestExperienceRequests checks what each experience command asks of the
// API, against a daemon answering from fixed data.
func TestExperienceRequests(t *testing.T) {
	log := &requestLog{}
	lesson := api.Experience{Publisher: testOther, Slot: "_exp/lesson-lille", Seq: 4, AboutState: api.AboutRetracted,
		Experience: mustParseExperience(t, lessonYAML)}
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		switch {
		case r.URL.Path == "/api/v1/status":
			answerJSON(w, 200, api.Status{PeerID: testOther})
		case r.URL.Path == "/api/v1/practices":
			answerJSON(w, 200, api.PracticeList{Practices: []api.Practice{{Publisher: testPub, ID: "cric-roubaix"}}})
		case r.URL.Path == "/api/v1/experiences" && r.Method == "GET":
			answerJSON(w, 200, api.ExperienceList{Experiences: []api.Experience{lesson}})
		case r.Method == "POST" && r.Header.Get("Authorization") != "Bearer secret":
			answerJSON(w, 401, api.Error{Error: "token"})
		case strings.HasSuffix(r.URL.Path, "/retract"):
			answerJSON(w, 200, api.Published{Publisher: testOther, ID: "x", Seq: 9})
		case r.URL.Path == "/api/v1/experiences":
			answerJSON(w, 200, api.Published{Publisher: testOther, ID: "_exp/lesson-lille", Seq: 5})
		default:
			answerJSON(w, 404, api.Error{Error: "no"})
		}
	}))
	file := filepath.Join(t.TempDir(), "lesson.yaml")
	writeTestFile(t, file, lessonYAML)
	for _, tc := range []struct {
		args      []string
		request   string
		stdout    string
		notStdout string
	}{
		{[]string{"add", file}, "POST /api/v1/experiences?", "published lesson _exp/lesson-lille seq 5", ""},
		{[]string{"list"}, "GET /api/v1/experiences?", "lesson-lille", ""},
		{[]string{"list", "cric-roubaix", "--type", "lesson"}, "GET /api/v1/experiences?id=cric-roubaix&publisher=" + testPub + "&type=lesson", "(retracted)", ""},
		{[]string{"list", testPub + "/cric-roubaix", "--mine"}, "GET /api/v1/experiences?id=cric-roubaix&mine=1&publisher=" + testPub, "AUTHOR", ""},
		{[]string{"list", "--author", testOther, "--json"}, "GET /api/v1/experiences?author=" + testOther, `"about_state": "retracted"`, "AUTHOR"},
		{[]string{"retract", "lesson-lille", "--reason", "wrong"}, "POST /api/v1/experiences/lesson-lille/retract?", "retracted x seq 9", ""},
		{[]string{"retract", "--endorsement", testPub + "/cric-roubaix"}, "POST /api/v1/endorsements/" + testPub + "/cric-roubaix/retract?", "retracted x seq 9", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, append(append([]string{"experience"}, tc.args...), "--home", d.home)...)
			if code != 0 || !strings.Contains(out, tc.stdout) || (tc.notStdout != "" && strings.Contains(out, tc.notStdout)) {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nwant %q", code, out, errOut, tc.stdout)
			}
			if got := log.last(); got != tc.request {
				t.Fatalf("the last request was %q, want %q", got, tc.request)
			}
		})
	}
}

func mustParseExperience(t *testing.T, text string) *protocol.Experience {
	t.Helper()
	e, err := protocol.ParseExperience([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPrintExperiences(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.Local)
	e := mustParseExperience(t, lessonYAML)
	e.Title = strings.Repeat("Long title ", 20)
	end := &protocol.Experience{Type: protocol.ExperienceEndorsement, About: e.About, Language: "en", Text: "We\nrecommend   it."}
	var b strings.Builder
	printExperiences(&b, []api.Experience{
		{Publisher: testOther, AuthorName: "Ville de Lille", Slot: "_exp/lesson-lille", Time: at, AboutState: api.AboutNotHeld, Experience: e},
		{Publisher: testOther, Slot: "_endorse/x", Time: at, AboutState: api.AboutHeld, Experience: end},
	}, 120)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "AUTHOR          TYPE         ID            ABOUT") ||
		!strings.Contains(lines[1], "Ville de Lille  lesson       lesson-lille  …eAto4Az7/cric-roubaix (not held)  2025-06-01  Long title") ||
		!strings.HasSuffix(lines[1], "…") || !strings.Contains(lines[2], "…3H4FvT3h       endorsement  -") || !strings.HasSuffix(lines[2], "We recommend it.") {
		t.Fatalf("table:\n%s", b.String())
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}
	b.Reset()
	printExperiences(&b, nil, 80)
	if b.String() != "no experience records known here\n" {
		t.Fatalf("empty: %q", b.String())
	}
}

// answerTo is an answer with ID id replying to (pub, to).
func answerTo(id, pub, to string) api.Experience {
	p, _ := peer.Decode(pub)
	return api.Experience{Publisher: testOther, Slot: protocol.ExperienceSlot(id),
		Experience: &protocol.Experience{Type: protocol.ExperienceAnswer, ID: id, Text: "Answer " + id,
			InReplyTo: protocol.Ref{Publisher: p, ID: to}}}
}

func TestThreadExperiences(t *testing.T) {
	q := api.Experience{Publisher: testPub, Slot: "_exp/q", Experience: &protocol.Experience{Type: protocol.ExperienceQuestion, ID: "q", Title: "Q?"}}
	es := []api.Experience{
		answerTo("a2", testPub, "q"),         // 0: answers q, listed before it
		q,                                    // 1
		answerTo("a3", testOther, "a2"),      // 2: answers a2
		answerTo("orphan", testPub, "gone"),  // 3: its question is not held
		answerTo("c1", testOther, "c2"),      // 4: c1 and c2 answer each other
		answerTo("c2", testOther, "c1"),      // 5
		answerTo("a4", testPub, "q"),         // 6: a second answer to q
		answerTo("self", testOther, "self"),  // 7: answers itself
		answerTo("a5", testOther, "no-such"), // 8
	}
	got := threadExperiences(es)
	want := []threadNode{{1, 0}, {0, 1}, {2, 2}, {6, 1}, {3, 0}, {7, 0}, {8, 0}, {4, 0}, {5, 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("threads %v, want %v", got, want)
	}
}

func TestPrintPracticeExperiences(t *testing.T) {
	now := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	adapt := &protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "adapt-lille", Language: "en", Title: "A council in Lille",
		Country: "FR", City: "Lille", StartYear: 2019, Ongoing: true, Changes: "Smaller.", Achievement: "partially", Evaluation: "internal"}
	q := &protocol.Experience{Type: protocol.ExperienceQuestion, ID: "ask", Title: "Who chairs it?", Text: "Is the chair elected?"}
	pe := api.PracticeExperiences{
		State:  api.AboutHeld,
		Counts: api.ExperienceCounts{Adaptations: 1, Questions: 1, Answers: 1},
		Experiences: []api.Experience{
			{Publisher: testOther, AuthorName: "Ville de Lille", Slot: "_exp/adapt-lille", Time: now.Add(-2 * time.Hour), Experience: adapt},
			{Publisher: testOther, AuthorName: "Ville de Lille", Slot: "_exp/ask", Time: now.Add(-time.Hour), Experience: q},
			answerTo("yes", testOther, "ask"),
		},
		AdaptedIn: []api.Adaptation{{Country: "FR", City: "Lille", StartYear: 2019, Author: testOther, AuthorName: "Ville de Lille", ID: "adapt-lille",
			Practice: &api.PracticeRef{Publisher: testOther, ID: "conseil-lille"}}},
	}
	var b strings.Builder
	printPracticeExperiences(&b, pe, now, 200)
	out := b.String()
	for _, want := range []string{
		"\nExperiences\n-----------\n",
		"Records:           1 adaptation, 1 question, 1 answer\n",
		"Adapted in:        Lille, FR (2019), by Ville de Lille; resulting practice " + testOther + "/conseil-lille\n",
		"\nAdaptation adapt-lille by Ville de Lille, 2 hours ago (" + testOther + ")\n  A council in Lille\n  Where: Lille, FR, 2019–ongoing\n  Changes: Smaller.\n  Result: achievement partially, evaluation internal\n",
		"\nQuestion ask by Ville de Lille, 1 hour ago (" + testOther + ")\n  Who chairs it?\n  Is the chair elected?\n",
		"\n    Answer yes by …3H4FvT3h\n      Answer yes\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	printPracticeExperiences(&b, api.PracticeExperiences{}, now, 80)
	if !strings.Contains(b.String(), "Records:           none known here\n") {
		t.Errorf("no records:\n%s", b.String())
	}
}
