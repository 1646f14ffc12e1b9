package search

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// docID is the index document ID of a practice.
func docID(pub peer.ID, id string) string { return pub.String() + "/" + id }

// docBuilder turns practices into index documents, field by field, with
// the options and analyzers of the mapping. Read-only once made, so safe
// for concurrent use.
type docBuilder struct {
	opts      map[string]index.FieldIndexingOptions
	analyzers map[string]analysis.Analyzer // by text field suffix
}

func newDocBuilder(im *mapping.IndexMappingImpl) (*docBuilder, error) {
	b := &docBuilder{opts: indexingOptions(im), analyzers: map[string]analysis.Analyzer{}}
	for _, s := range textSuffixes {
		a := im.AnalyzerNamed(analyzerOf(s))
		if a == nil {
			return nil, fmt.Errorf("no analyzer %q for %s text", analyzerOf(s), s)
		}
		b.analyzers[s] = a
	}
	return b, nil
}

// build returns the document of a practice announcement. The text of the
// sheet's own language goes to that language's fields, each
// translation's to its language's fields; the issue and target-group
// codes go, as English words, to the English fields.
func (b *docBuilder) build(a *protocol.Announcement) (*document.Document, error) {
	s := a.Practice
	doc := document.NewDocument(docID(a.Publisher, s.ID))
	keyword := func(name, v string) {
		doc.AddField(document.NewTextFieldCustom(name, nil, []byte(v), b.opts[name], nil))
	}
	number := func(name string, v int64) {
		doc.AddField(document.NewNumericFieldWithIndexingOptions(name, nil, float64(v), b.opts[name]))
	}
	boolean := func(name string, v bool) {
		doc.AddField(document.NewBooleanFieldWithIndexingOptions(name, nil, v, b.opts[name]))
	}

	tags := slices.Sorted(maps.Keys(s.Translations))
	hit := Hit{
		Publisher: a.Publisher.String(), ID: s.ID, Seq: a.Seq, Title: s.Title,
		Language: s.Language, Organiser: s.Organiser, Country: s.Country,
		StartYear: s.StartYear, EndYear: s.EndYear, Ongoing: s.Ongoing,
		Dimensions: s.Dimensions, Beneficiaries: s.Beneficiaries,
		Languages: append([]string{s.Language}, tags...),
	}
	if s.Funding != nil {
		hit.FundingEUR = s.Funding.AmountEUR
	}

	keyword(fPublisher, hit.Publisher)
	keyword(fCountry, s.Country)
	for _, v := range s.Dimensions {
		keyword(fDimension, v)
	}
	for _, v := range s.TargetGroups {
		keyword(fTargetGroup, v)
	}
	if s.Funding != nil {
		for _, v := range s.Funding.Sources {
			keyword(fSource, v)
		}
	}
	if s.Achievement != "" {
		keyword(fAchievement, s.Achievement)
	}
	if s.Evaluation != "" {
		keyword(fEvaluation, s.Evaluation)
	}
	for _, l := range hit.Languages {
		keyword(fLanguage, l)
	}
	sf := sheetFacets{targetGroups: s.TargetGroups, achievement: s.Achievement, evaluation: s.Evaluation}
	if s.Funding != nil {
		sf.sources = s.Funding.Sources
	}
	for _, t := range rowTerms(&hit, sf) {
		keyword(fRow, t)
	}
	boolean(fHasTranslation, len(tags) > 0)
	boolean(fOngoing, s.Ongoing)
	boolean(fOpenEnd, s.EndYear == 0)
	number(fYear, int64(s.StartYear))
	if s.EndYear != 0 {
		number(fEndYear, int64(s.EndYear))
	}
	if hit.FundingEUR != nil {
		number(fFunding, *hit.FundingEUR)
	}
	if s.Beneficiaries != nil {
		number(fBeneficiaries, *s.Beneficiaries)
	}

	var t texts
	own := textSuffix(s.Language)
	t.add(titleField(own), s.Title)
	t.add(textField(own), s.Title, s.Summary, s.Objective, s.IssuesText, s.TargetGroupsText,
		s.Assistance, s.Activities, s.Outcomes)
	if s.Transferability != nil {
		t.add(textField(own), s.Transferability.Lessons)
	}
	t.add(textField("en"), codeWords(s.Issues), codeWords(s.TargetGroups))
	for _, tag := range tags {
		tr := s.Translations[tag]
		suffix := textSuffix(tag)
		t.add(titleField(suffix), tr.Title)
		t.add(textField(suffix), tr.Title, tr.Summary, tr.Objective)
	}
	for _, f := range t.fields {
		suffix := f.name[strings.IndexByte(f.name, '_')+1:]
		doc.AddField(document.NewTextFieldCustom(f.name, nil, []byte(f.b.String()), b.opts[f.name], b.analyzers[suffix]))
	}

	raw, err := json.Marshal(&hit)
	if err != nil {
		return nil, fmt.Errorf("encode hit of %s: %w", doc.ID(), err)
	}
	doc.AddField(document.NewTextFieldCustom(fHit, nil, raw, b.opts[fHit], nil))
	return doc, nil
}

// texts gathers the text of each text field, in order of first use.
type texts struct {
	fields []*textBuf
}

type textBuf struct {
	name string
	b    strings.Builder
}

func (t *texts) add(field string, parts ...string) {
	for _, p := range parts {
		if p == "" {
			continue
		}
		i := slices.IndexFunc(t.fields, func(f *textBuf) bool { return f.name == field })
		if i < 0 {
			t.fields = append(t.fields, &textBuf{name: field})
			i = len(t.fields) - 1
		}
		b := &t.fields[i].b
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
}

// codeWords renders codes as words: "civic_participation" → "civic participation".
func codeWords(codes []string) string {
	return strings.ReplaceAll(strings.Join(codes, " "), "_", " ")
}
