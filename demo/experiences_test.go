package demo

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// seedFiles are the seed documents (shared/seeds) a file may rest on.
var seedFiles = []string{
	"cor-study-integration-practices-lra-2012.txt", "al-khantara-eu-summary.txt", "al-khantara-project-it.txt",
	"best-practices-palermo-venice.txt", "resoma-consultation-local-integration.txt",
}

// TestPlaceholder checks that Placeholder is the key ID PlaceholderID
// says it is.
func TestPlaceholder(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "khantara demo: placeholder key..")
	key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if placeholderErr != nil || Placeholder != id || !protocol.IsKey(Placeholder) {
		t.Fatalf("Placeholder is %s (%v), the seed's key ID is %s", Placeholder, placeholderErr, id)
	}
}

// TestExperienceFiles parses every embedded file as a receiver's author
// would (ParseExperience and Validate, the placeholder filled in), and
// checks the set: its size, every type and several languages covered,
// every file saying which seed facts it rests on, every file named in
// authors.yaml.
func TestExperienceFiles(t *testing.T) {
	names, err := fs.Glob(ExperienceFiles, "experiences/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	types, langs := map[protocol.ExperienceType]int{}, map[string]bool{}
	cites := regexp.MustCompile(`(?m)^# Seed facts: ([a-z0-9-]+\.txt)`)
	for _, name := range names {
		if strings.HasSuffix(name, "/"+authorsFile) {
			continue
		}
		data, err := ExperienceFiles.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		e, err := protocol.ParseExperience(bytes.ReplaceAll(data, []byte(PlaceholderToken), []byte(PlaceholderID)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		types[e.Type]++
		langs[e.Language] = true
		if m := cites.FindSubmatch(data); m == nil || !slices.Contains(seedFiles, string(m[1])) {
			t.Errorf("%s: no \"# Seed facts: <seed file>\" comment naming one of %v", name, seedFiles)
		}
	}
	if n := len(names) - 1; n < 20 || n > 30 {
		t.Errorf("%d experience files, want 20 to 30", n)
	}
	for _, typ := range protocol.ExperienceTypes {
		if types[protocol.ExperienceType(typ)] == 0 {
			t.Errorf("no demo experience of type %s", typ)
		}
	}
	if len(langs) < 3 {
		t.Errorf("languages %v: want at least 3", langs)
	}
	exps, err := Experiences()
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != len(names)-1 {
		t.Errorf("Experiences gave %d records for %d files", len(exps), len(names)-1)
	}
}

// TestExperienceReferences checks, apart from the loader, that every
// about, practice and in_reply_to names a demo practice or experience
// that exists, that answers answer questions (or answers) about the same
// practice after them in publishing order, and that every question is
// answered.
func TestExperienceReferences(t *testing.T) {
	sheets, err := ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	practices := map[string]bool{}
	for _, s := range sheets {
		practices[s.ID] = true
	}
	exps, err := Experiences()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, e := range exps {
		at[e.Record.ID] = i
	}
	answered := map[string]bool{}
	for i, e := range exps {
		r := e.Record
		if !practices[r.About.ID] {
			t.Errorf("%s: about.id %q is no demo practice", e.Name, r.About.ID)
		}
		if !r.Practice.IsZero() && (!practices[r.Practice.ID] || r.Practice.ID == r.About.ID) {
			t.Errorf("%s: practice.id %q is no other demo practice", e.Name, r.Practice.ID)
		}
		if r.Type != protocol.ExperienceAnswer {
			continue
		}
		j, ok := at[r.InReplyTo.ID]
		switch {
		case !ok || r.InReplyTo.ID == "":
			t.Errorf("%s: in_reply_to.id %q is no demo experience", e.Name, r.InReplyTo.ID)
		case j >= i:
			t.Errorf("%s is published before %s, which it answers", e.Name, exps[j].Name)
		case exps[j].Record.About != r.About:
			t.Errorf("%s answers %s, about another practice", e.Name, exps[j].Name)
		case exps[j].Record.Type != protocol.ExperienceQuestion && exps[j].Record.Type != protocol.ExperienceAnswer:
			t.Errorf("%s answers %s, a %s", e.Name, exps[j].Name, exps[j].Record.Type)
		default:
			answered[exps[j].Name] = true
		}
	}
	for _, e := range exps {
		if e.Record.Type == protocol.ExperienceQuestion && !answered[e.Name] {
			t.Errorf("question %s has no answer", e.Name)
		}
	}
}

// orgOf finds, apart from Place, the organisation that publishes the
// sheet id, or the sheets of country c when id is "".
func orgOf(pubs []Publisher, id, c string) int {
	for _, p := range pubs {
		for _, s := range p.Sheets {
			if s.ID == id || id == "" && s.Country == c {
				return p.For
			}
		}
	}
	return -1
}

// TestPlaceEveryLayout lays the experiences out over every demo
// federation, 2 to 8 nodes, and checks the result against the sheets
// themselves: who writes each record (another organisation than the
// practice's, except for answers), one endorsement per organisation and
// practice, one ID per organisation, and records that resolve with real
// organisation IDs and validate without changing the shared ones.
func TestPlaceEveryLayout(t *testing.T) {
	exps, err := Experiences()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]peer.ID, 10)
	for i := range ids {
		_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if ids[i], err = peer.IDFromPublicKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	for n := MinNodes; n <= MaxNodes; n++ {
		pubs, err := Publishers(n)
		if err != nil {
			t.Fatal(err)
		}
		orgs := Organisations(pubs)
		placed, err := Place(pubs, exps)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		slots, authorOf := map[string]string{}, map[string]int{}
		for _, p := range placed {
			authorOf[p.Record.ID] = p.Author
			r := p.Record
			author := slices.IndexFunc(orgs, func(o Organisation) bool { return o.Network })
			if p.By != AuthorNetwork {
				author = orgOf(pubs, "", p.By)
			}
			about := orgOf(pubs, r.About.ID, "")
			if p.Author != author || p.About != about || author < 0 {
				t.Errorf("n=%d: %s: Place says %d about %d, the sheets say %d about %d", n, p.Name, p.Author, p.About, author, about)
			}
			if (r.Type == protocol.ExperienceAnswer) != (author == about) {
				t.Errorf("n=%d: %s (%s) is written by %s about a practice of %s", n, p.Name, r.Type, orgs[author].Slug, orgs[about].Slug)
			}
			slot := fmt.Sprint(p.Author, r.Slot())
			if other, dup := slots[slot]; dup {
				t.Errorf("n=%d: %s and %s share the slot %s of %s", n, p.Name, other, r.Slot(), orgs[p.Author].Slug)
			}
			slots[slot] = p.Name
			e, err := p.Resolve(ids[:len(orgs)])
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			if e.About.Publisher != ids[about] || r.About.Publisher != Placeholder {
				t.Errorf("n=%d: %s resolved about %s (shared copy: %s)", n, p.Name, e.About.Publisher, r.About.Publisher)
			}
			if r.Type == protocol.ExperienceAnswer && (e.InReplyTo.Publisher != ids[p.Reply] || p.Reply != authorOf[r.InReplyTo.ID]) {
				t.Errorf("n=%d: %s replies to %s's record, resolved as %s", n, p.Name, orgs[p.Reply].Slug, e.InReplyTo.Publisher)
			}
			if !r.Practice.IsZero() && e.Practice.Publisher != ids[orgOf(pubs, r.Practice.ID, "")] {
				t.Errorf("n=%d: %s: practice resolved as %s", n, p.Name, e.Practice.Publisher)
			}
		}
	}
}

// expFile is a minimal valid experience file of type typ about the
// practice about, as a staff member writes it.
func expFile(typ, id, about, extra string) string {
	s := "type: " + typ + "\n"
	if id != "" {
		s += "id: " + id + "\n"
	}
	s += "about: {publisher: " + PlaceholderToken + ", id: " + about + "}\nlanguage: en\n"
	switch typ {
	case "adaptation":
		s += "title: T\ncountry: IT\nstart_year: 2010\nchanges: C\n"
	case "lesson", "question":
		s += "title: T\ntext: X\n"
	case "answer":
		s += "text: X\n"
	}
	return s + extra
}

// TestExperiencesRefuse feeds the loader broken sets of files: each must
// be refused with an error that names the problem.
func TestExperiencesRefuse(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	reply := func(to string) string { return "in_reply_to: {publisher: " + PlaceholderToken + ", id: " + to + "}\n" }
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"no authors file", fstest.MapFS{"a-lesson.yaml": file(expFile("lesson", "a-lesson", "cric-roubaix", ""))}, "authors"},
		{"file without author", fstest.MapFS{
			authorsFile:     file("other: DE\n"),
			"a-lesson.yaml": file(expFile("lesson", "a-lesson", "cric-roubaix", "")),
		}, "no author"},
		{"author without file", fstest.MapFS{
			authorsFile:     file("a-lesson: DE\nghost: DE\n"),
			"a-lesson.yaml": file(expFile("lesson", "a-lesson", "cric-roubaix", "")),
		}, "ghost"},
		{"bad author", fstest.MapFS{
			authorsFile:     file("a-lesson: Germany\n"),
			"a-lesson.yaml": file(expFile("lesson", "a-lesson", "cric-roubaix", "")),
		}, "Germany"},
		{"invalid record", fstest.MapFS{
			authorsFile:     file("a-lesson: DE\n"),
			"a-lesson.yaml": file(strings.Replace(expFile("lesson", "a-lesson", "cric-roubaix", ""), "title: T\n", "", 1)),
		}, "title"},
		{"real publisher ID", fstest.MapFS{
			authorsFile:     file("a-lesson: DE\n"),
			"a-lesson.yaml": file(strings.Replace(expFile("lesson", "a-lesson", "cric-roubaix", ""), PlaceholderToken, "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7", 1)),
		}, PlaceholderToken},
		{"ID other than the file name", fstest.MapFS{
			authorsFile:     file("a-lesson: DE\n"),
			"a-lesson.yaml": file(expFile("lesson", "b-lesson", "cric-roubaix", "")),
		}, "file's name"},
		{"answer to nothing", fstest.MapFS{
			authorsFile:      file("an-answer: FR\n"),
			"an-answer.yaml": file(expFile("answer", "an-answer", "cric-roubaix", reply("missing"))),
		}, "missing"},
		{"answer to a lesson", fstest.MapFS{
			authorsFile:      file("a-lesson: DE\nan-answer: FR\n"),
			"a-lesson.yaml":  file(expFile("lesson", "a-lesson", "cric-roubaix", "")),
			"an-answer.yaml": file(expFile("answer", "an-answer", "cric-roubaix", reply("a-lesson"))),
		}, "not a question"},
		{"answer about another practice", fstest.MapFS{
			authorsFile:       file("a-question: DE\nan-answer: FR\n"),
			"a-question.yaml": file(expFile("question", "a-question", "letra-madrid", "")),
			"an-answer.yaml":  file(expFile("answer", "an-answer", "cric-roubaix", reply("a-question"))),
		}, "letra-madrid"},
		{"answers in a loop", fstest.MapFS{
			authorsFile:     file("answer-a: FR\nanswer-b: FR\n"),
			"answer-a.yaml": file(expFile("answer", "answer-a", "cric-roubaix", reply("answer-b"))),
			"answer-b.yaml": file(expFile("answer", "answer-b", "cric-roubaix", reply("answer-a"))),
		}, "loops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadExperiences(tc.fs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestPlaceRefuses lays out records that break the demo's rules over the
// two-node federation (FR and IT in one organisation, DE in the other).
func TestPlaceRefuses(t *testing.T) {
	pubs, err := Publishers(2)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(by, typ, id, about, extra string) Experience {
		t.Helper()
		e, err := protocol.ParseExperience([]byte(strings.ReplaceAll(expFile(typ, id, about, extra), PlaceholderToken, PlaceholderID)))
		if err != nil {
			t.Fatal(err)
		}
		return Experience{Name: cmp.Or(id, typ), By: by, Record: e}
	}
	q := rec("DE", "question", "a-question", "cric-roubaix", "")
	reply := "in_reply_to: {publisher: " + PlaceholderToken + ", id: a-question}\n"
	for _, tc := range []struct {
		name string
		exps []Experience
		want string
	}{
		{"author with no organisation", []Experience{rec("PT", "lesson", "a-lesson", "cric-roubaix", "")}, "PT"},
		{"no such practice", []Experience{rec("DE", "lesson", "a-lesson", "no-such-practice", "")}, "no-such-practice"},
		{"no such resulting practice", []Experience{rec("DE", "adaptation", "an-adaptation", "cric-roubaix",
			"practice: {publisher: "+PlaceholderToken+", id: no-such-practice}\n")}, "no-such-practice"},
		{"lesson by the practice's own", []Experience{rec("IT", "lesson", "a-lesson", "cric-roubaix", "")}, "another organisation"},
		{"answer by another", []Experience{q, rec("DE", "answer", "an-answer", "cric-roubaix", reply)}, "practice's own organisation"},
		{"answer before its question", []Experience{rec("FR", "answer", "an-answer", "cric-roubaix", reply), q}, "a-question"},
		{"two endorsements by one organisation", []Experience{
			rec("DE", "endorsement", "", "cric-roubaix", ""), rec("PL", "endorsement", "", "cric-roubaix", ""),
		}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Place(pubs, tc.exps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
