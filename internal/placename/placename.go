// Package placename is the one Go form of the key by which the map
// matches a practice's city to the gazetteer: web/mapdata builds the
// gazetteer with it, web's tests check the demo cities with it, and the
// page's map.js normalises the same way.
package placename

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normal returns the key of a place name: the name decomposed (NFD)
// without its combining marks, in lower case, with every run of other
// characters than letters and digits as one space (none at either end).
func Normal(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}
