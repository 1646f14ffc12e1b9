package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/libp2p/go-libp2p/core/peer"
)

// expPractice is the practice the test records are about: 11.1's, by the
// key with seed 7.
func expPractice(t testing.TB) About {
	return About{Publisher: idOf(t, testKey(t, 7)), ID: "cric-roubaix", Seq: 1}
}

// testExperience returns a valid record of type typ giving every member
// the type allows (full) or only those it requires.
func testExperience(t testing.TB, typ ExperienceType, full bool) *Experience {
	t.Helper()
	e := &Experience{Type: typ, ID: "exp-" + string(typ), About: expPractice(t), Language: "en"}
	org := OrgID([]byte("adapter"))
	switch typ {
	case ExperienceAdaptation:
		e.Title, e.Country, e.StartYear, e.Changes = "Citizens' council in Lille", "FR", 2019, "Smaller council, meets in libraries."
		if full {
			e.Text, e.Region, e.City, e.Ongoing = "We adapted it.", "Hauts-de-France", "Lille", true
			e.Achievement, e.Evaluation, e.Outcomes = "partially", "internal", "Turnout doubled."
			e.Practice = Ref{Publisher: org, ID: "conseil-lille"}
		}
	case ExperienceLesson:
		e.Title, e.Text = "What we learned", "Start small."
		if full {
			e.Worked, e.DidNotWork, e.ForWhom = "Evening meetings.", "Online votes.", "Mid-sized cities."
		}
	case ExperienceQuestion:
		e.Title, e.Text = "Who chairs it?", "Is the chair elected?"
	case ExperienceAnswer:
		e.Text, e.InReplyTo = "Yes, every two years.", Ref{Publisher: org, ID: "exp-question"}
		if full {
			e.Title = "The chair"
		}
	case ExperienceEndorsement:
		e.ID = ""
		if full {
			e.Text = "We recommend it."
		}
	}
	if full {
		tr := ExperienceTranslation{Text: "Traduit."}
		if typ != ExperienceEndorsement {
			tr.Title = "Titre"
		}
		e.Translations = map[string]ExperienceTranslation{"fr": tr}
	}
	return e
}

func TestExperienceValid(t *testing.T) {
	for _, typ := range expAll {
		for _, full := range []bool{false, true} {
			if err := testExperience(t, typ, full).Validate(); err != nil {
				t.Errorf("%s (full %v): %v", typ, full, err)
			}
		}
	}
	// Optional members of their type, left out or given.
	for name, mutate := range map[string]func(e *Experience){
		"adaptation without text":     func(e *Experience) { e.Text = "" },
		"adaptation with end year":    func(e *Experience) { e.Ongoing, e.EndYear = false, 2020 },
		"about without seq":           func(e *Experience) { e.About.Seq = 0 },
		"about an organisation":       func(e *Experience) { e.About.Publisher = OrgID([]byte("o")) },
		"about seq 2^53-1":            func(e *Experience) { e.About.Seq = MaxSeq },
		"30 translations":             func(e *Experience) { e.Translations = translations(MaxExperienceTranslations, "T", "x") },
		"translation without text":    func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"it": {Title: "T"}} },
		"text of 8000 code points":    func(e *Experience) { e.Text = strings.Repeat("é", MaxTextLen) },
		"end year equal to start":     func(e *Experience) { e.Ongoing, e.EndYear = false, e.StartYear },
		"own language variant in key": func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"en-GB": {Title: "T"}} },
	} {
		e := testExperience(t, ExperienceAdaptation, true)
		mutate(e)
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	answer := testExperience(t, ExperienceAnswer, true)
	answer.Title, answer.Translations = "", map[string]ExperienceTranslation{"fr": {Text: "Oui."}}
	if err := answer.Validate(); err != nil {
		t.Errorf("answer without titles: %v", err)
	}
	end := testExperience(t, ExperienceEndorsement, true)
	end.Text = strings.Repeat("é", MaxEndorsementTextLen)
	end.Translations = map[string]ExperienceTranslation{"fr": {Text: strings.Repeat("é", MaxEndorsementTextLen)}}
	if err := end.Validate(); err != nil {
		t.Errorf("endorsement of 500 code points: %v", err)
	}
}

// translations returns n translations with title and text.
func translations(n int, title, text string) map[string]ExperienceTranslation {
	m := map[string]ExperienceTranslation{}
	for i := 0; len(m) < n; i++ {
		tag := string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + "-" + string(rune('A'+i/676)) + "Z"
		if tag[:2] != "en" {
			m[tag] = ExperienceTranslation{Title: title, Text: text}
		}
	}
	return m
}

