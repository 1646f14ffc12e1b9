package protocol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
)

// expMember is one member of an experience record whose presence depends
// on the type: the types that allow it, those that require it, whether a
// record gives it, and its own rule (run when it is allowed and given).
// The table is PROTOCOL.md 13.2's, row by row.
type expMember struct {
	name     string
	allowed  []ExperienceType
	required []ExperienceType
	given    func(*Experience) bool
	check    func(p *problems, path string, e *Experience)
}

var (
	expAll    = []ExperienceType{ExperienceAdaptation, ExperienceLesson, ExperienceQuestion, ExperienceAnswer, ExperienceEndorsement}
	expTitled = []ExperienceType{ExperienceAdaptation, ExperienceLesson, ExperienceQuestion}
	expNamed  = []ExperienceType{ExperienceAdaptation, ExperienceLesson, ExperienceQuestion, ExperienceAnswer}
	expTexted = []ExperienceType{ExperienceLesson, ExperienceQuestion, ExperienceAnswer}
	expAdapt  = []ExperienceType{ExperienceAdaptation}
	expLesson = []ExperienceType{ExperienceLesson}
	expAnswer = []ExperienceType{ExperienceAnswer}
)

// expText is the rule of a text member of an adaptation or a lesson.
func expText(get func(*Experience) string) func(*problems, string, *Experience) {
	return func(p *problems, path string, e *Experience) { checkText(p, path, get(e), MaxTextLen) }
}

// expMembers are the members whose presence depends on the type, in the
// canonical order. type, about, language and translations are allowed in
// every record and checked apart.
var expMembers = []expMember{
	{"id", expNamed, expNamed, func(e *Experience) bool { return e.ID != "" },
		func(p *problems, path string, e *Experience) { checkID(p, path, e.ID) }},
	{"title", expNamed, expTitled, func(e *Experience) bool { return e.Title != "" },
		func(p *problems, path string, e *Experience) { checkLine(p, path, e.Title, MaxTitleLen, true) }},
	{"text", expAll, expTexted, func(e *Experience) bool { return e.Text != "" },
		func(p *problems, path string, e *Experience) { checkText(p, path, e.Text, e.maxText()) }},
	{"in_reply_to", expAnswer, expAnswer, func(e *Experience) bool { return !e.InReplyTo.IsZero() },
		func(p *problems, path string, e *Experience) { e.InReplyTo.validate(p, path+".") }},
	{"country", expAdapt, expAdapt, func(e *Experience) bool { return e.Country != "" },
		func(p *problems, path string, e *Experience) { checkCountry(p, path, e.Country, true) }},
	{"region", expAdapt, nil, func(e *Experience) bool { return e.Region != "" },
		func(p *problems, path string, e *Experience) { checkLine(p, path, e.Region, MaxPlaceLen, false) }},
	{"city", expAdapt, nil, func(e *Experience) bool { return e.City != "" },
		func(p *problems, path string, e *Experience) { checkLine(p, path, e.City, MaxPlaceLen, false) }},
	{"start_year", expAdapt, expAdapt, func(e *Experience) bool { return e.StartYear != 0 },
		func(p *problems, path string, e *Experience) { checkYear(p, path, e.StartYear) }},
	{"end_year", expAdapt, nil, func(e *Experience) bool { return e.EndYear != 0 },
		func(p *problems, path string, e *Experience) {
			checkYear(p, path, e.EndYear)
			if e.StartYear != 0 && e.EndYear < e.StartYear {
				p.add(path, "must not be before start_year (%d), got %d", e.StartYear, e.EndYear)
			}
		}},
	{"ongoing", expAdapt, nil, func(e *Experience) bool { return e.Ongoing },
		func(p *problems, path string, e *Experience) {
			if e.EndYear != 0 {
				p.add(path, "is true but end_year is %d; remove one of them", e.EndYear)
			}
		}},
	{"changes", expAdapt, expAdapt, func(e *Experience) bool { return e.Changes != "" }, expText(func(e *Experience) string { return e.Changes })},
	{"achievement", expAdapt, nil, func(e *Experience) bool { return e.Achievement != "" },
		func(p *problems, path string, e *Experience) { checkCode(p, path, e.Achievement, Achievements) }},
	{"evaluation", expAdapt, nil, func(e *Experience) bool { return e.Evaluation != "" },
		func(p *problems, path string, e *Experience) { checkCode(p, path, e.Evaluation, Evaluations) }},
	{"outcomes", expAdapt, nil, func(e *Experience) bool { return e.Outcomes != "" }, expText(func(e *Experience) string { return e.Outcomes })},
	{"practice", expAdapt, nil, func(e *Experience) bool { return !e.Practice.IsZero() },
		func(p *problems, path string, e *Experience) { e.Practice.validate(p, path+".") }},
	{"worked", expLesson, nil, func(e *Experience) bool { return e.Worked != "" }, expText(func(e *Experience) string { return e.Worked })},
	{"did_not_work", expLesson, nil, func(e *Experience) bool { return e.DidNotWork != "" }, expText(func(e *Experience) string { return e.DidNotWork })},
	{"for_whom", expLesson, nil, func(e *Experience) bool { return e.ForWhom != "" }, expText(func(e *Experience) string { return e.ForWhom })},
}

