package search

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/el"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fi"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/hu"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/lang/pl"
	"github.com/blevesearch/bleve/v2/analysis/lang/pt"
	"github.com/blevesearch/bleve/v2/analysis/lang/ro"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// docFormat versions how documents are built from fact sheets
// (document.go, row.go, indexingOptions). Bump it when that changes; a
// change of the mapping itself is detected from its JSON. Either makes
// Open rebuild the index.
//
// 2: the city facet and filter; 3: the place facet and filter, the hit's
// location; 4: experience records (their own documents, and in the
// practice's: their text, counts, facets and sort keys).
const docFormat = 4

// greekAnalyzer is our name for Greek text: bleve ships Greek stop words
// but no Greek analyzer or stemmer, so it is Unicode word breaks, lower
// case and those stop words.
const greekAnalyzer = "khantara_el"

// textLanguages maps a primary language subtag to the analyzer of its
// text fields (title_<lang>, text_<lang>). The analyzers are bleve's, by
// the names their packages register. Text in any other language goes to
// title_std and text_std, analysed by "standard": Unicode word breaks,
// lower case, English stop words, no stemming.
var textLanguages = map[string]string{
	"de": de.AnalyzerName, // lower case, stop words, German normalisation (ä→a, ß→ss), light stemmer
	"el": greekAnalyzer,
	"en": en.AnalyzerName, // possessives, lower case, stop words, Porter stemmer
	"es": es.AnalyzerName, // lower case, Spanish normalisation, stop words, light stemmer
	"fi": fi.AnalyzerName, // lower case, stop words, Snowball stemmer
	"fr": fr.AnalyzerName, // elision (l', d'), lower case, stop words, light stemmer
	"hu": hu.AnalyzerName, // lower case, stop words, Snowball stemmer
	"it": it.AnalyzerName, // elision (l', dell'), lower case, stop words, light stemmer
	"nl": nl.AnalyzerName, // lower case, stop words, Snowball stemmer
	"pl": pl.AnalyzerName, // lower case, stop words, Stempel (Lucene's statistical Polish stemmer)
	"pt": pt.AnalyzerName, // lower case, stop words, light stemmer
	"ro": ro.AnalyzerName, // lower case, stop words, Snowball stemmer
	"sv": sv.AnalyzerName, // lower case, stop words, Snowball stemmer
}

// stdSuffix names the text fields of languages without an analyzer.
const stdSuffix = "std"

// textSuffixes are the suffixes of every pair of text fields, sorted.
var textSuffixes = append(slices.Sorted(maps.Keys(textLanguages)), stdSuffix)

// textSuffix returns the suffix of the text fields for a BCP 47 tag.
func textSuffix(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	if _, ok := textLanguages[base]; ok {
		return base
	}
	return stdSuffix
}

// analyzerOf returns the analyzer name of a text field suffix.
func analyzerOf(suffix string) string {
	if a, ok := textLanguages[suffix]; ok {
		return a
	}
	return standard.Name
}

func titleField(suffix string) string { return "title_" + suffix }
func textField(suffix string) string  { return "text_" + suffix }

// The text fields of experience documents: an experience's own title
// and text, apart from the practices' (whose text_ fields also hold the
// text of their experiences, see expdoc.go).
func expTitleField(suffix string) string { return "xtitle_" + suffix }
func expTextField(suffix string) string  { return "xtext_" + suffix }

// Field names. Keyword, number and boolean fields serve filters; the
// field with doc values of each kind of document, fRow (practices) or
// fxRow (experience records), holds what a search reads for every match
// (see row.go).
const (
	fPublisher      = "publisher"       // keyword
	fCountry        = "country"         // keyword
	fDimension      = "dimension"       // keyword, one per value
	fTargetGroup    = "target_group"    // keyword
	fSource         = "funding_source"  // keyword
	fAchievement    = "achievement"     // keyword
	fEvaluation     = "evaluation"      // keyword
	fLanguage       = "language"        // keyword: the sheet's and its translations' tags
	fCity           = "city"            // keyword: "<country>/<city>", when the sheet gives a city
	fPlace          = "place"           // keyword: PlaceValue, when the sheet gives a location or a city
	fHasTranslation = "has_translation" // boolean
	fOngoing        = "ongoing"         // boolean
	fOpenEnd        = "open_end"        // boolean: ongoing, or no end_year given
	fYear           = "year"            // number: start year
	fEndYear        = "end_year"        // number, when given
	fFunding        = "funding"         // number: funding.amount_eur, when given
	fBeneficiaries  = "beneficiaries"   // number, when given
	fRow            = "row"             // keyword, doc values: see row.go
	fHit            = "hit"             // stored only: the Hit (or ExperienceHit) as JSON

	// Both kinds of document.
	fKind = "kind" // keyword: kindPractice or kindExperience

	// Practices: what their experiences add.
	fEndorsedBy = "endorsed_by" // keyword: the publishers of its live endorsements
	fAdapted    = "adapted"     // number: its live adaptations, 0 too
	fHasLessons = "has_lessons" // boolean: it has a live lesson
	fExpSlots   = "exp_slots"   // keyword: docID of each experience it holds (findExpHolders)

	// Experience documents (expdoc.go).
	fxPublisher  = "x_publisher"   // keyword: its author
	fxType       = "x_type"        // keyword: its type
	fxLanguage   = "x_language"    // keyword: its language and its translations'
	fxCountry    = "x_country"     // keyword: an adaptation's country
	fxAbout      = "x_about"       // keyword: "<publisher>/<practice ID>" of the practice it is about
	fxAboutState = "x_about_state" // keyword: AboutHeld, AboutRetracted or AboutNotHeld
	fxRow        = "x_row"         // keyword, doc values: the row of an experience document (row.go)
	fExpTerms    = "x_terms"       // stored only, in a practice's document: its records' terms (exptokens.go)
)