func TestExperienceInvalid(t *testing.T) {
	rsa := peer.ID("\x12\x20" + strings.Repeat("\x01", 32)) // a peer ID of neither form
	tests := []struct {
		name   string
		typ    ExperienceType
		mutate func(e *Experience)
		path   string
		msg    string
	}{
		{"type absent", ExperienceLesson, func(e *Experience) { e.Type = "" }, "type", "is required"},
		{"type unknown", ExperienceLesson, func(e *Experience) { e.Type = "review" }, "type", `"review" is not one of adaptation, lesson`},
		{"type unknown still checks values", ExperienceLesson, func(e *Experience) { e.Type, e.Country = "review", "UK" }, "country", "not ISO 3166-1"},
		{"id absent", ExperienceQuestion, func(e *Experience) { e.ID = "" }, "id", "is required in a question"},
		{"id grammar", ExperienceLesson, func(e *Experience) { e.ID = "Exp_1" }, "id", "use 3-64 characters"},
		{"id in endorsement", ExperienceEndorsement, func(e *Experience) { e.ID = "endorse-1" }, "id", "is not allowed in an endorsement"},
		{"about absent", ExperienceLesson, func(e *Experience) { e.About = About{} }, "about", "is required"},
		{"about publisher absent", ExperienceLesson, func(e *Experience) { e.About.Publisher = "" }, "about.publisher", "is required"},
		{"about publisher other form", ExperienceLesson, func(e *Experience) { e.About.Publisher = rsa }, "about.publisher", "neither"},
		{"about id absent", ExperienceLesson, func(e *Experience) { e.About.ID = "" }, "about.id", "is required"},
		{"about id grammar", ExperienceLesson, func(e *Experience) { e.About.ID = "_profile" }, "about.id", "use 3-64"},
		{"about seq 2^53", ExperienceLesson, func(e *Experience) { e.About.Seq = MaxSeq + 1 }, "about.seq", "between 1 and"},
		{"language absent", ExperienceLesson, func(e *Experience) { e.Language = "" }, "language", "is required"},
		{"language form", ExperienceLesson, func(e *Experience) { e.Language = "EN" }, "language", "canonical form"},
		{"title absent adaptation", ExperienceAdaptation, func(e *Experience) { e.Title = "" }, "title", "is required in an adaptation"},
		{"title absent lesson", ExperienceLesson, func(e *Experience) { e.Title = "" }, "title", "is required in a lesson"},
		{"title absent question", ExperienceQuestion, func(e *Experience) { e.Title = "" }, "title", "is required in a question"},
		{"title blank", ExperienceQuestion, func(e *Experience) { e.Title = " " }, "title", "is required"},
		{"title two lines", ExperienceQuestion, func(e *Experience) { e.Title = "a\nb" }, "title", "single line"},
		{"title 301", ExperienceQuestion, func(e *Experience) { e.Title = strings.Repeat("é", MaxTitleLen+1) }, "title", "at most 300"},
		{"title in endorsement", ExperienceEndorsement, func(e *Experience) { e.Title = "Great" }, "title", "is not allowed in an endorsement"},
		{"text absent lesson", ExperienceLesson, func(e *Experience) { e.Text = "" }, "text", "is required in a lesson"},
		{"text absent question", ExperienceQuestion, func(e *Experience) { e.Text = "" }, "text", "is required in a question"},
		{"text absent answer", ExperienceAnswer, func(e *Experience) { e.Text = "" }, "text", "is required in an answer"},
		{"text 8001", ExperienceLesson, func(e *Experience) { e.Text = strings.Repeat("é", MaxTextLen+1) }, "text", "at most 8000"},
		{"text control", ExperienceLesson, func(e *Experience) { e.Text = "a\x1bb" }, "text", "control character"},
		{"endorsement text 501", ExperienceEndorsement, func(e *Experience) { e.Text = strings.Repeat("é", MaxEndorsementTextLen+1) }, "text", "at most 500"},
		{"in_reply_to absent", ExperienceAnswer, func(e *Experience) { e.InReplyTo = Ref{} }, "in_reply_to", "is required in an answer"},
		{"in_reply_to in question", ExperienceQuestion, func(e *Experience) { e.InReplyTo = Ref{Publisher: e.About.Publisher, ID: "abc"} }, "in_reply_to", "answer only"},
		{"in_reply_to id absent", ExperienceAnswer, func(e *Experience) { e.InReplyTo.ID = "" }, "in_reply_to.id", "is required"},
		{"in_reply_to publisher absent", ExperienceAnswer, func(e *Experience) { e.InReplyTo.Publisher = "" }, "in_reply_to.publisher", "is required"},
		{"in_reply_to id grammar", ExperienceAnswer, func(e *Experience) { e.InReplyTo.ID = "_exp/abc" }, "in_reply_to.id", "use 3-64"},
		{"country absent", ExperienceAdaptation, func(e *Experience) { e.Country = "" }, "country", "is required in an adaptation"},
		{"country code", ExperienceAdaptation, func(e *Experience) { e.Country = "EL" }, "country", "not ISO 3166-1"},
		{"country in lesson", ExperienceLesson, func(e *Experience) { e.Country = "FR" }, "country", "is not allowed in a lesson (adaptation only)"},
		{"region in question", ExperienceQuestion, func(e *Experience) { e.Region = "Nord" }, "region", "adaptation only"},
		{"city in answer", ExperienceAnswer, func(e *Experience) { e.City = "Lille" }, "city", "adaptation only"},
		{"city 201", ExperienceAdaptation, func(e *Experience) { e.City = strings.Repeat("x", MaxPlaceLen+1) }, "city", "at most 200"},
		{"start_year absent", ExperienceAdaptation, func(e *Experience) { e.StartYear = 0 }, "start_year", "is required in an adaptation"},
		{"start_year 1899", ExperienceAdaptation, func(e *Experience) { e.StartYear = 1899 }, "start_year", "between 1900 and 2100"},
		{"start_year in lesson", ExperienceLesson, func(e *Experience) { e.StartYear = 2020 }, "start_year", "adaptation only"},
		{"end_year before start", ExperienceAdaptation, func(e *Experience) { e.EndYear = 2018 }, "end_year", "must not be before start_year"},
		{"end_year 2101", ExperienceAdaptation, func(e *Experience) { e.EndYear = 2101 }, "end_year", "between 1900 and 2100"},
		{"end_year in endorsement", ExperienceEndorsement, func(e *Experience) { e.EndYear = 2020 }, "end_year", "adaptation only"},
		{"ongoing with end_year", ExperienceAdaptation, func(e *Experience) { e.Ongoing, e.EndYear = true, 2020 }, "ongoing", "remove one of them"},
		{"ongoing in question", ExperienceQuestion, func(e *Experience) { e.Ongoing = true }, "ongoing", "adaptation only"},
		{"changes absent", ExperienceAdaptation, func(e *Experience) { e.Changes = "" }, "changes", "is required in an adaptation"},
		{"changes blank", ExperienceAdaptation, func(e *Experience) { e.Changes = "\u3000" }, "changes", "only white space"},
		{"changes in lesson", ExperienceLesson, func(e *Experience) { e.Changes = "x" }, "changes", "adaptation only"},
		{"achievement code", ExperienceAdaptation, func(e *Experience) { e.Achievement = "yes" }, "achievement", "is not one of fully"},
		{"achievement in lesson", ExperienceLesson, func(e *Experience) { e.Achievement = "fully" }, "achievement", "adaptation only"},
		{"evaluation code", ExperienceAdaptation, func(e *Experience) { e.Evaluation = "self" }, "evaluation", "is not one of internal"},
		{"evaluation in answer", ExperienceAnswer, func(e *Experience) { e.Evaluation = "none" }, "evaluation", "adaptation only"},
		{"outcomes in question", ExperienceQuestion, func(e *Experience) { e.Outcomes = "x" }, "outcomes", "adaptation only"},
		{"outcomes 8001", ExperienceAdaptation, func(e *Experience) { e.Outcomes = strings.Repeat("x", MaxTextLen+1) }, "outcomes", "at most 8000"},
		{"practice in lesson", ExperienceLesson, func(e *Experience) { e.Practice = Ref{Publisher: e.About.Publisher, ID: "abc"} }, "practice", "adaptation only"},
		{"practice id absent", ExperienceAdaptation, func(e *Experience) { e.Practice = Ref{Publisher: e.About.Publisher} }, "practice.id", "is required"},
		{"practice publisher other form", ExperienceAdaptation, func(e *Experience) { e.Practice = Ref{Publisher: rsa, ID: "abc"} }, "practice.publisher", "neither"},
		{"worked in adaptation", ExperienceAdaptation, func(e *Experience) { e.Worked = "x" }, "worked", "lesson only"},
		{"did_not_work in question", ExperienceQuestion, func(e *Experience) { e.DidNotWork = "x" }, "did_not_work", "lesson only"},
		{"for_whom in endorsement", ExperienceEndorsement, func(e *Experience) { e.ForWhom = "x" }, "for_whom", "lesson only"},
		{"for_whom 8001", ExperienceLesson, func(e *Experience) { e.ForWhom = strings.Repeat("x", MaxTextLen+1) }, "for_whom", "at most 8000"},
		{"31 translations", ExperienceLesson, func(e *Experience) { e.Translations = translations(MaxExperienceTranslations+1, "T", "x") }, "translations", "at most 30"},
		{"translation key", ExperienceLesson, func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"french": {Title: "T"}} }, "translations.french", "not a BCP 47"},
		{"translation key is language", ExperienceLesson, func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"en": {Title: "T"}} }, "translations.en", "own language"},
		{"translation title absent", ExperienceLesson, func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"fr": {Text: "x"}} }, "translations.fr.title", "is required"},
		{"translation title in endorsement", ExperienceEndorsement, func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"fr": {Title: "T"}} }, "translations.fr.title", "not allowed in an endorsement"},
		{"translation text 501 in endorsement", ExperienceEndorsement, func(e *Experience) {
			e.Translations = map[string]ExperienceTranslation{"fr": {Text: strings.Repeat("x", MaxEndorsementTextLen+1)}}
		}, "translations.fr.text", "at most 500"},
		{"translation title two lines", ExperienceAnswer, func(e *Experience) { e.Translations = map[string]ExperienceTranslation{"fr": {Title: "a\u2028b"}} }, "translations.fr.title", "single line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testExperience(t, tc.typ, false)
			tc.mutate(e)
			wantProblem(t, e.Validate(), tc.path, tc.msg)
			// The same problem inside an announcement has the body's path.
			a := &Announcement{V: Version, Publisher: idOf(t, testKey(t, 1)), Seq: 1, Time: t0, Kind: KindExperience, Experience: e}
			wantProblem(t, a.Validate(), "experience."+tc.path, tc.msg)
		})
	}
}

