package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/internal/text"
)

const (
	// defaultWidth is the terminal width assumed when $COLUMNS is unset.
	defaultWidth = 80
)

// printJSON writes v as indented JSON followed by a newline.
func printJSON(w io.Writer, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// newTable returns a tabwriter for human tables: columns separated by
// two spaces. The caller must Flush it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// shortPeer shortens a peer ID for tables to its last 8 characters after
// an ellipsis; JSON output always carries the full ID.
func shortPeer(id string) string {
	if utf8.RuneCountInString(id) <= 9 {
		return id
	}
	r := []rune(id)
	return "…" + string(r[len(r)-8:])
}

// truncateText shortens s to at most n characters, on one line.
var truncateText = text.Truncate

// orText is s, or alt when s is empty.
func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// wrapText breaks text into lines of at most width characters (longer
// words stay whole), each prefixed with indent. Runs of white space,
// newlines included, become one space; blank lines separate paragraphs.
func wrapText(text string, width int, indent string) string {
	var b strings.Builder
	for i, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteString("\n")
		}
		line := 0
		for _, w := range words {
			n := utf8.RuneCountInString(w)
			switch {
			case line == 0:
				b.WriteString(indent)
			case line+1+n > width:
				b.WriteString("\n" + indent)
				line = 0
			default:
				b.WriteByte(' ')
				line++
			}
			b.WriteString(w)
			line += n
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// termWidth is the width of the terminal from $COLUMNS, else 80,
// clamped to 40..200.
func termWidth() int {
	n, err := strconv.Atoi(os.Getenv("COLUMNS"))
	if err != nil || n <= 0 {
		return defaultWidth
	}
	return min(max(n, 40), 200)
}

// ago says how long before now t was, in the largest whole unit: "just
// now", "5 minutes ago", "3 days ago"; "in 2 minutes" for a time ahead of
// the local clock.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var n int64
	var unit string
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		n, unit = int64(d/time.Second), "second"
	case d < time.Hour:
		n, unit = int64(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int64(d/time.Hour), "hour"
	default:
		n, unit = int64(d/(24*time.Hour)), "day"
	}
	if n != 1 {
		unit += "s"
	}
	if suffix == "" {
		return fmt.Sprintf("in %d %s", n, unit)
	}
	return fmt.Sprintf("%d %s%s", n, unit, suffix)
}

// whenText is t in local time, RFC 3339, with how long ago it was; "-"
// for the zero time.
func whenText(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339) + " (" + ago(t, now) + ")"
}

// agoShort is ago for table cells: "-" for the zero time.
func agoShort(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return ago(t, now)
}

// groupDigits writes n with a comma between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
var shellQuote = text.ShellQuote

// isTerminal reports whether w is a terminal (a character device), and
// $TERM does not say "dumb".
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws "[=====>    ]  12/42  file.yaml" on one terminal line,
// redrawn in place with a carriage return. Not safe for concurrent use.
type progressBar struct {
	w     io.Writer
	total int
	width int // of the whole line
	last  int // length of the line drawn last, to blank it out
}

// newProgressBar returns a bar for total steps, as wide as the terminal.
func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, width: termWidth() - 1}
}

// line renders the bar after done steps, labelled.
func (p *progressBar) line(done int, label string) string {
	cells := min(30, max(10, p.width/3))
	filled := 0
	if p.total > 0 {
		filled = min(cells, done*cells/p.total)
	}
	var bar string
	switch {
	case filled >= cells:
		bar = strings.Repeat("=", cells)
	case done <= 0:
		bar = strings.Repeat(" ", cells)
	default:
		filled = max(filled, 1)
		bar = strings.Repeat("=", filled-1) + ">" + strings.Repeat(" ", cells-filled)
	}
	count := fmt.Sprintf("%*d/%d", len(strconv.Itoa(p.total)), done, p.total)
	s := "[" + bar + "]  " + count
	if room := p.width - utf8.RuneCountInString(s) - 2; label != "" && room > 3 {
		s += "  " + truncateText(label, room)
	}
	return s
}

// show redraws the bar after done steps.
func (p *progressBar) show(done int, label string) {
	s := p.line(done, label)
	n := utf8.RuneCountInString(s)
	pad := ""
	if p.last > n {
		pad = strings.Repeat(" ", p.last-n)
	}
	fmt.Fprint(p.w, "\r"+s+pad)
	p.last = n
}

// clear blanks the bar's line, for other output to take its place.
func (p *progressBar) clear() {
	if p.last > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.last)+"\r")
		p.last = 0
	}
}
