package search

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"

	"github.com/blevesearch/bleve/v2/analysis"
)

// Which experience records about a practice match a text by themselves
// (Hit.MatchedExperiences) could be asked of the records' own documents,
// but that is one more search per page, whose lookups of the page's
// practices in every segment cost about a millisecond at 100,000
// practices: as much as the rest of a small search. So a practice's
// document also stores, for each record about it, the set of terms its
// text field holds per language (hashed, 8 bytes a term), and a page is
// matched against them without the index: the query's text, analysed
// as each language's field analyses it, matches a record when each of
// its terms is in the record's set for that language, exactly as the
// record's own document would match. A practice whose records hold more
// than maxExpTerms terms in all stores none, and its page hit falls back
// to the search (matched.go).

// maxExpTerms bounds the terms a practice's document stores for its
// records (8 bytes each); a variable for tests.
var maxExpTerms = 20_000

// expTerms is what a practice's document stores of one record about it.
type expTerms struct {
	Ref ExperienceRef `json:"r"`
	// Terms maps a text field suffix to the record's terms there: sorted
	// 64-bit FNV-1a hashes, little endian.
	Terms map[string][]byte `json:"k,omitempty"`
}

// expTermsOf returns the encoded expTerms of the records about a
// practice, in docID order, or nil when they hold more than maxExpTerms
// terms.
func (b *docBuilder) expTermsOf(x *practiceExps) ([]byte, error) {
	out := make([]expTerms, 0, len(x.records))
	total := 0
	for i, e := range x.records {
		et := expTerms{Ref: ExperienceRef{Publisher: x.authors[i], Slot: e.Slot(), Type: string(e.Type), Title: e.Title}}
		sets := map[string]map[uint64]bool{}
		add := func(suffix string, texts ...string) {
			for _, t := range texts {
				for _, h := range b.termHashes(suffix, t) {
					if sets[suffix] == nil {
						sets[suffix] = map[uint64]bool{}
					}
					sets[suffix][h] = true
				}
			}
		}
		add(textSuffix(e.Language), expOwnTexts(e)...)
		for tag, tr := range e.Translations {
			add(textSuffix(tag), tr.Title, tr.Text)
		}
		for suffix, set := range sets {
			hs := slices.Sorted(maps.Keys(set))
			total += len(hs)
			if et.Terms == nil {
				et.Terms = map[string][]byte{}
			}
			buf := make([]byte, 0, 8*len(hs))
			for _, h := range hs {
				buf = binary.LittleEndian.AppendUint64(buf, h)
			}
			et.Terms[suffix] = buf
		}
		if total > maxExpTerms {
			return nil, nil
		}
		out = append(out, et)
	}
	slices.SortFunc(out, func(a, b expTerms) int { return compareRefs(a.Ref, b.Ref) })
	return json.Marshal(out)
}

// compareRefs orders records by docID: author, then slot.
func compareRefs(a, b ExperienceRef) int {
	switch x, y := a.Publisher+"/"+a.Slot, b.Publisher+"/"+b.Slot; {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// termHashes returns the hashes of the terms the analyzer of suffix
// makes of text.
func (b *docBuilder) termHashes(suffix, text string) []uint64 {
	a := b.analyzers[suffix]
	if a == nil || text == "" {
		return nil
	}
	return hashTokens(a.Analyze([]byte(text)))
}

func hashTokens(ts analysis.TokenStream) []uint64 {
	out := make([]uint64, 0, len(ts))
	for _, t := range ts {
		h := fnv.New64a()
		h.Write(t.Term)
		out = append(out, h.Sum64())
	}
	return out
}

// termMatcher matches one query text against stored expTerms, analysing
// the text once per language.
type termMatcher struct {
	b     *docBuilder
	text  string
	terms map[string][]uint64 // by suffix
}

func newTermMatcher(b *docBuilder, text string) *termMatcher {
	return &termMatcher{b: b, text: text, terms: map[string][]uint64{}}
}

// match returns the records of raw (a practice's stored expTerms) whose
// text matches, at most maxMatchedExperiences, in docID order.
func (m *termMatcher) match(raw []byte) ([]ExperienceRef, error) {
	var ets []expTerms
	if err := json.Unmarshal(raw, &ets); err != nil {
		return nil, err
	}
	var out []ExperienceRef
	for _, et := range ets {
		if len(out) == maxMatchedExperiences {
			break
		}
		for _, suffix := range slices.Sorted(maps.Keys(et.Terms)) {
			if m.matches(suffix, et.Terms[suffix]) {
				out = append(out, et.Ref)
				break
			}
		}
	}
	return out, nil
}

// matches reports whether every term of the text, as suffix's analyzer
// makes them, is in set; a text without terms there matches nothing.
func (m *termMatcher) matches(suffix string, set []byte) bool {
	q, ok := m.terms[suffix]
	if !ok {
		q = m.b.termHashes(suffix, m.text)
		m.terms[suffix] = q
	}
	if len(q) == 0 {
		return false
	}
	n := len(set) / 8
	for _, h := range q {
		lo, hi := 0, n
		for lo < hi {
			mid := (lo + hi) / 2
			if binary.LittleEndian.Uint64(set[8*mid:]) < h {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo == n || binary.LittleEndian.Uint64(set[8*lo:]) != h {
			return false
		}
	}
	return true
}
