package protocol

import "testing"

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"title", "title", 0},
		{"titel", "title", 1}, // one swap
		{"tittle", "title", 1},
		{"countyr", "country", 1},
		{"kitten", "sitting", 3},
		{"länge", "lange", 1}, // runes, not bytes
		{"ab", "ba", 1},
		{"ca", "abc", 3}, // OSA, not full Damerau
	} {
		if got := EditDistance(c.a, c.b); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := EditDistance(c.b, c.a); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"country", "city", "title", "tags"}
	for _, c := range []struct{ got, want string }{
		{"countri", "country"},
		{"titel", "title"},
		{"cty", "city"},
		{"tag", "tags"},
		{"organiser", ""},
		{"", ""},
		{"cit", "city"},
	} {
		if got := Closest(c.got, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.got, got, c.want)
		}
	}
	if got := Closest("x", nil); got != "" {
		t.Errorf("Closest with no candidates = %q", got)
	}
	// Equally near: the first candidate wins.
	if got := Closest("ab", []string{"abc", "abd"}); got != "abc" {
		t.Errorf("tie: got %q, want abc", got)
	}
}
