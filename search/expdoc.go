package search

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/khantara/khantara/protocol"
)

// Experience records (PROTOCOL.md 13) reach the index twice:
//
//   - in the document of the practice they are about, when it is held:
//     their text in the practice's text fields (each record's in its own
//     language's, translations in theirs), so a practice matches through
//     what others wrote about it; their counts in its Hit; facets and sort
//     keys in its row (row.go); filters in fAdapted, fHasLessons and
//     fEndorsedBy; and the docID of each in fExpSlots, so that a change of
//     a record finds every practice document that holds it (follow.go);
//   - in a document of their own, ID docID(author, slot), with fields
//     apart from the practices' (xtitle_, xtext_, x_...), so a Query of
//     Kind KindExperience finds them, whether or not the practice is held,
//     and Hit.MatchedExperiences can say which records matched.
//
// Practice queries never match an experience document: its fields are
// its own, and the query of everything is fKind = practice.

// excerptLen bounds ExperienceHit.Excerpt, in characters.
const excerptLen = 200

// practiceExps is what the live experience records about one practice
// add to its document.
type practiceExps struct {
	counts    ExperienceCounts
	holds     []string // docID of each record, in the store's order
	endorsers []string // publisher IDs, sorted
	adaptedIn []string // each adaptation's country, sorted
	records   []*protocol.Experience
	authors   []string // of records, as text
}

// collectExps sums up the experience records about a practice, given in
// the store's order (store.Experiences).
func collectExps(anns []*protocol.Announcement) *practiceExps {
	x := &practiceExps{}
	for _, a := range anns {
		e := a.Experience
		if e == nil {
			continue
		}
		x.holds = append(x.holds, docID(a.Publisher, e.Slot()))
		x.records = append(x.records, e)
		x.authors = append(x.authors, a.Publisher.String())
		switch e.Type {
		case protocol.ExperienceAdaptation:
			x.counts.Adaptations++
			x.adaptedIn = append(x.adaptedIn, e.Country)
		case protocol.ExperienceLesson:
			x.counts.Lessons++
		case protocol.ExperienceQuestion:
			x.counts.Questions++
		case protocol.ExperienceAnswer:
			x.counts.Answers++
		case protocol.ExperienceEndorsement:
			x.counts.Endorsements++
			x.endorsers = append(x.endorsers, a.Publisher.String())
		}
	}
	slices.Sort(x.endorsers)
	slices.Sort(x.adaptedIn)
	return x
}

// storedHit is what a practice's document stores: its Hit, and the text
// field suffixes of the languages of the records about it, so that
// Hit.MatchedExperiences looks for them in those languages only. Decoded
// into a Hit, the suffixes are left out.
type storedHit struct {
	Hit
	ExpSuffixes []string `json:"x_suffixes,omitempty"`
}

