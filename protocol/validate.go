package protocol

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// idPattern and tagPattern are the grammars of ids and tags as regular
// expressions; validID and validSlug implement them without one (tests
// check that the two agree).
var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,63}$`)
	tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// validSlug reports whether s is lo to hi bytes of a-z, 0-9 and '-',
// not starting with '-' (the grammar of ids, tags and list names).
func validSlug(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// validID reports whether s is an id: 3-64 characters of a-z, 0-9 and
// '-', not starting with '-' (^[a-z0-9][a-z0-9-]{2,63}$).
func validID(s string) bool { return validSlug(s, 3, 64) }

// Validate checks every rule of protocol v1 and returns nil or a
// *ValidationError listing all problems, each with its field path.
func (s *FactSheet) Validate() error {
	var p problems
	s.validate(&p, "")
	return p.err()
}

func (s *FactSheet) validate(p *problems, prefix string) {
	s.validateHead(p, prefix)
	s.validateBody(p, prefix)
	s.validateRefs(p, prefix)
}

// validateHead checks the identification: id, titles, languages, place
// and years.
func (s *FactSheet) validateHead(p *problems, prefix string) {
	at := func(f string) string { return prefix + f }
	checkID(p, at("id"), s.ID)
	checkLine(p, at("title"), s.Title, MaxTitleLen, true)
	checkLang(p, at("language"), s.Language, true)
	checkText(p, at("summary"), s.Summary, MaxSummaryLen)
	if len(s.Translations) > MaxTranslations {
		p.add(at("translations"), "at most %d translations, got %d", MaxTranslations, len(s.Translations))
	}
	for _, tag := range sortedKeys(s.Translations) {
		tr := s.Translations[tag]
		path := at("translations." + tag)
		if checkLang(p, path, tag, true) && tag == s.Language {
			p.add(path, "is the sheet's own language; put these texts in the main fields")
		}
		checkLine(p, path+".title", tr.Title, MaxTitleLen, true)
		checkText(p, path+".summary", tr.Summary, MaxSummaryLen)
		checkText(p, path+".objective", tr.Objective, MaxTextLen)
	}

	checkCountry(p, at("country"), s.Country, true)
	checkLine(p, at("region"), s.Region, MaxPlaceLen, false)
	checkLine(p, at("city"), s.City, MaxPlaceLen, false)
	if s.Location != nil {
		s.Location.validate(p, at("location"))
	}
	checkLine(p, at("organiser"), s.Organiser, MaxNameLen, true)

	switch {
	case s.StartYear == 0:
		p.add(at("start_year"), "is required (the year the practice began)")
	default:
		checkYear(p, at("start_year"), s.StartYear)
	}
	if s.EndYear != 0 {
		checkYear(p, at("end_year"), s.EndYear)
		if s.StartYear != 0 && s.EndYear < s.StartYear {
			p.add(at("end_year"), "must not be before start_year (%d), got %d", s.StartYear, s.EndYear)
		}
		if s.Ongoing {
			p.add(at("ongoing"), "is true but end_year is %d; remove one of them", s.EndYear)
		}
	}
	checkYears(p, at("duration_years"), s.DurationYears)
}

// validateBody checks the description, from context to other_information.
func (s *FactSheet) validateBody(p *problems, prefix string) {
	at := func(f string) string { return prefix + f }
	checkText(p, at("context"), s.Context, MaxTextLen)
	checkText(p, at("challenges"), s.Challenges, MaxTextLen)
	if s.Objective == "" {
		p.add(at("objective"), "is required (the main aim, in a sentence or two)")
	}
	checkText(p, at("objective"), s.Objective, MaxTextLen)
	if len(s.Dimensions) == 0 {
		p.add(at("dimensions"), "needs at least one of %s", strings.Join(Dimensions, ", "))
	}
	checkCodes(p, at("dimensions"), s.Dimensions, Dimensions)
	checkCodes(p, at("issues"), s.Issues, Issues)
	checkText(p, at("issues_text"), s.IssuesText, MaxTextLen)
	checkCodes(p, at("target_groups"), s.TargetGroups, TargetGroups)
	checkText(p, at("target_groups_text"), s.TargetGroupsText, MaxTextLen)
	checkText(p, at("assistance"), s.Assistance, MaxTextLen)
	checkText(p, at("activities"), s.Activities, MaxTextLen)
	checkText(p, at("staff_training"), s.StaffTraining, MaxTextLen)

	if f := s.Funding; f != nil {
		if f.AmountEUR != nil {
			switch a := *f.AmountEUR; {
			case a < 0:
				p.add(at("funding.amount_eur"), "must be >= 0, got %d", a)
			case a > MaxAmountEUR:
				p.add(at("funding.amount_eur"), "must be at most %d, got %d", int64(MaxAmountEUR), a)
			}
		}
		checkYears(p, at("funding.period_years"), f.PeriodYears)
		checkCodes(p, at("funding.sources"), f.Sources, FundingSources)
		checkText(p, at("funding.notes"), f.Notes, MaxTextLen)
	}
	if pt := s.Partners; pt != nil {
		checkCodes(p, at("partners.types"), pt.Types, PartnerTypes)
		if len(pt.Names) > MaxPartnerNames {
			p.add(at("partners.names"), "at most %d names, got %d", MaxPartnerNames, len(pt.Names))
		}
		for i, n := range pt.Names {
			start := len(p.list)
			checkLine(p, "", n, MaxNameLen, true)
			p.element(start, at("partners.names"), i)
		}
		checkText(p, at("partners.description"), pt.Description, MaxTextLen)
	}
	if b := s.Beneficiaries; b != nil && (*b < 0 || *b > MaxBeneficiaries) {
		p.add(at("beneficiaries"), "must be between 0 and %d, got %d", int64(MaxBeneficiaries), *b)
	}
	checkText(p, at("beneficiaries_text"), s.BeneficiariesText, MaxSummaryLen)
	checkCode(p, at("achievement"), s.Achievement, Achievements)
	checkText(p, at("outcomes"), s.Outcomes, MaxTextLen)
	if t := s.Transferability; t != nil {
		checkText(p, at("transferability.lessons"), t.Lessons, MaxTextLen)
	}
	checkCode(p, at("evaluation"), s.Evaluation, Evaluations)
	checkText(p, at("evaluation_text"), s.EvaluationText, MaxTextLen)
	checkText(p, at("other_information"), s.OtherInformation, MaxTextLen)
}

// validateRefs checks the contact, the links and the tags.
func (s *FactSheet) validateRefs(p *problems, prefix string) {
	at := func(f string) string { return prefix + f }
	if c := s.Contact; c != nil {
		checkLine(p, at("contact.organisation"), c.Organisation, MaxNameLen, false)
		checkLine(p, at("contact.unit"), c.Unit, MaxNameLen, false)
		checkEmail(p, at("contact.email"), c.Email)
		checkURL(p, at("contact.website"), c.Website, false)
	}
	if len(s.Links) > MaxLinks {
		p.add(at("links"), "at most %d links, got %d", MaxLinks, len(s.Links))
	}
	for i, l := range s.Links {
		start := len(p.list)
		checkLine(p, ".title", l.Title, MaxTitleLen, false)
		checkURL(p, ".url", l.URL, true)
		p.element(start, at("links"), i)
	}
	if len(s.Tags) > MaxTags {
		p.add(at("tags"), "at most %d tags, got %d", MaxTags, len(s.Tags))
	}
	seen := make(map[string]bool, len(s.Tags))
	for i, t := range s.Tags {
		start := len(p.list)
		switch {
		case len(t) > MaxTagLen:
			p.add("", "at most %d characters, got %d", MaxTagLen, len(t))
		case !validSlug(t, 1, MaxTagLen):
			p.add("", "%q: use lower-case letters, digits and '-'", t)
		case seen[t]:
			p.add("", "%q appears twice", t)
		}
		p.element(start, at("tags"), i)
		seen[t] = true
	}
}

// Validate checks a profile; see FactSheet.Validate.
func (pr *Profile) Validate() error {
	var p problems
	pr.validate(&p, "")
	return p.err()
}

func (pr *Profile) validate(p *problems, prefix string) {
	checkLine(p, prefix+"name", pr.Name, MaxNameLen, true)
	checkCountry(p, prefix+"country", pr.Country, true)
	if pr.Level == "" {
		p.add(prefix+"level", "is required, one of %s", strings.Join(Levels, ", "))
	} else {
		checkCode(p, prefix+"level", pr.Level, Levels)
	}
	checkURL(p, prefix+"website", pr.Website, false)
	if len(pr.Languages) > MaxProfileLanguages {
		p.add(prefix+"languages", "at most %d languages, got %d", MaxProfileLanguages, len(pr.Languages))
	}
	for i, l := range pr.Languages {
		path := fmt.Sprintf("%slanguages[%d]", prefix, i)
		if checkLang(p, path, l, true) && slices.Contains(pr.Languages[:i], l) {
			p.add(path, "%q appears twice", l)
		}
	}
	checkText(p, prefix+"description", pr.Description, MaxSummaryLen)
}

// Validate checks a retraction; see FactSheet.Validate.
func (r *Retraction) Validate() error {
	var p problems
	r.validate(&p, "")
	return p.err()
}

func (r *Retraction) validate(p *problems, prefix string) {
	checkRetractID(p, prefix+"id", r.ID)
	checkText(p, prefix+"reason", r.Reason, MaxReasonLen)
}

// ValidateReason checks a retraction reason alone, as Retraction.Validate
// does (at most MaxReasonLen characters of valid UTF-8, no control
// characters but tab, CR and LF): nil or a *ValidationError on "reason".
func ValidateReason(reason string) error {
	var p problems
	checkText(&p, "reason", reason, MaxReasonLen)
	return p.err()
}

func checkID(p *problems, path, id string) {
	switch {
	case id == "":
		p.add(path, "is required: 3-64 characters of a-z, 0-9 and '-'")
	case !validID(id):
		p.add(path, "%q: use 3-64 characters of a-z, 0-9 and '-', starting with a letter or digit", truncate(id, 80))
	}
}

func checkYear(p *problems, path string, y int) {
	if y < MinYear || y > MaxYear {
		p.add(path, "must be a year between %d and %d, got %d", MinYear, MaxYear, y)
	}
}

func checkYears(p *problems, path string, v float64) {
	if math.IsNaN(v) || v < 0 || v > MaxDurationYears {
		p.add(path, "must be between 0 and %d years, got %g", MaxDurationYears, v)
	}
}

func checkCode(p *problems, path, v string, vocab []string) {
	if v != "" && !inVocab(vocab, v) {
		p.add(path, "%q is not one of %s", truncate(v, 40), strings.Join(vocab, ", "))
	}
}

func checkCodes(p *problems, path string, vs []string, vocab []string) {
	if len(vs) > len(vocab) {
		p.add(path, "at most %d values, got %d", len(vocab), len(vs))
		return
	}
	for i, v := range vs {
		if !inVocab(vocab, v) {
			checkCode(p, fmt.Sprintf("%s[%d]", path, i), v, vocab)
		}
		for _, w := range vs[:i] {
			if w == v {
				p.add(fmt.Sprintf("%s[%d]", path, i), "%q appears twice", v)
				break
			}
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
