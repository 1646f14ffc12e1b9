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

// build returns the document of a practice announcement, with what the
// live experience records about it add (x; nil for none). The facets and
// texts of the sheet are those protocol.Fields gives an index use: the
// text of the sheet's own language goes to that language's fields, each
// translation's to its language's fields, and the issue and target-group
// codes, as English words, to the English fields; the records' texts go
// to the text fields of their languages (expdoc.go).
func (b *docBuilder) build(a *protocol.Announcement, x *practiceExps) (*document.Document, error) {
	if x == nil {
		x = &practiceExps{}
	}
	s := a.Practice
	doc := document.NewDocument(docID(a.Publisher, s.ID))
	tags := slices.Sorted(maps.Keys(s.Translations))
	hit := Hit{
		Publisher: a.Publisher.String(), ID: s.ID, Seq: a.Seq, Title: s.Title,
		Language: s.Language, Organiser: s.Organiser, Country: s.Country,
		StartYear: s.StartYear, EndYear: s.EndYear, Ongoing: s.Ongoing,
		Dimensions: s.Dimensions, Beneficiaries: s.Beneficiaries,
		Languages:        append([]string{s.Language}, tags...),
		ExperienceCounts: x.counts,
	}
	sf := sheetFacets{targetGroups: s.TargetGroups, achievement: s.Achievement, evaluation: s.Evaluation,
		city: CityValue(s.Country, s.City), place: PlaceValue(s), endorsers: x.endorsers, adaptedIn: x.adaptedIn}
	if !s.Location.Empty() {
		hit.Location = &Point{Lat: s.Location.Lat.Float(), Lon: s.Location.Lon.Float()}
	}
	if s.Funding != nil {
		hit.FundingEUR = s.Funding.AmountEUR
		sf.sources = s.Funding.Sources
	}

	b.keyword(doc, fKind, KindPractice)
	b.keyword(doc, fPublisher, hit.Publisher)
	for _, f := range protocol.Fields {
		if f.Facet != "" {
			b.facet(doc, f.Facet, f.Get(s))
		}
	}
	for _, l := range hit.Languages {
		b.keyword(doc, fLanguage, l)
	}
	if sf.city != "" {
		b.keyword(doc, fCity, sf.city)
	}
	if sf.place != "" {
		b.keyword(doc, fPlace, sf.place)
	}
	for _, t := range rowTerms(&hit, sf) {
		b.keyword(doc, fRow, t)
	}
	b.boolean(doc, fHasTranslation, len(tags) > 0)
	b.boolean(doc, fOpenEnd, s.EndYear == 0)
	b.number(doc, fAdapted, int64(x.counts.Adaptations))
	b.boolean(doc, fHasLessons, x.counts.Lessons > 0)
	for _, p := range slices.Compact(slices.Clone(x.endorsers)) {
		b.keyword(doc, fEndorsedBy, p)
	}
	for _, id := range x.holds {
		b.keyword(doc, fExpSlots, id)
	}
	b.texts(doc, s, tags, x)

	raw, err := json.Marshal(&storedHit{Hit: hit, ExpSuffixes: x.suffixes()})
	if err != nil {
		return nil, fmt.Errorf("encode hit of %s: %w", doc.ID(), err)
	}
	doc.AddField(document.NewTextFieldCustom(fHit, nil, raw, b.opts[fHit], nil))
	if len(x.records) > 0 {
		terms, err := b.expTermsOf(x)
		if err != nil {
			return nil, fmt.Errorf("encode the experience terms of %s: %w", doc.ID(), err)
		}
		if terms != nil {
			doc.AddField(document.NewTextFieldCustom(fExpTerms, nil, terms, b.opts[fExpTerms], nil))
		}
	}
	return doc, nil
}

func (b *docBuilder) keyword(doc *document.Document, name, v string) {
	doc.AddField(document.NewTextFieldCustom(name, nil, []byte(v), b.opts[name], nil))
}

func (b *docBuilder) number(doc *document.Document, name string, v int64) {
	doc.AddField(document.NewNumericFieldWithIndexingOptions(name, nil, float64(v), b.opts[name]))
}

func (b *docBuilder) boolean(doc *document.Document, name string, v bool) {
	doc.AddField(document.NewBooleanFieldWithIndexingOptions(name, nil, v, b.opts[name]))
}

// facet indexes the value of a field in index field name: codes and
// texts as keywords (one per value, none when empty), years and counts as
// numbers when given, a boolean as true or false (not given is false).
func (b *docBuilder) facet(doc *document.Document, name string, v any) {
	switch v := v.(type) {
	case string:
		if v != "" {
			b.keyword(doc, name, v)
		}
	case []string:
		for _, x := range v {
			b.keyword(doc, name, x)
		}
	case int:
		if v != 0 {
			b.number(doc, name, int64(v))
		}
	case *int64:
		if v != nil {
			b.number(doc, name, *v)
		}
	case *bool:
		b.boolean(doc, name, v != nil && *v)
	case bool:
		b.boolean(doc, name, v)
	}
}

// texts adds the text fields of s: its title and texts in its language
// first, then its codes as English words, then its translations, then
// the texts of the experience records about it.
func (b *docBuilder) texts(doc *document.Document, s *protocol.FactSheet, tags []string, x *practiceExps) {
	var t texts
	own := textSuffix(s.Language)
	for _, f := range protocol.Fields {
		switch f.Search {
		case protocol.SearchTitle:
			t.add(titleField(own), f.Get(s).(string))
			t.add(textField(own), f.Get(s).(string))
		case protocol.SearchOwn:
			t.add(textField(own), f.Get(s).(string))
		}
	}
	for _, f := range protocol.Fields {
		if f.Search == protocol.SearchWords {
			t.add(textField("en"), codeWords(f.Get(s).([]string)))
		}
	}
	for _, tag := range tags {
		tr := s.Translations[tag]
		suffix := textSuffix(tag)
		t.add(titleField(suffix), tr.Title)
		t.add(textField(suffix), tr.Title, tr.Summary, tr.Objective)
	}
	addExpTexts(&t, x, textField)
	b.addTexts(doc, &t)
}

// addTexts adds the text fields gathered in t to doc, each analysed by
// its language's analyzer.
func (b *docBuilder) addTexts(doc *document.Document, t *texts) {
	for _, f := range t.fields {
		suffix := f.name[strings.IndexByte(f.name, '_')+1:]
		doc.AddField(document.NewTextFieldCustom(f.name, nil, []byte(f.b.String()), b.opts[f.name], b.analyzers[suffix]))
	}
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
