package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text rules of PROTOCOL.md section 5 read every byte of every text
// of a record, so they run eight bytes at a time over the printable ASCII
// that makes up most texts, and one character at a time elsewhere.

// Word-at-a-time constants: a byte 0x01 and a byte 0x80 in each lane.
const (
	lanes1   = 0x0101010101010101
	lanes80  = 0x8080808080808080
	lanesDEL = 0x7f * lanes1
	lanesSP  = ' ' * lanes1
)

// load64 reads s[i:i+8] as a little-endian word.
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// printable8 reports whether all eight bytes of w are printable ASCII
// (0x20 to 0x7e). A lane below 0x20 borrows in w - 0x20 per lane and a
// lane of 0x7f is zero in w ^ 0x7f per lane; either sets the lane's top
// bit where w's is clear (the classic "has less" and "has zero" tests,
// exact as to whether any lane matches).
func printable8(w uint64) bool {
	if w&lanes80 != 0 {
		return false
	}
	less := (w - ' '*lanes1) &^ w & lanes80
	d := w ^ lanesDEL
	del := (d - lanes1) &^ d & lanes80
	return less|del == 0
}

// textScan is what one pass over a text finds: its length in characters,
// whether it is all white space, whether it breaks lines (CR, LF, U+2028,
// U+2029), and the first control character or invalid UTF-8 (bad, with
// badRune the character; then the rest of the text is not read).
type textScan struct {
	n         int
	blank     bool
	multiline bool
	bad       bool
	invalid   bool // bad is invalid UTF-8, not a control character
	badRune   rune
}

// scanText reads s once for checkText and checkLine.
func scanText(s string) textScan {
	t := textScan{blank: true}
	i := 0
	for i < len(s) {
		if i+8 <= len(s) {
			if w := load64(s, i); printable8(w) {
				t.blank = t.blank && w == lanesSP
				t.n += 8
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n' || c == '\r':
				t.multiline = true
			case c == '\t':
			case c < 0x20 || c == 0x7f:
				t.bad, t.badRune = true, rune(c)
				return t
			}
			t.blank = t.blank && (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			i++
			t.n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			t.bad, t.invalid = true, true
			return t
		case unicode.IsControl(r):
			t.bad, t.badRune = true, r
			return t
		case r == '\u2028' || r == '\u2029':
			t.multiline = true
		}
		t.blank = t.blank && unicode.IsSpace(r)
		i += size
		t.n++
	}
	return t
}

// checkText enforces "text" (PROTOCOL.md section 5): valid UTF-8; no
// control character (C0, DEL, C1: Unicode category Cc) other than tab, LF
// and CR; at most max characters; and, unless empty (the same as absent),
// at least one character that is not white space (Unicode White_Space).
// One pass over the bytes.
func checkText(p *problems, path, s string, max int) {
	reportText(p, path, scanText(s), max)
}

// reportText adds the problems t shows for a text of at most max
// characters.
func reportText(p *problems, path string, t textScan, max int) {
	switch {
	case t.invalid:
		p.add(path, "%s", msgInvalidUTF8)
		return
	case t.bad:
		p.add(path, "contains control character %U", t.badRune)
		return
	}
	if t.n > max {
		p.add(path, "at most %d characters, got %d", max, t.n)
	}
	if t.n > 0 && t.blank {
		p.add(path, "is only white space: write something or leave it out")
	}
}

// checkLine enforces "line": a text without CR, LF, U+2028 or U+2029,
// optionally required (then not empty).
func checkLine(p *problems, path, s string, max int, required bool) {
	if s == "" {
		if required {
			p.add(path, "is required")
		}
		return
	}
	t := scanText(s)
	if required && t.blank && !t.bad {
		p.add(path, "is required")
		return
	}
	if t.bad {
		// The scan stopped early: look at the whole text, as the rule
		// does, and see whether it is blank the way TrimSpace sees it.
		if required && strings.TrimSpace(s) == "" {
			p.add(path, "is required")
			return
		}
		t.multiline = strings.ContainsAny(s, "\r\n\u2028\u2029")
	}
	if t.multiline {
		p.add(path, "must be a single line (no CR, LF, U+2028 or U+2029)")
	}
	reportText(p, path, t, max)
}