// wantProblem fails unless err is a validation error with a problem at
// path whose message contains msg.
func wantProblem(t testing.TB, err error, path, msg string) {
	t.Helper()
	var ve *ValidationError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) {
		t.Fatalf("got %v, want a validation error", err)
	}
	for _, p := range ve.Problems {
		if p.Path == path && strings.Contains(p.Msg, msg) {
			return
		}
	}
	t.Fatalf("no problem at %q containing %q; got:\n%v", path, msg, err)
}

func TestExperienceAnnouncement(t *testing.T) {
	key := testKey(t, 1)
	// The body must match the kind, alone.
	e := testExperience(t, ExperienceLesson, false)
	a := &Announcement{V: Version, Seq: 1, Time: t0, Kind: KindExperience}
	if _, err := Seal(a, key); err == nil {
		t.Fatal("kind experience without a body sealed")
	} else {
		wantProblem(t, err, "experience", "is required")
	}
	a = &Announcement{V: Version, Seq: 1, Time: t0, Kind: KindExperience, Experience: e, Retract: &Retraction{ID: "abc"}}
	if _, err := Seal(a, key); err == nil {
		t.Fatal("two bodies sealed")
	} else {
		wantProblem(t, err, "", "exactly one of")
	}
	a = &Announcement{V: Version, Seq: 1, Time: t0, Kind: KindPractice, Experience: e}
	if _, err := Seal(a, key); err == nil {
		t.Fatal("an experience body under kind practice sealed")
	}
}