// keywordFields are every keyword field, and whether it has doc values.
var keywordFields = map[string]bool{
	fPublisher: false, fCountry: false, fDimension: false, fTargetGroup: false,
	fSource: false, fAchievement: false, fEvaluation: false, fLanguage: false, fCity: false, fPlace: false, fRow: true,
	fKind: false, fEndorsedBy: false, fExpSlots: false,
	fxPublisher: false, fxType: false, fxLanguage: false, fxCountry: false, fxAbout: false, fxAboutState: false,
	fxRow: true,
}

// numericFields are every numeric field, and whether it has doc values.
var numericFields = map[string]bool{fYear: false, fEndYear: false, fFunding: false, fBeneficiaries: false, fAdapted: false}

// booleanFields are every boolean field, and whether it has doc values.
var booleanFields = map[string]bool{fHasTranslation: false, fOngoing: false, fOpenEnd: false, fHasLessons: false}

// newMapping returns the index mapping and its version. Nothing is
// dynamic and nothing goes to _all: documents are built field by field
// (document.go) with the options of these field mappings. Text fields
// keep frequencies and norms for scoring but no term vectors and no
// stored copy; keyword, numeric and boolean fields skip frequencies and
// norms, since filters never score.
func newMapping() (*mapping.IndexMappingImpl, string, error) {
	im := bleve.NewIndexMapping()
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	err := im.AddCustomAnalyzer(greekAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name, el.StopName},
	})
	if err != nil {
		return nil, "", fmt.Errorf("greek analyzer: %w", err)
	}
	dm := bleve.NewDocumentStaticMapping()
	add := func(name, typ, analyzer string, index, store, docValues, skipNorms bool) {
		dm.AddFieldMappingsAt(name, &mapping.FieldMapping{
			Type: typ, Analyzer: analyzer, Index: index, Store: store,
			DocValues: docValues, SkipFreqNorm: skipNorms,
		})
	}
	for _, s := range textSuffixes {
		add(titleField(s), "text", analyzerOf(s), true, false, false, false)
		add(textField(s), "text", analyzerOf(s), true, false, false, false)
		add(expTitleField(s), "text", analyzerOf(s), true, false, false, false)
		add(expTextField(s), "text", analyzerOf(s), true, false, false, false)
	}
	for name, dv := range keywordFields {
		add(name, "text", keyword.Name, true, false, dv, true)
	}
	for name, dv := range numericFields {
		add(name, "number", "", true, false, dv, true)
	}
	for name, dv := range booleanFields {
		add(name, "boolean", "", true, false, dv, true)
	}
	add(fHit, "text", keyword.Name, false, true, false, true)
	add(fExpTerms, "text", keyword.Name, false, true, false, true)
	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, "", fmt.Errorf("index mapping: %w", err)
	}
	raw, err := json.Marshal(im)
	if err != nil {
		return nil, "", fmt.Errorf("index mapping: %w", err)
	}
	sum := sha256.Sum256(raw)
	return im, fmt.Sprintf("%d-%s", docFormat, hex.EncodeToString(sum[:8])), nil
}

// indexingOptions returns the indexing options of every mapped field, so
// documents are built as the mapping says.
//
// Doc values are stored uncompressed and unchunked, which mappings
// cannot state: a search reads them for every match, and snappy-decoding
// a chunk of 1,024 documents' values to read one of them was its largest
// cost. Uncompressed, the rows take a few tens of MB at 100,000
// practices. Only both options together work: zapx v17's merge reads
// SkipDVCompression alone as if it were SkipDVChunking.
func indexingOptions(im *mapping.IndexMappingImpl) map[string]index.FieldIndexingOptions {
	out := make(map[string]index.FieldIndexingOptions, len(im.DefaultMapping.Properties))
	for name, dm := range im.DefaultMapping.Properties {
		o := dm.Fields[0].Options()
		if o.IncludeDocValues() {
			o |= index.SkipDVCompression | index.SkipDVChunking
		}
		out[name] = o
	}
	return out
}
