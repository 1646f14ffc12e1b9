// Package text holds the two string helpers that both the CLI and the API
// client print with: quoting for a shell, and cutting to a width.
package text

import (
	"strings"
	"unicode/utf8"
)

// ShellQuote quotes s for a POSIX shell when it holds anything but safe
// characters, so a printed command can be pasted as it is.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafeInShell) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func unsafeInShell(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@%", r))
}

// Truncate shortens s to at most n characters on one line: runs of white
// space become one space, and a cut ends in an ellipsis. n <= 0 only
// joins the lines.
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
