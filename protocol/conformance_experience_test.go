package protocol

import (
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The cases behind testdata/conformance/experience.json (PROTOCOL.md
// section 13): for each rule of 13.2 and 13.3 a record that keeps it and
// one that breaks it, built from a minimal valid record of each type by
// replacing, adding or removing members of the body.

// expVecOrg is the organisation of 12.12, for references to an organisation.
const expVecOrg = "5ubP5HxjCqyCHBWPxW4VmTLoptmwVm"

// vecAbout is the practice of 11.1, which the records are about.
var vecAbout = `{"publisher":"` + vecPublisher + `","id":"cric-roubaix"}`

// expBases are minimal valid bodies, by type.
var expBases = map[ExperienceType][]string{
	ExperienceAdaptation: {"type", `"adaptation"`, "id", `"conseil-lille"`, "about", vecAbout, "language", `"en"`,
		"title", `"An intercultural council in Lille"`, "country", `"FR"`, "start_year", `2019`, "changes", `"Smaller."`},
	ExperienceLesson: {"type", `"lesson"`, "id", `"lesson-1"`, "about", vecAbout, "language", `"en"`,
		"title", `"What we learned"`, "text", `"Start small."`},
	ExperienceQuestion: {"type", `"question"`, "id", `"question-1"`, "about", vecAbout, "language", `"en"`,
		"title", `"Who chairs it?"`, "text", `"Is the chair elected?"`},
	ExperienceAnswer: {"type", `"answer"`, "id", `"answer-1"`, "about", vecAbout, "language", `"en"`,
		"text", `"Yes."`, "in_reply_to", `{"publisher":"` + expVecOrg + `","id":"question-1"}`},
	ExperienceEndorsement: {"type", `"endorsement"`, "about", vecAbout, "language", `"en"`},
}

// exp writes an experience announcement whose body of type typ has over
// applied.
func exp(typ ExperienceType, over ...string) string {
	return ann("experience", object(expBases[typ], over...))
}

// expStr is a JSON string of n copies of s.
func expStr(s string, n int) string { return `"` + strings.Repeat(s, n) + `"` }

func experienceCases() []vcase {
	var cs []vcase
	for _, typ := range expAll {
		cs = append(cs, ok("minimal-"+string(typ), exp(typ)))
	}
	cs = append(cs, experienceCommonCases()...)
	cs = append(cs, experienceTypedCases()...)
	cs = append(cs, experienceTranslationCases()...)
	return append(cs, experienceRetractCases()...)
}

// experienceCommonCases cover type, id, about and language.
func experienceCommonCases() []vcase {
	const (
		fType, fID, fAbout = "experience.type", "experience.id", "experience.about"
		fPub, fPID, fSeq   = "experience.about.publisher", "experience.about.id", "experience.about.seq"
	)
	about := func(over ...string) string {
		return exp(ExperienceLesson, "about", object([]string{"publisher", `"` + vecPublisher + `"`, "id", `"cric-roubaix"`}, over...))
	}
	return []vcase{
		bad("type-absent", exp(ExperienceLesson, "type", "-"), "invalid", fType),
		bad("type-empty", exp(ExperienceLesson, "type", `""`), "invalid", fType),
		bad("type-unknown", exp(ExperienceLesson, "type", `"review"`), "invalid", fType),
		bad("type-upper-case", exp(ExperienceLesson, "type", `"Lesson"`), "invalid", fType),
		bad("type-number", exp(ExperienceLesson, "type", `1`), "malformed", ""),
		bad("id-absent-adaptation", exp(ExperienceAdaptation, "id", "-"), "invalid", fID),
		bad("id-absent-lesson", exp(ExperienceLesson, "id", "-"), "invalid", fID),
		bad("id-absent-question", exp(ExperienceQuestion, "id", "-"), "invalid", fID),
		bad("id-empty-answer", exp(ExperienceAnswer, "id", `""`), "invalid", fID),
		ok("id-63-characters-after-the-first", exp(ExperienceLesson, "id", `"a`+strings.Repeat("-", 63)+`"`)),
		bad("id-grammar", exp(ExperienceLesson, "id", `"Lesson_1"`), "invalid", fID),
		bad("id-short", exp(ExperienceLesson, "id", `"ab"`), "invalid", fID),
		bad("id-in-endorsement", exp(ExperienceEndorsement, "id", `"endorse-1"`), "invalid", fID),
		ok("id-empty-in-endorsement", exp(ExperienceEndorsement, "id", `""`)),
		bad("about-absent", exp(ExperienceLesson, "about", "-"), "invalid", fAbout),
		bad("about-empty-object", exp(ExperienceLesson, "about", `{}`), "invalid", fAbout),
		ok("about-organisation", about("publisher", `"`+expVecOrg+`"`)),
		ok("about-seq", about("seq", `1`)),
		ok("about-seq-zero-is-absent", about("seq", `0`)),
		ok("about-seq-2-53-minus-1", about("seq", `9007199254740991`)),
		bad("about-seq-2-53", about("seq", `9007199254740992`), "invalid", fSeq),
		bad("about-seq-negative", about("seq", `-1`), "malformed", ""),
		bad("about-seq-fraction", about("seq", `1.0`), "malformed", ""),
		bad("about-seq-string", about("seq", `"1"`), "malformed", ""),
		bad("about-publisher-absent", about("publisher", "-"), "invalid", fPub),
		bad("about-publisher-not-peer-id", about("publisher", `"Ville de Roubaix"`), "malformed", ""),
		bad("about-publisher-neither-key-nor-organisation", about("publisher", `"QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"`), "invalid", fPub),
		bad("about-id-absent", about("id", "-"), "invalid", fPID),
		bad("about-id-grammar", about("id", `"_profile"`), "invalid", fPID),
		bad("about-unknown-member", about("version", `1`), "malformed", ""),
		bad("language-absent", exp(ExperienceLesson, "language", "-"), "invalid", "experience.language"),
		bad("language-not-canonical", exp(ExperienceLesson, "language", `"EN"`), "invalid", "experience.language"),
		bad("text-null", exp(ExperienceLesson, "text", `null`), "malformed", ""),
		bad("text-invalid-utf8", exp(ExperienceLesson, "text", "\"ferm\xe9\""), "invalid", "experience.text"),
		bad("about-id-lone-surrogate", exp(ExperienceLesson, "about", `{"publisher":"`+vecPublisher+`","id":"cric\ud800"}`), "invalid", "experience.about.id"),
		bad("unknown-member", exp(ExperienceLesson, "rating", `5`), "malformed", ""),
		bad("body-absent", ann("experience", "-"), "invalid", "experience"),
		bad("two-bodies", ann("experience", object(expBases[ExperienceLesson]), "retract", `{"id":"cric-roubaix"}`), "invalid", ""),
		bad("body-under-kind-practice", ann("practice", object(expBases[ExperienceLesson]), "practice", "-", "experience", object(expBases[ExperienceLesson])), "invalid", "practice"),
	}
}

// experienceTypedCases cover the members whose presence depends on the
// type (the table of 13.2).
func experienceTypedCases() []vcase {
	f := func(m string) string { return "experience." + m }
	const org = `"` + expVecOrg + `"`
	return []vcase{
		bad("title-absent-adaptation", exp(ExperienceAdaptation, "title", "-"), "invalid", f("title")),
		bad("title-absent-lesson", exp(ExperienceLesson, "title", "-"), "invalid", f("title")),
		bad("title-empty-question", exp(ExperienceQuestion, "title", `""`), "invalid", f("title")),
		ok("title-in-answer", exp(ExperienceAnswer, "title", `"The chair"`)),
		bad("title-in-endorsement", exp(ExperienceEndorsement, "title", `"Great"`), "invalid", f("title")),
		ok("title-300-code-points", exp(ExperienceLesson, "title", expStr("é", MaxTitleLen))),
		bad("title-301-code-points", exp(ExperienceLesson, "title", expStr("é", MaxTitleLen+1)), "invalid", f("title")),
		bad("title-two-lines", exp(ExperienceLesson, "title", `"What we\nlearned"`), "invalid", f("title")),
		bad("text-absent-lesson", exp(ExperienceLesson, "text", "-"), "invalid", f("text")),
		bad("text-absent-question", exp(ExperienceQuestion, "text", "-"), "invalid", f("text")),
		bad("text-blank-answer", exp(ExperienceAnswer, "text", `" "`), "invalid", f("text")),
		ok("text-in-adaptation", exp(ExperienceAdaptation, "text", `"We adapted it."`)),
		ok("text-8000-code-points", exp(ExperienceLesson, "text", expStr("é", MaxTextLen))),
		bad("text-8001-code-points", exp(ExperienceLesson, "text", expStr("é", MaxTextLen+1)), "invalid", f("text")),
		ok("endorsement-text-500-code-points", exp(ExperienceEndorsement, "text", expStr("é", MaxEndorsementTextLen))),
		bad("endorsement-text-501-code-points", exp(ExperienceEndorsement, "text", expStr("é", MaxEndorsementTextLen+1)), "invalid", f("text")),
		bad("in-reply-to-absent", exp(ExperienceAnswer, "in_reply_to", "-"), "invalid", f("in_reply_to")),
		bad("in-reply-to-empty-object", exp(ExperienceAnswer, "in_reply_to", `{}`), "invalid", f("in_reply_to")),
		ok("in-reply-to-key", exp(ExperienceAnswer, "in_reply_to", `{"publisher":"`+vecPublisher+`","id":"answer-0"}`)),
		bad("in-reply-to-in-question", exp(ExperienceQuestion, "in_reply_to", `{"publisher":`+org+`,"id":"question-0"}`), "invalid", f("in_reply_to")),
		ok("in-reply-to-empty-in-question", exp(ExperienceQuestion, "in_reply_to", `{}`)),
		bad("in-reply-to-id-absent", exp(ExperienceAnswer, "in_reply_to", `{"publisher":`+org+`}`), "invalid", f("in_reply_to.id")),
		bad("in-reply-to-id-is-a-slot", exp(ExperienceAnswer, "in_reply_to", `{"publisher":`+org+`,"id":"_exp/question-1"}`), "invalid", f("in_reply_to.id")),
		bad("in-reply-to-publisher-absent", exp(ExperienceAnswer, "in_reply_to", `{"id":"question-1"}`), "invalid", f("in_reply_to.publisher")),
		bad("in-reply-to-seq", exp(ExperienceAnswer, "in_reply_to", `{"publisher":`+org+`,"id":"question-1","seq":1}`), "malformed", ""),
		bad("country-absent", exp(ExperienceAdaptation, "country", "-"), "invalid", f("country")),
		bad("country-UK", exp(ExperienceAdaptation, "country", `"UK"`), "invalid", f("country")),
		bad("country-in-lesson", exp(ExperienceLesson, "country", `"FR"`), "invalid", f("country")),
		ok("country-empty-in-lesson", exp(ExperienceLesson, "country", `""`)),
		ok("region-and-city", exp(ExperienceAdaptation, "region", `"Hauts-de-France"`, "city", `"Lille"`)),
		bad("region-in-question", exp(ExperienceQuestion, "region", `"Nord"`), "invalid", f("region")),
		bad("city-in-lesson", exp(ExperienceLesson, "city", `"Lille"`), "invalid", f("city")),
		bad("city-201-code-points", exp(ExperienceAdaptation, "city", expStr("x", MaxPlaceLen+1)), "invalid", f("city")),
		bad("start-year-absent", exp(ExperienceAdaptation, "start_year", "-"), "invalid", f("start_year")),
		bad("start-year-zero", exp(ExperienceAdaptation, "start_year", `0`), "invalid", f("start_year")),
		ok("start-year-1900", exp(ExperienceAdaptation, "start_year", `1900`)),
		bad("start-year-1899", exp(ExperienceAdaptation, "start_year", `1899`), "invalid", f("start_year")),
		bad("start-year-in-lesson", exp(ExperienceLesson, "start_year", `2019`), "invalid", f("start_year")),
		ok("end-year", exp(ExperienceAdaptation, "end_year", `2021`)),
		bad("end-year-before-start", exp(ExperienceAdaptation, "end_year", `2018`), "invalid", f("end_year")),
		bad("end-year-2101", exp(ExperienceAdaptation, "end_year", `2101`), "invalid", f("end_year")),
		bad("end-year-in-question", exp(ExperienceQuestion, "end_year", `2021`), "invalid", f("end_year")),
		ok("ongoing", exp(ExperienceAdaptation, "ongoing", `true`)),
		bad("ongoing-with-end-year", exp(ExperienceAdaptation, "ongoing", `true`, "end_year", `2021`), "invalid", f("ongoing")),
		bad("ongoing-in-answer", exp(ExperienceAnswer, "ongoing", `true`), "invalid", f("ongoing")),
		ok("ongoing-false-in-lesson", exp(ExperienceLesson, "ongoing", `false`)),
		bad("changes-absent", exp(ExperienceAdaptation, "changes", "-"), "invalid", f("changes")),
		bad("changes-blank", exp(ExperienceAdaptation, "changes", `"\n"`), "invalid", f("changes")),
		bad("changes-in-lesson", exp(ExperienceLesson, "changes", `"Smaller."`), "invalid", f("changes")),
		ok("achievement-and-evaluation", exp(ExperienceAdaptation, "achievement", `"partially"`, "evaluation", `"external"`)),
		bad("achievement-unknown", exp(ExperienceAdaptation, "achievement", `"yes"`), "invalid", f("achievement")),
		bad("achievement-in-lesson", exp(ExperienceLesson, "achievement", `"fully"`), "invalid", f("achievement")),
		bad("evaluation-unknown", exp(ExperienceAdaptation, "evaluation", `"self"`), "invalid", f("evaluation")),
		bad("evaluation-in-question", exp(ExperienceQuestion, "evaluation", `"none"`), "invalid", f("evaluation")),
		ok("outcomes", exp(ExperienceAdaptation, "outcomes", `"Turnout doubled."`)),
		bad("outcomes-in-lesson", exp(ExperienceLesson, "outcomes", `"Turnout doubled."`), "invalid", f("outcomes")),
		ok("practice", exp(ExperienceAdaptation, "practice", `{"publisher":`+org+`,"id":"conseil-lille"}`)),
		ok("practice-empty-object", exp(ExperienceAdaptation, "practice", `{}`)),
		bad("practice-in-lesson", exp(ExperienceLesson, "practice", `{"publisher":`+org+`,"id":"conseil-lille"}`), "invalid", f("practice")),
		bad("practice-id-absent", exp(ExperienceAdaptation, "practice", `{"publisher":`+org+`}`), "invalid", f("practice.id")),
		bad("practice-publisher-neither", exp(ExperienceAdaptation, "practice", `{"publisher":"QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N","id":"conseil-lille"}`), "invalid", f("practice.publisher")),
		ok("lesson-findings", exp(ExperienceLesson, "worked", `"Evenings."`, "did_not_work", `"Online votes."`, "for_whom", `"Mid-sized cities."`)),
		bad("worked-in-adaptation", exp(ExperienceAdaptation, "worked", `"Evenings."`), "invalid", f("worked")),
		bad("did-not-work-in-question", exp(ExperienceQuestion, "did_not_work", `"Online votes."`), "invalid", f("did_not_work")),
		bad("for-whom-in-endorsement", exp(ExperienceEndorsement, "for_whom", `"Cities."`), "invalid", f("for_whom")),
		bad("for-whom-8001-code-points", exp(ExperienceLesson, "for_whom", expStr("x", MaxTextLen+1)), "invalid", f("for_whom")),
	}
}

// experienceTranslationCases cover translations.
func experienceTranslationCases() []vcase {
	tr := func(typ ExperienceType, v string) string { return exp(typ, "translations", v) }
	many := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, `"f`+string(rune('a'+i/26))+string(rune('a'+i%26))+`":{"title":"T"}`)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return []vcase{
		ok("translation", tr(ExperienceLesson, `{"fr":{"title":"Ce que nous avons appris","text":"Commencer petit."}}`)),
		ok("translations-empty-object", tr(ExperienceLesson, `{}`)),
		ok("translations-30", tr(ExperienceLesson, many(MaxExperienceTranslations))),
		bad("translations-31", tr(ExperienceLesson, many(MaxExperienceTranslations+1)), "invalid", "experience.translations"),
		bad("translation-title-absent-lesson", tr(ExperienceLesson, `{"fr":{"text":"Commencer petit."}}`), "invalid", "experience.translations.fr.title"),
		ok("translation-without-title-answer", tr(ExperienceAnswer, `{"fr":{"text":"Oui."}}`)),
		bad("translation-title-in-endorsement", tr(ExperienceEndorsement, `{"fr":{"title":"Bravo"}}`), "invalid", "experience.translations.fr.title"),
		ok("translation-of-endorsement", tr(ExperienceEndorsement, `{"fr":{"text":"Nous la recommandons."}}`)),
		bad("translation-text-501-in-endorsement", tr(ExperienceEndorsement, `{"fr":{"text":`+expStr("é", MaxEndorsementTextLen+1)+`}}`), "invalid", "experience.translations.fr.text"),
		bad("translation-key-is-language", tr(ExperienceLesson, `{"en":{"title":"Again"}}`), "invalid", "experience.translations.en"),
		bad("translation-key-not-canonical", tr(ExperienceLesson, `{"FR":{"title":"T"}}`), "invalid", "experience.translations.FR"),
		bad("translation-unknown-member", tr(ExperienceLesson, `{"fr":{"title":"T","summary":"S"}}`), "malformed", ""),
	}
}

// experienceRetractCases cover the retraction of experience slots (13.3).
func experienceRetractCases() []vcase {
	id := func(s string) string { return retract("id", `"`+s+`"`) }
	pub, _ := peer.Decode(vecPublisher)
	return []vcase{
		ok("retract-experience-slot", id("_exp/conseil-lille")),
		ok("retract-endorsement-slot-key", id("_endorse/"+vecPublisher+"/cric-roubaix")),
		ok("retract-endorsement-slot-organisation", id("_endorse/"+expVecOrg+"/cric-roubaix")),
		bad("retract-experience-slot-empty-id", id("_exp/"), "invalid", "retract.id"),
		bad("retract-experience-slot-grammar", id("_exp/Conseil"), "invalid", "retract.id"),
		bad("retract-endorsement-slot-no-practice", id("_endorse/"+vecPublisher), "invalid", "retract.id"),
		bad("retract-endorsement-slot-bad-publisher", id("_endorse/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N/cric-roubaix"), "invalid", "retract.id"),
		bad("retract-endorsement-slot-other-text-form", id("_endorse/"+peer.ToCid(pub).String()+"/cric-roubaix"), "invalid", "retract.id"),
		bad("retract-endorsement-slot-extra-segment", id("_endorse/"+vecPublisher+"/cric-roubaix/x"), "invalid", "retract.id"),
		bad("retract-other-prefix", id("_endorsement/cric-roubaix"), "invalid", "retract.id"),
	}
}

// TestExperienceVectorsCoverEveryMember fails when a member of the body
// has no valid vector that gives it and no invalid vector naming it.
func TestExperienceVectorsCoverEveryMember(t *testing.T) {
	names := []string{"type", "about", "language", "translations"}
	for _, m := range expMembers {
		names = append(names, m.name)
	}
	cases := experienceCases()
	for _, n := range names {
		valid, invalid := false, false
		for _, c := range cases {
			if c.reason == "" && strings.Contains(c.payload, `"`+n+`":`) && strings.Contains(c.payload, `"experience":{`) {
				valid = true
			}
			if c.field == "experience."+n || strings.HasPrefix(c.field, "experience."+n+".") {
				invalid = true
			}
		}
		if !valid || !invalid {
			t.Errorf("member %s: a valid vector %v, an invalid one %v", n, valid, invalid)
		}
	}
}
