package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// bom is the UTF-8 byte order mark.
const bom = "\uFEFF"

// CSV writes one row per practice of recs to w, after a header row, and
// returns the number of practices written. The output is UTF-8, starting
// with a byte order mark unless opts.NoBOM, quoted as encoding/csv does
// (RFC 4180 with LF line ends): multi-line text stays in one quoted cell,
// its line breaks written as LF.
//
// The columns, in order: publisher, publisher_name (from opts.Profiles),
// id, seq, title, language, translations (the translations' language tags,
// comma-joined), country, region, city, organiser, start_year, end_year,
// ongoing, duration_years, dimensions, issues, target_groups, funding_eur,
// funding_period_years, funding_sources, partner_types, partner_names,
// beneficiaries, achievement, evaluation, part_of_national_programme,
// replicable, summary, objective, context, challenges, assistance,
// activities, outcomes, lessons, other_information, website (the contact
// website), links (the URLs), tags, signed_at (the publisher's signed
// time), received_at, received_from (empty for this node's own
// publications), hash. Lists are joined with "; ". A value the sheet does
// not give is an empty cell; numbers are written plainly (1500000, 0.45),
// booleans as true or false (ongoing is false when the sheet gives an end
// year, empty when it gives neither), times in RFC 3339 (UTC). The sheet's other
// texts (issues_text, funding notes, contact, ...) are in JSONL.
//
// Formula injection: a spreadsheet runs a cell that begins with =, +, -
// or @ (and some also one that begins with a tab or CR) as a formula, so
// such a cell is written with a leading apostrophe ('=SUM(A1) instead of
// =SUM(A1)), unless it is a plain number such as -5 or 2.5. The apostrophe
// is part of the cell's text for tools other than spreadsheets; JSONL has
// the exact texts.
//
// Writes go through a buffer, flushed before CSV returns. An error from
// recs aborts the export and is returned as is, with the number of rows
// written before it.
func CSV(w io.Writer, recs Source, opts Options) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if !opts.NoBOM {
		bw.WriteString(bom) // an error sticks in bw and shows at Flush
	}
	cw := csv.NewWriter(bw) // reuses bw: it is a large enough *bufio.Writer
	row := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		row[i] = c.name
	}
	cw.Write(row)
	n, err := eachPractice(recs, func(rec *store.Record, a *protocol.Announcement) error {
		r := csvRow{rec: rec, a: a, s: a.Practice, opts: &opts}
		for i, c := range csvColumns {
			row[i] = neutralise(c.value(&r))
		}
		return cw.Write(row)
	})
	cw.Flush()
	if werr := cw.Error(); werr != nil {
		return n, fmt.Errorf("write CSV: %w", werr)
	}
	return n, err
}

// csvRow is the practice a row is made from.
type csvRow struct {
	rec  *store.Record
	a    *protocol.Announcement
	s    *protocol.FactSheet
	opts *Options
}

// csvColumn is one column: its header and how to fill it.
type csvColumn struct {
	name  string
	value func(r *csvRow) string
}