func TestExperienceRoundTrip(t *testing.T) {
	key := testKey(t, 1)
	for _, typ := range expAll {
		t.Run(string(typ), func(t *testing.T) {
			e := testExperience(t, typ, true)
			want := *e
			s := mustSeal(t, &Announcement{V: Version, Seq: 3, Time: t0, Kind: KindExperience, Experience: e}, key)
			got, err := Open(s.Envelope())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Announcement().Experience, &want) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", got.Announcement().Experience, want)
			}
			if got.Hash() != s.Hash() || got.Slot() != want.Slot() {
				t.Fatalf("hash or slot differ: %s %s", got.Slot(), want.Slot())
			}
			// The members are written in the canonical order of 13.2.
			body, err := json.Marshal(got.Announcement().Experience, json.Deterministic(true))
			if err != nil {
				t.Fatal(err)
			}
			names := memberNames(t, body)
			last := -1
			for _, n := range names {
				i := slices.Index(expMemberOrder, n)
				if i <= last {
					t.Fatalf("member %s out of order in %s", n, body)
				}
				last = i
			}
			if len(names) < 5 {
				t.Fatalf("members %v", names)
			}
		})
	}
}

// memberNames lists the member names of the JSON object b, in order.
func memberNames(t testing.TB, b []byte) []string {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		t.Fatalf("not an object: %s", b)
	}
	var names []string
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.String())
		if err := dec.SkipValue(); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// expMemberOrder is the canonical member order of PROTOCOL.md 13.2.
