package text

import "testing"

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":           "''",
		"/var/lib/k": "/var/lib/k",
		"a b":        "'a b'",
		"it's":       `'it'\''s'`,
		"x=1,y@h:2%": "x=1,y@h:2%",
		"$HOME":      "'$HOME'",
		"ünicode":    "'ünicode'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"two\nlines  here", 0, "two lines here"},
		{"Integration of newcomers", 12, "Integration…"},
		{"Ünïcödé characters", 5, "Ünïc…"},
		{"word then", 6, "word…"},
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
