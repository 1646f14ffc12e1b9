package protocol

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The grammars of PROTOCOL.md section 5.2: language tags, country codes,
// URLs and e-mail addresses. Each is a closed grammar an implementation
// in any language can reproduce; none depends on a registry that changes.

// MaxLangTagLen bounds a language tag, in bytes.
const MaxLangTagLen = 35

var (
	// langPattern: language (2-3 lower-case letters), optional script
	// (title case), optional region (2 upper-case letters or 3 digits),
	// then variants (lower case).
	langPattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*$`)

	// hostLabel is one DNS label: letters, digits and '-', 1-63
	// characters, not starting or ending with '-'.
	hostLabel = `[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?`
	// urlChar is an RFC 3986 pchar: unreserved, sub-delims, ':' and
	// '@', or a percent-encoded octet.
	urlChar = `([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})`
	// urlPattern: http or https, a host name, an optional port, an
	// optional path, query and fragment, all ASCII; no user information.
	urlPattern = regexp.MustCompile(`^https?://` + hostLabel + `(\.` + hostLabel + `)*(:[0-9]{1,5})?` +
		`(/` + urlChar + `*)*(\?(` + urlChar + `|[/?])*)?(#(` + urlChar + `|[/?])*)?$`)
	// emailPattern: a dot-atom local part (RFC 5322 atext, ASCII), '@',
	// and a domain of at least two DNS labels.
	emailPattern = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" +
		hostLabel + `(\.` + hostLabel + `)+$`)
)

// ValidLanguageTag reports whether tag is a language tag as protocol v1
// accepts it: ll or lll, then optionally -Ssss (script), -CC or -DDD
// (region) and variants, each in the case RFC 5646 section 2.1.1 gives
// them, at most MaxLangTagLen bytes, no variant twice. Subtags are not
// looked up in any registry.
func ValidLanguageTag(tag string) bool {
	if (len(tag) == 2 || len(tag) == 3) && isLower(tag) {
		return true // the common case: a language alone
	}
	if len(tag) > MaxLangTagLen || !langPattern.MatchString(tag) {
		return false
	}
	parts := strings.Split(tag, "-")
	for i, v := range parts {
		variant := i > 0 && (len(v) >= 5 || len(v) == 4 && v[0] >= '0' && v[0] <= '9')
		if variant && slices.Contains(parts[:i], v) {
			return false
		}
	}
	return true
}

// langCase writes tag's subtags in the case RFC 5646 section 2.1.1 gives
// them, to suggest the canonical form of a tag written in another case.
func langCase(tag string) string {
	parts := strings.Split(tag, "-")
	for i, v := range parts {
		switch {
		case i > 0 && len(v) == 4 && isAlpha(v):
			parts[i] = strings.ToUpper(v[:1]) + strings.ToLower(v[1:])
		case i > 0 && len(v) == 2:
			parts[i] = strings.ToUpper(v)
		default:
			parts[i] = strings.ToLower(v)
		}
	}
	return strings.Join(parts, "-")
}

// isLower reports whether s is only a-z.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func isAlpha(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func checkLang(p *problems, path, tag string, required bool) bool {
	switch {
	case tag == "":
		if required {
			p.add(path, "is required: a language tag such as en, it or pt-BR")
		}
		return false
	case ValidLanguageTag(tag):
		return true
	case len(tag) <= MaxLangTagLen && ValidLanguageTag(langCase(tag)):
		p.add(path, "%q is not in canonical form; write %q", tag, langCase(tag))
	default:
		p.add(path, "%q is not a BCP 47 language tag of the form ll, ll-CC or ll-Ssss-CC (examples: en, it, pt-BR)", truncate(tag, 40))
	}
	return false
}

// countryHints are common non-ISO codes and the ISO code to use instead.
var countryHints = map[string]string{"UK": "GB", "EL": "GR"}

// CountryHint returns the ISO 3166-1 alpha-2 code to write instead of a
// common non-ISO country code (UK for GB, EL for GR), matched in any case;
// ok is false when code is not one of them.
func CountryHint(code string) (iso string, ok bool) {
	iso, ok = countryHints[strings.ToUpper(code)]
	return iso, ok
}

func checkCountry(p *problems, path, code string, required bool) {
	if code == "" {
		if required {
			p.add(path, "is required: an ISO 3166-1 alpha-2 code such as IT or FR")
		}
		return
	}
	if iso, ok := CountryHint(code); ok && strings.ToUpper(code) == code {
		p.add(path, "%q is not ISO 3166-1; write %q", code, iso)
		return
	}
	if up := strings.ToUpper(code); up != code && IsCountry(up) {
		p.add(path, "%q: write country codes in upper case, %q", code, up)
		return
	}
	if !IsCountry(code) {
		p.add(path, "%q is not an ISO 3166-1 alpha-2 country code (examples: IT, FR, DE)", truncate(code, 20))
	}
}

// IsCountry reports whether code is one of Countries.
func IsCountry(code string) bool {
	_, ok := slices.BinarySearch(Countries, code)
	return ok
}

func checkURL(p *problems, path, s string, required bool) {
	switch {
	case s == "":
		if required {
			p.add(path, "is required: an http or https URL")
		}
	case len(s) > MaxURLLen:
		p.add(path, "at most %d bytes, got %d", MaxURLLen, len(s))
	case !ValidURL(s):
		p.add(path, "%q is not an absolute http or https URL (ASCII only: percent-encode other characters, write the host in its xn-- form; no user name or password)", truncate(s, 80))
	}
}

// ValidURL reports whether s is a URL as protocol v1 accepts it
// (PROTOCOL.md section 5.2): http or https, a host name, an optional
// port 1-65535, then RFC 3986 path, query and fragment characters; ASCII
// only, no user information, at most MaxURLLen bytes.
func ValidURL(s string) bool {
	if len(s) > MaxURLLen || !urlPattern.MatchString(s) {
		return false
	}
	rest := s[strings.Index(s, "//")+2:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	host, port, hasPort := strings.Cut(rest, ":")
	if len(host) > 253 {
		return false
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		return err == nil && n >= 1 && n <= 65535
	}
	return true
}

func checkEmail(p *problems, path, s string) {
	switch {
	case s == "":
	case len(s) > MaxEmailLen:
		p.add(path, "at most %d bytes, got %d", MaxEmailLen, len(s))
	case !ValidEmail(s):
		p.add(path, "%q is not a plain e-mail address such as integration@city.example (ASCII only: write the domain in its xn-- form)", truncate(s, 80))
	}
}

// ValidEmail reports whether s is an e-mail address as protocol v1
// accepts it (PROTOCOL.md section 5.2): a dot-atom local part of at most
// 64 bytes, '@', a domain of at least two DNS labels; ASCII only, at
// most MaxEmailLen bytes.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return len(s) <= MaxEmailLen && at >= 0 && at <= 64 && len(s)-at-1 <= 253 && emailPattern.MatchString(s)
}