// suffixes returns the text field suffixes of the records' languages and
// their translations', sorted.
func (x *practiceExps) suffixes() []string {
	var out []string
	for _, e := range x.records {
		out = append(out, textSuffix(e.Language))
		for tag := range e.Translations {
			out = append(out, textSuffix(tag))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// addExpTexts adds the texts of the records to t: each record's own
// texts to the text field of its language, its translations' to theirs.
func addExpTexts(t *texts, x *practiceExps, field func(suffix string) string) {
	for _, e := range x.records {
		t.add(field(textSuffix(e.Language)), expOwnTexts(e)...)
		for _, tag := range slices.Sorted(maps.Keys(e.Translations)) {
			tr := e.Translations[tag]
			t.add(field(textSuffix(tag)), tr.Title, tr.Text)
		}
	}
}

// expOwnTexts are the searchable texts of a record in its own language.
func expOwnTexts(e *protocol.Experience) []string {
	return []string{e.Title, e.Text, e.Changes, e.Outcomes, e.Worked, e.DidNotWork, e.ForWhom}
}

// aboutDocID is the docID of the practice a record is about, which is
// also its fxAbout value.
func aboutDocID(e *protocol.Experience) string { return docID(e.About.Publisher, e.About.ID) }

// buildExperience returns the document of the experience record a,
// whose practice stands as aboutState on this node.
func (b *docBuilder) buildExperience(a *protocol.Announcement, aboutState string) (*document.Document, error) {
	e := a.Experience
	slot := e.Slot()
	doc := document.NewDocument(docID(a.Publisher, slot))
	tags := slices.Sorted(maps.Keys(e.Translations))
	h := ExperienceHit{
		Publisher: a.Publisher.String(), Slot: slot, ID: e.ID, Seq: a.Seq, Time: a.Time.UTC(),
		Type: string(e.Type), Language: e.Language, Languages: append([]string{e.Language}, tags...),
		Title: e.Title, Excerpt: excerpt(e),
		About:      PracticeRef{Publisher: e.About.Publisher.String(), ID: e.About.ID},
		AboutState: aboutState, Country: e.Country, City: e.City, StartYear: e.StartYear,
	}
	if e.Type == protocol.ExperienceAnswer && !e.InReplyTo.IsZero() {
		h.InReplyTo = &PracticeRef{Publisher: e.InReplyTo.Publisher.String(), ID: e.InReplyTo.ID}
	}
	b.keyword(doc, fKind, KindExperience)
	b.keyword(doc, fxPublisher, h.Publisher)
	b.keyword(doc, fxType, h.Type)
	for _, l := range h.Languages {
		b.keyword(doc, fxLanguage, l)
	}
	if e.Country != "" {
		b.keyword(doc, fxCountry, e.Country)
	}
	b.keyword(doc, fxAbout, aboutDocID(e))
	b.keyword(doc, fxAboutState, aboutState)
	for _, t := range expRowTerms(&h) {
		b.keyword(doc, fxRow, t)
	}
	var t texts
	own := textSuffix(e.Language)
	t.add(expTitleField(own), e.Title)
	t.add(expTextField(own), expOwnTexts(e)...)
	for _, tag := range tags {
		tr := e.Translations[tag]
		t.add(expTitleField(textSuffix(tag)), tr.Title)
		t.add(expTextField(textSuffix(tag)), tr.Title, tr.Text)
	}
	b.addTexts(doc, &t)
	raw, err := json.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("encode hit of %s: %w", doc.ID(), err)
	}
	doc.AddField(document.NewTextFieldCustom(fHit, nil, raw, b.opts[fHit], nil))
	return doc, nil
}

// excerpt is the start of a record's text, or of an adaptation's
// changes when it has no text, at most excerptLen characters.
func excerpt(e *protocol.Experience) string {
	s := e.Text
	if s == "" {
		s = e.Changes
	}
	if utf8.RuneCountInString(s) <= excerptLen {
		return s
	}
	return string([]rune(s)[:excerptLen-1]) + "…"
}

// expRowTerms returns the row terms of an experience document: 'p' its
// author, 'i' its slot, 'T' its time (Unix seconds), 'L' its languages,
// the facet term 'Y' type|about state|country, and 'a' the docID of the
// practice it is about.
func expRowTerms(h *ExperienceHit) []string {
	secs := max(0, h.Time.Unix())
	return []string{
		string(codePublisher) + h.Publisher,
		string(codeID) + h.Slot,
		string(codeTime) + strconv.FormatInt(secs, 10),
		string(codeLanguages) + joinValues(h.Languages),
		string(codeExpFacets) + h.Type + "|" + h.AboutState + "|" + h.Country,
		string(codeAbout) + h.About.Publisher + "/" + h.About.ID,
	}
}

// aboutStateOf says how a head read from the store stands for records
// about its slot: held (a practice), retracted, or not held (nothing, or
// not a practice).
func aboutStateOf(kind protocol.Kind, found bool) string {
	switch {
	case !found:
		return AboutNotHeld
	case kind == protocol.KindPractice:
		return AboutHeld
	case kind == protocol.KindRetract:
		return AboutRetracted
	}
	return AboutNotHeld
}

// parseDocID splits a practice's or record's document ID into its
// publisher and slot.
func parseDocID(id string) (docKey, bool) {
	for i := range len(id) {
		if id[i] == '/' {
			pub, err := protocol.DecodeID(id[:i])
			if err != nil {
				return docKey{}, false
			}
			return docKey{pub: pub, slot: id[i+1:]}, true
		}
	}
	return docKey{}, false
}

// keyOfAbout is the docKey of the practice a record is about.
func keyOfAbout(e *protocol.Experience) docKey {
	return docKey{pub: e.About.Publisher, slot: e.About.ID}
}
