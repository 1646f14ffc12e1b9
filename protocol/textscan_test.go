package protocol

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// refText is the text rule of PROTOCOL.md section 5 one character at a
// time, as checkText ran before it read words: the reference the word
// scan must agree with.
func refText(p *problems, path, s string, max int) {
	n, blank := 0, true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			p.add(path, "%s", msgInvalidUTF8)
			return
		}
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			p.add(path, "contains control character %U", r)
			return
		}
		blank = blank && unicode.IsSpace(r)
		i += size
		n++
	}
	if n > max {
		p.add(path, "at most %d characters, got %d", max, n)
	}
	if n > 0 && blank {
		p.add(path, "is only white space: write something or leave it out")
	}
}

// refLine is checkLine's reference, as it ran before the word scan.
func refLine(p *problems, path, s string, max int, required bool) {
	if s == "" || required && strings.TrimSpace(s) == "" {
		if required {
			p.add(path, "is required")
		}
		return
	}
	if strings.ContainsAny(s, "\r\n\u2028\u2029") {
		p.add(path, "must be a single line (no CR, LF, U+2028 or U+2029)")
	}
	refText(p, path, s, max)
}

// sameProblems fails t unless a and b list the same problems.
func sameProblems(t *testing.T, in string, a, b problems) {
	t.Helper()
	if len(a.list) != len(b.list) {
		t.Fatalf("%q: got %v, want %v", in, a.list, b.list)
	}
	for i := range a.list {
		if a.list[i] != b.list[i] {
			t.Fatalf("%q: got %v, want %v", in, a.list, b.list)
		}
	}
}

// FuzzTextRules checks checkText, checkLine and the id and tag grammars
// against their one-character-at-a-time and regular-expression references.
func FuzzTextRules(f *testing.F) {
	for _, s := range []string{"", " ", "        ", "         x", "hello world, long enough text", "a\tb\nc\r\n",
		"é", "\u2028", "abcdefgh\u2029", "12345678\x7f", "1234567\x1f", "\xff", "abcdefg\xff", "\u0085", "\u00a0\u00a0",
		"\v", "        \f", "cric-roubaix", "-ab", "ab", "a--", strings.Repeat("x", 70), "Wien \u200b"} {
		f.Add(s, 8, true)
	}
	f.Fuzz(func(t *testing.T, s string, max int, required bool) {
		var got, want problems
		checkText(&got, "p", s, max)
		refText(&want, "p", s, max)
		sameProblems(t, s, got, want)
		got, want = problems{}, problems{}
		checkLine(&got, "p", s, max, required)
		refLine(&want, "p", s, max, required)
		sameProblems(t, s, got, want)
		if validID(s) != idPattern.MatchString(s) {
			t.Fatalf("validID(%q) = %v, the pattern says %v", s, validID(s), !validID(s))
		}
		if len(s) <= MaxTagLen && validSlug(s, 1, MaxTagLen) != tagPattern.MatchString(s) {
			t.Fatalf("tag %q: validSlug %v, the pattern says %v", s, !tagPattern.MatchString(s), tagPattern.MatchString(s))
		}
		if (len(s) == 2 || len(s) == 3) && isLower(s) != langPattern.MatchString(s) {
			t.Fatalf("language %q: isLower %v, the pattern says %v", s, isLower(s), langPattern.MatchString(s))
		}
	})
}

// refNoNull is checkNoNull one byte at a time, as it ran before it
// jumped from quote to quote: the reference.
func refNoNull(data []byte) int {
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == 'n':
			return i
		}
	}
	return -1
}

// FuzzNoNull checks checkNoNull against its reference on valid JSON.
func FuzzNoNull(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":null}`, `{"n":"null"}`, `{"a\\":"\"n\\\\"}`, `["\\\\\"",null]`, `{"a":[1,true,false,"x"]}`, `"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		err := checkNoNull(data)
		want := refNoNull(data)
		switch {
		case want < 0 && err != nil:
			t.Fatalf("%q: %v, want no error", data, err)
		case want >= 0 && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at byte %d:", want))):
			t.Fatalf("%q: %v, want null at byte %d", data, err, want)
		}
	})
}
