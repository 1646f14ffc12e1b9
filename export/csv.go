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
// The columns, in order: publisher (a peer ID, or an organisation ID),
// publisher_name (an organisation's name from opts.Chains, else the
// profile's name from opts.Profiles), then one column per field of the sheet, in the order of protocol.Fields
// (seq follows id): id, seq, title, language, translations (the
// translations' language tags, comma-joined), country, region, city,
// lat and lon (the location's degrees as the sheet writes them),
// organiser, start_year, end_year, ongoing, duration_years, dimensions,
// issues, target_groups, funding_eur, funding_period_years,
// funding_sources, partner_types, partner_names, beneficiaries,
// achievement, evaluation, part_of_national_programme, replicable,
// summary, objective, context, challenges, issues_text,
// target_groups_text, assistance, activities, staff_training,
// funding_notes, partner_description, beneficiaries_text, outcomes,
// lessons, evaluation_text, other_information, contact_organisation,
// contact_unit, contact_email, website (the contact website), links (the
// URLs), tags; then signed_at (the publisher's signed time), received_at,
// received_from (empty for this node's own publications), hash, signer
// (the peer ID of the key that signed: the publisher itself for a plain
// publisher, a delegate of an organisation otherwise). Lists are
// joined with "; ". A value the sheet does not give is an empty cell;
// numbers are written plainly (1500000, 0.45), booleans as true or false
// (ongoing is false when the sheet gives an end year, empty when it gives
// neither), times in RFC 3339 (UTC). Translated texts and link titles are
// in JSONL.
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

// csvColumns are the columns of CSV, in order (its doc comment lists
// them): a sheet column per entry of protocol.Fields, in the table's
// order, and the record's own columns around them.
var csvColumns = buildColumns()

func buildColumns() []csvColumn {
	cols := []csvColumn{
		{"publisher", func(r *csvRow) string { return r.a.Publisher.String() }},
		{"publisher_name", func(r *csvRow) string { return publisherName(r.opts.Profiles, r.opts.Chains, r.a.Publisher) }},
	}
	for _, f := range protocol.Fields {
		cols = append(cols, csvColumn{f.CSV, func(r *csvRow) string { return cell(&f, r.s) }})
		if f.Path == "id" {
			cols = append(cols, csvColumn{"seq", func(r *csvRow) string { return strconv.FormatUint(r.a.Seq, 10) }})
		}
	}
	return append(cols,
		csvColumn{"signed_at", func(r *csvRow) string { return timestamp(r.a.Time) }},
		csvColumn{"received_at", func(r *csvRow) string { return timestamp(r.rec.ReceivedAt) }},
		csvColumn{"received_from", func(r *csvRow) string { return r.rec.From }},
		csvColumn{"hash", func(r *csvRow) string { return r.rec.Signed.Hash().String() }},
		csvColumn{"signer", func(r *csvRow) string { return r.rec.Signed.Signer().String() }},
	)
}

// cell is the text of field f of s, by the field's type.
func cell(f *protocol.Field, s *protocol.FactSheet) string {
	switch v := f.Get(s).(type) {
	case string:
		return text(v)
	case []string:
		return list(v)
	case int:
		return year(v)
	case float64:
		return years(v)
	case protocol.Degrees:
		return v.String()
	case *int64:
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	case *bool:
		return boolean(v)
	case bool:
		switch {
		case v:
			return "true"
		case f.Path == "ongoing" && s.EndYear != 0:
			return "false" // not ongoing: it ends
		}
		return "" // not given
	case map[string]protocol.Translation:
		return strings.Join(slices.Sorted(maps.Keys(v)), ",")
	case []protocol.Link:
		urls := make([]string, len(v))
		for i, l := range v {
			urls[i] = l.URL
		}
		return list(urls)
	}
	return "" // a type without a CSV form: TestCSVFields fails
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