// Validate checks an experience record's body against every rule of
// PROTOCOL.md 13.2 and returns nil or a *ValidationError listing every
// problem with its field path ("country": a member its type does not
// allow; "about.publisher"; "translations.fr.title").
func (e *Experience) Validate() error {
	var p problems
	e.validate(&p, "")
	return p.err()
}

func (e *Experience) validate(p *problems, prefix string) {
	known := slices.Contains(expAll, e.Type)
	switch {
	case e.Type == "":
		p.add(prefix+"type", "is required, one of %s", strings.Join(ExperienceTypes, ", "))
	case !known:
		p.add(prefix+"type", "%q is not one of %s", truncate(string(e.Type), 40), strings.Join(ExperienceTypes, ", "))
	}
	if e.About == (About{}) {
		p.add(prefix+"about", "is required: the practice's publisher and ID")
	} else {
		e.About.validate(p, prefix+"about.")
	}
	checkLang(p, prefix+"language", e.Language, true)
	for _, m := range expMembers {
		path := prefix + m.name
		given := m.given(e)
		switch {
		case !known:
			// Without a type there is no knowing what is allowed: check
			// the values given.
			if given {
				m.check(p, path, e)
			}
		case given && !slices.Contains(m.allowed, e.Type):
			p.add(path, "is not allowed in %s (%s)", article(e.Type), allowedIn(m.allowed))
		case given:
			m.check(p, path, e)
		case slices.Contains(m.required, e.Type):
			p.add(path, "is required in %s", article(e.Type))
		}
	}
	e.validateTranslations(p, prefix)
}

// validateTranslations checks the translations: their number, their
// keys, and their title and text by the record's own rules.
func (e *Experience) validateTranslations(p *problems, prefix string) {
	if len(e.Translations) > MaxExperienceTranslations {
		p.add(prefix+"translations", "at most %d translations, got %d", MaxExperienceTranslations, len(e.Translations))
	}
	titled, untitled := slices.Contains(expTitled, e.Type), e.Type == ExperienceEndorsement
	for _, tag := range sortedKeys(e.Translations) {
		tr := e.Translations[tag]
		path := prefix + "translations." + tag
		if checkLang(p, path, tag, true) && tag == e.Language {
			p.add(path, "is the record's own language; put these texts in the main fields")
		}
		switch {
		case untitled && tr.Title != "":
			p.add(path+".title", "is not allowed in an endorsement, which has no title")
		default:
			checkLine(p, path+".title", tr.Title, MaxTitleLen, titled)
		}
		checkText(p, path+".text", tr.Text, e.maxText())
	}
}

// maxText is the limit of the record's text and of its translations'.
func (e *Experience) maxText() int {
	if e.Type == ExperienceEndorsement {
		return MaxEndorsementTextLen
	}
	return MaxTextLen
}

func (a *About) validate(p *problems, prefix string) {
	checkPublisherID(p, prefix+"publisher", a.Publisher)
	checkID(p, prefix+"id", a.ID)
	if a.Seq > MaxSeq {
		p.add(prefix+"seq", "must be between 1 and %d, got %d", uint64(MaxSeq), a.Seq)
	}
}

// validate checks a given Ref: both members are required.
func (r *Ref) validate(p *problems, prefix string) {
	checkPublisherID(p, prefix+"publisher", r.Publisher)
	checkID(p, prefix+"id", r.ID)
}

// checkPublisherID checks a required publisher ID: a key or an
// organisation (PROTOCOL.md 12.1).
func checkPublisherID(p *problems, path string, id peer.ID) {
	switch {
	case id == "":
		p.add(path, "is required: a publisher ID (an organisation ID or a key's 12D3KooW… ID)")
	case !IsKey(id) && !IsOrg(id):
		p.add(path, "is neither an organisation ID nor the peer ID of an Ed25519 key")
	}
}

// article names a type with its article: "an adaptation", "a lesson".
func article(t ExperienceType) string {
	if t == ExperienceAdaptation || t == ExperienceAnswer || t == ExperienceEndorsement {
		return "an " + string(t)
	}
	return "a " + string(t)
}

// allowedIn says which types allow a member: "adaptation only".
func allowedIn(ts []ExperienceType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	if len(s) == 1 {
		return s[0] + " only"
	}
	return fmt.Sprintf("only in %s", strings.Join(s, ", "))
}