var expMemberOrder = []string{"type", "id", "about", "language", "title", "text", "in_reply_to", "country", "region", "city",
	"start_year", "end_year", "ongoing", "changes", "achievement", "evaluation", "outcomes", "practice", "worked",
	"did_not_work", "for_whom", "translations"}

func TestExperienceMemberOrderMatchesStruct(t *testing.T) {
	var names []string
	typ := reflect.TypeFor[Experience]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	if !reflect.DeepEqual(names, expMemberOrder) {
		t.Fatalf("Experience members %v, PROTOCOL.md order %v", names, expMemberOrder)
	}
	// Every member whose presence depends on the type is in the table.
	for _, m := range expMembers {
		found := false
		for _, n := range names {
			found = found || n == m.name
		}
		if !found {
			t.Errorf("table member %q is not a member", m.name)
		}
	}
}

func TestExperienceEmptyMembersAreAbsent(t *testing.T) {
	pub := idOf(t, testKey(t, 7)).String()
	body := `{"type":"lesson","id":"lesson-1","about":{"publisher":"` + pub + `","id":"cric-roubaix","seq":0},"language":"en",` +
		`"title":"T","text":"x","in_reply_to":{},"country":"","city":"","start_year":0,"end_year":0,"ongoing":false,` +
		`"achievement":"","practice":{},"worked":"","translations":{}}`
	a, err := DecodePayload([]byte(`{"v":1,"publisher":"` + pub + `","seq":1,"time":"2026-12-01T09:00:00Z","kind":"experience","experience":` + body + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("empty members of other types are not absent: %v", err)
	}
	b, _ := EncodePayload(a)
	if strings.Contains(string(b), "in_reply_to") || strings.Contains(string(b), `"seq":0`) || strings.Contains(string(b), "practice\"") {
		t.Fatalf("empty members written: %s", b)
	}
	again, err := DecodePayload(b)
	if err != nil {
		t.Fatal(err)
	}
	if b2, _ := EncodePayload(again); !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding is not stable:\n%s\n%s", b, b2)
	}
}

func TestExperienceDelegated(t *testing.T) {
	r0, d, other := testKey(t, 40), testKey(t, 41), testKey(t, 42)
	g := genesisAnn("Adapter", []peer.ID{idOf(t, r0)})
	g.Org.Delegates = []Delegation{{Key: idOf(t, d), May: []Kind{KindExperience}}, {Key: idOf(t, other), May: []Kind{KindPractice}}}
	gs := mustSeal(t, g, r0)
	org := gs.Announcement().Publisher
	c := NewChain(org, []*Signed{gs})
	exp := func() *Announcement {
		return &Announcement{V: Version, Publisher: org, Seq: 2, Time: t0.Add(time.Hour), Kind: KindExperience, Auth: gs.Hash(),
			Experience: testExperience(t, ExperienceEndorsement, true)}
	}
	s, err := Open(mustSeal(t, exp(), d).Envelope())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Authorise(s.Announcement(), s.Signer()); err != nil {
		t.Fatalf("a delegate allowed experience is not authorised: %v", err)
	}
	if s.Announcement().IsV1() || IsV1(s) {
		t.Fatal("an organisation's experience is a v1 record")
	}
	s2 := mustSeal(t, exp(), other)
	if err := c.Authorise(s2.Announcement(), s2.Signer()); !errors.Is(err, ErrUnauthorised) {
		t.Fatalf("a delegate not allowed experience: %v, want ErrUnauthorised", err)
	}
	if DelegableKinds[len(DelegableKinds)-1] != KindExperience {
		t.Fatalf("DelegableKinds %v: experience is not last", DelegableKinds)
	}
}
