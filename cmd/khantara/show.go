package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
)

// The human output of show: the fact sheet laid out by protocol.Fields,
// then the record's provenance.

// labelWidth is the width of the labels of show and status.
const labelWidth = 19

// fields writes "Label:  value" lines, values wrapped under each other.
type fields struct {
	w     io.Writer
	width int
}

// add writes one field; an empty value writes nothing.
func (f fields) add(label, value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	pad := strings.Repeat(" ", labelWidth)
	text := wrapText(value, max(20, f.width-labelWidth), pad)
	head := label + ":"
	if n := utf8.RuneCountInString(head); n < labelWidth {
		head += strings.Repeat(" ", labelWidth-n)
	} else {
		head += " "
	}
	fmt.Fprint(f.w, head+strings.TrimPrefix(text, pad))
}

// text writes a heading and a wrapped paragraph below it.
func (f fields) text(heading, value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	fmt.Fprintf(f.w, "\n%s\n%s", heading, wrapText(value, f.width-2, "  "))
}

// printRecord writes show's human output: the sheet, then the provenance.
func printRecord(w io.Writer, rec api.Record, now time.Time, width int) {
	f := fields{w: w, width: width}
	switch {
	case rec.Kind == protocol.KindRetract:
		fmt.Fprintf(w, "Practice %s is retracted: its publisher withdrew it.\n\n", rec.ID)
		reason := "(none given)"
		if rec.Retraction != nil && rec.Retraction.Reason != "" {
			reason = rec.Retraction.Reason
		}
		f.add("Reason", reason)
	case rec.Practice != nil:
		printSheet(f, rec.Practice)
	default:
		fmt.Fprintf(w, "%s\n\n", orText(rec.Title, rec.ID))
		f.add("ID", rec.ID)
		f.add("Kind", string(rec.Kind))
	}
	printProvenance(f, rec, now)
}

// showFacts are the fields of show's "Label: value" lines, in print order;
// fields with one label are one line.
var showFacts = func() []protocol.Field {
	var out []protocol.Field
	for _, fd := range protocol.Fields {
		if fd.Show.Section == protocol.ShowFacts {
			out = append(out, fd)
		}
	}
	slices.SortStableFunc(out, func(a, b protocol.Field) int { return a.Show.Order - b.Show.Order })
	return out
}()

// showLines make the lines of show that read several fields in their own
// way; other lines of several fields join their values with commas.
var showLines = map[string]func(s *protocol.FactSheet) string{
	"Years":   yearsText,
	"Funding": func(s *protocol.FactSheet) string { return fundingText(s.Funding) },
}

// printSheet writes the sheet: its title underlined, its facts, then its
// texts under headings, as protocol.Fields places them.
func printSheet(f fields, s *protocol.FactSheet) {
	fmt.Fprintf(f.w, "%s\n%s\n\n", s.Title, strings.Repeat("=", min(f.width, max(3, utf8.RuneCountInString(s.Title)))))
	for i := 0; i < len(showFacts); {
		fd := &showFacts[i]
		j := i + 1
		for j < len(showFacts) && showFacts[j].Show.Label == fd.Show.Label {
			j++
		}
		switch {
		case showLines[fd.Show.Label] != nil:
			f.add(fd.Show.Label, showLines[fd.Show.Label](s))
		case fd.Type == protocol.TypeLinks:
			for _, l := range s.Links {
				f.add(fd.Show.Label, strings.TrimSpace(l.Title+" "+l.URL))
			}
		default:
			parts := make([]string, 0, j-i)
			for k := i; k < j; k++ {
				parts = append(parts, showValue(&showFacts[k], s))
			}
			f.add(fd.Show.Label, placeText(parts...))
		}
		i = j
	}
	for _, fd := range protocol.Fields {
		if fd.Show.Section == protocol.ShowText {
			f.text(fd.Show.Label, showValue(&fd, s))
		}
	}
}

// showValue is the text of one field of s, by its type.
func showValue(fd *protocol.Field, s *protocol.FactSheet) string {
	switch v := fd.Get(s).(type) {
	case string:
		if fd.Type == protocol.TypeCode {
			return words([]string{v})
		}
		return v
	case []string:
		switch fd.Type {
		case protocol.TypeCodes:
			return words(v)
		case protocol.TypeNames:
			return strings.Join(v, "; ")
		}
		return strings.Join(v, ", ")
	case *int64:
		if v == nil {
			return ""
		}
		return groupDigits(*v)
	case *bool:
		return yesNo(v)
	case protocol.Degrees:
		return v.String()
	case map[string]protocol.Translation:
		return strings.Join(slices.Sorted(maps.Keys(v)), ", ")
	}
	return "" // numbers show only within the lines of showLines
}

// printProvenance writes the record's provenance.
func printProvenance(f fields, rec api.Record, now time.Time) {
	fmt.Fprintf(f.w, "\nProvenance\n----------\n")
	pub := rec.Publisher
	if p := rec.Profile; p != nil {
		pub += " (" + placeText(p.Name, p.Country) + ")"
	} else {
		pub += " (no profile known here)"
	}
	f.add("Publisher", pub)
	sig := "verified against the publisher's key"
	if rec.Signer != "" && rec.Signer != rec.Publisher {
		sig = "verified against the signing key"
		f.add("Organisation", orText(rec.Organisation, "(its chain is not known here)")+", "+rec.Publisher)
		f.add("Signed by", rec.Signer+" (a key the organisation delegates)")
	}
	f.add("Sequence", strconv.FormatUint(rec.Seq, 10))
	if !rec.Time.IsZero() {
		f.add("Signed at", whenText(rec.Time, now))
	}
	f.add("Hash", rec.Hash)
	if rec.SignatureVerified {
		f.add("Signature", sig)
	} else {
		f.add("Signature", "NOT verified")
	}
	from := "published here"
	if rec.From != "" {
		from = "from peer " + rec.From
	}
	f.add("Received", whenText(rec.ReceivedAt, now)+", "+from)
}

// words turns vocabulary codes into words: "socio_economic" reads
// "socio economic".
func words(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = strings.ReplaceAll(c, "_", " ")
	}
	return strings.Join(out, ", ")
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// yearsText is "2011-ongoing", "2011-2014" or "2011", with the duration.
func yearsText(s *protocol.FactSheet) string {
	if s.StartYear == 0 {
		return ""
	}
	t := strconv.Itoa(s.StartYear)
	switch {
	case s.Ongoing:
		t += "–ongoing"
	case s.EndYear != 0:
		t += "–" + strconv.Itoa(s.EndYear)
	}
	if s.DurationYears > 0 {
		t += fmt.Sprintf(" (planned for %s)", plural(s.DurationYears, "year"))
	}
	return t
}

func plural(n float64, unit string) string {
	s := strconv.FormatFloat(n, 'f', -1, 64)
	if n != 1 {
		unit += "s"
	}
	return s + " " + unit
}

// fundingText is "EUR 8,000 over 1 year; sources: local".
func fundingText(f *protocol.Funding) string {
	if f == nil {
		return ""
	}
	var parts []string
	if f.AmountEUR != nil {
		a := "EUR " + groupDigits(*f.AmountEUR)
		if f.PeriodYears > 0 {
			a += " over " + plural(f.PeriodYears, "year")
		}
		parts = append(parts, a)
	}
	if len(f.Sources) > 0 {
		parts = append(parts, "sources: "+words(f.Sources))
	}
	return strings.Join(parts, "; ")
}

// placeText joins the non-empty parts with commas.
func placeText(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}