// csvColumns are the columns of CSV, in order (its doc comment lists them).
var csvColumns = []csvColumn{
	{"publisher", func(r *csvRow) string { return r.a.Publisher.String() }},
	{"publisher_name", func(r *csvRow) string { return profileName(r.opts.Profiles, r.a.Publisher) }},
	{"id", func(r *csvRow) string { return r.s.ID }},
	{"seq", func(r *csvRow) string { return strconv.FormatUint(r.a.Seq, 10) }},
	{"title", func(r *csvRow) string { return r.s.Title }},
	{"language", func(r *csvRow) string { return r.s.Language }},
	{"translations", func(r *csvRow) string {
		return strings.Join(slices.Sorted(maps.Keys(r.s.Translations)), ",")
	}},
	{"country", func(r *csvRow) string { return r.s.Country }},
	{"region", func(r *csvRow) string { return r.s.Region }},
	{"city", func(r *csvRow) string { return r.s.City }},
	{"organiser", func(r *csvRow) string { return r.s.Organiser }},
	{"start_year", func(r *csvRow) string { return year(r.s.StartYear) }},
	{"end_year", func(r *csvRow) string { return year(r.s.EndYear) }},
	{"ongoing", func(r *csvRow) string {
		switch {
		case r.s.Ongoing:
			return "true"
		case r.s.EndYear != 0:
			return "false"
		}
		return "" // neither ongoing nor an end year: not given
	}},
	{"duration_years", func(r *csvRow) string { return years(r.s.DurationYears) }},
	{"dimensions", func(r *csvRow) string { return list(r.s.Dimensions) }},
	{"issues", func(r *csvRow) string { return list(r.s.Issues) }},
	{"target_groups", func(r *csvRow) string { return list(r.s.TargetGroups) }},
	{"funding_eur", func(r *csvRow) string {
		if f := r.s.Funding; f != nil && f.AmountEUR != nil {
			return strconv.FormatInt(*f.AmountEUR, 10)
		}
		return ""
	}},
	{"funding_period_years", func(r *csvRow) string {
		if f := r.s.Funding; f != nil {
			return years(f.PeriodYears)
		}
		return ""
	}},
	{"funding_sources", func(r *csvRow) string {
		if f := r.s.Funding; f != nil {
			return list(f.Sources)
		}
		return ""
	}},
	{"partner_types", func(r *csvRow) string {
		if p := r.s.Partners; p != nil {
			return list(p.Types)
		}
		return ""
	}},
	{"partner_names", func(r *csvRow) string {
		if p := r.s.Partners; p != nil {
			return list(p.Names)
		}
		return ""
	}},
	{"beneficiaries", func(r *csvRow) string {
		if b := r.s.Beneficiaries; b != nil {
			return strconv.FormatInt(*b, 10)
		}
		return ""
	}},
	{"achievement", func(r *csvRow) string { return r.s.Achievement }},
	{"evaluation", func(r *csvRow) string { return r.s.Evaluation }},
	{"part_of_national_programme", func(r *csvRow) string { return boolean(r.s.PartOfNationalProgramme) }},
	{"replicable", func(r *csvRow) string {
		if t := r.s.Transferability; t != nil {
			return boolean(t.Replicable)
		}
		return ""
	}},
	{"summary", func(r *csvRow) string { return text(r.s.Summary) }},
	{"objective", func(r *csvRow) string { return text(r.s.Objective) }},
	{"context", func(r *csvRow) string { return text(r.s.Context) }},
	{"challenges", func(r *csvRow) string { return text(r.s.Challenges) }},
	{"assistance", func(r *csvRow) string { return text(r.s.Assistance) }},
	{"activities", func(r *csvRow) string { return text(r.s.Activities) }},
	{"outcomes", func(r *csvRow) string { return text(r.s.Outcomes) }},
	{"lessons", func(r *csvRow) string {
		if t := r.s.Transferability; t != nil {
			return text(t.Lessons)
		}
		return ""
	}},
	{"other_information", func(r *csvRow) string { return text(r.s.OtherInformation) }},
	{"website", func(r *csvRow) string {
		if c := r.s.Contact; c != nil {
			return c.Website
		}
		return ""
	}},
	{"links", func(r *csvRow) string {
		urls := make([]string, len(r.s.Links))
		for i, l := range r.s.Links {
			urls[i] = l.URL
		}
		return list(urls)
	}},
	{"tags", func(r *csvRow) string { return list(r.s.Tags) }},
	{"signed_at", func(r *csvRow) string { return timestamp(r.a.Time) }},
	{"received_at", func(r *csvRow) string { return timestamp(r.rec.ReceivedAt) }},
	{"received_from", func(r *csvRow) string { return r.rec.From }},
	{"hash", func(r *csvRow) string { return r.rec.Signed.Hash().String() }},
}

// neutralise defuses a cell that a spreadsheet would run as a formula.
func neutralise(s string) string {
	if s == "" || isPlainNumber(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// isPlainNumber reports whether s is an optionally signed decimal number
// without exponent or separators: 12, -5, +2.5.
func isPlainNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	return digits(whole) && (!dot || digits(frac))
}

func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// text writes line breaks as LF, as encoding/csv reads them back.
func text(s string) string {
	if strings.Contains(s, "\r\n") {
		return strings.ReplaceAll(s, "\r\n", "\n")
	}
	return s
}

func list(vs []string) string { return strings.Join(vs, "; ") }

func year(y int) string {
	if y == 0 {
		return ""
	}
	return strconv.Itoa(y)
}

func years(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func boolean(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
