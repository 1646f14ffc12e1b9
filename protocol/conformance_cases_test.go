package protocol

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// The cases behind testdata/conformance (PROTOCOL.md 11.3). Payloads are
// built from a minimal valid announcement by replacing, adding or
// removing members, so each case breaks one rule.

const vecPublisher = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7"

// object writes a JSON object from base (name, raw value pairs) with
// over applied: pairs of name and raw value, where "-" removes the
// member; members not in base are appended in order.
func object(base []string, over ...string) string {
	vals := map[string]string{}
	var order []string
	for i := 0; i < len(base); i += 2 {
		order = append(order, base[i])
		vals[base[i]] = base[i+1]
	}
	for i := 0; i < len(over); i += 2 {
		if _, ok := vals[over[i]]; !ok {
			order = append(order, over[i])
		}
		vals[over[i]] = over[i+1]
	}
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, k := range order {
		if vals[k] == "-" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`"` + k + `":` + vals[k])
	}
	b.WriteByte('}')
	return b.String()
}

var baseSheet = []string{
	"id", `"conformance"`, "title", `"Conformance"`, "language", `"en"`, "country", `"IT"`,
	"organiser", `"Comune di Prova"`, "start_year", `2020`, "objective", `"A test."`,
	"dimensions", `["cultural"]`,
}

// ann writes an announcement of kind with body under that kind's member;
// over changes the top-level members.
func ann(kind, body string, over ...string) string {
	return object([]string{
		"v", "1", "publisher", `"` + vecPublisher + `"`, "seq", "1", "time", `"2026-11-23T09:30:00Z"`,
		"kind", `"` + kind + `"`, kind, body,
	}, over...)
}

// sheet writes a practice announcement whose sheet has over applied.
func sheet(over ...string) string { return ann("practice", object(baseSheet, over...)) }

// profile writes a profile announcement whose profile has over applied.
func profile(over ...string) string {
	return ann("profile", object([]string{"name", `"Comune di Prova"`, "country", `"IT"`, "level", `"municipality"`}, over...))
}

// retract writes a retraction whose body has over applied.
func retract(over ...string) string {
	return ann("retract", object([]string{"id", `"conformance"`}, over...), "seq", "2")
}

func ok(name, payload string) vcase { return vcase{name: name, payload: payload} }

func bad(name, payload, reason, field string) vcase {
	return vcase{name: name, payload: payload, reason: reason, field: field}
}

// conformanceFiles returns every vector file by name.
func conformanceFiles(t *testing.T) map[string]vectorFile {
	return map[string]vectorFile{
		"envelope.json": signVectors(t, "envelope protobuf (3, 3.1 steps 1-6)", envelopeCases(t)),
		"members.json":  signVectors(t, "announcement and sheet members: empty, absent, null, v, kind, body (4, 4.1, 5)", memberCases()),
		"text.json":     signVectors(t, "text and line (5)", textCases()),
		"grammar.json":  signVectors(t, "language tags, countries, e-mail, URLs, IDs (5, 5.2, 5.3)", grammarCases()),
		"time.json":     signVectors(t, "the time member (4)", timeCases()),
		"location.json": signVectors(t, "the sheet's location: members, number forms, ranges (5, 5.2)", locationCases()),
		"org.json":      signVectors(t, "organisation records: 12.1-12.3, 12.7", orgCases()),

		"experience.json": signVectors(t, "experience records: members by type, slots, retraction of experience slots (13)", experienceCases()),
	}
}

func memberCases() []vcase {
	return []vcase{
		ok("minimal-practice", sheet()),
		ok("summary-empty-string", sheet("summary", `""`)),
		ok("issues-empty-array", sheet("issues", `[]`)),
		ok("ongoing-false", sheet("ongoing", `false`)),
		ok("end-year-zero", sheet("end_year", `0`)),
		ok("duration-years-zero", sheet("duration_years", `0`)),
		ok("funding-empty-object", sheet("funding", `{}`)),
		ok("partners-empty-object", sheet("partners", `{}`)),
		ok("transferability-empty-object", sheet("transferability", `{}`)),
		ok("contact-empty-object", sheet("contact", `{}`)),
		ok("translations-empty-object", sheet("translations", `{}`)),
		ok("links-and-tags-empty", sheet("links", `[]`, "tags", `[]`)),
		ok("beneficiaries-zero", sheet("beneficiaries", `0`)),
		ok("amount-zero-and-booleans-false", sheet("funding", `{"amount_eur":0}`, "part_of_national_programme", `false`, "transferability", `{"replicable":false}`)),
		ok("retract-reason-empty", retract("reason", `""`)),
		ok("profile-languages-empty", profile("languages", `[]`)),
		bad("title-empty", sheet("title", `""`), "invalid", "practice.title"),
		bad("title-absent", sheet("title", "-"), "invalid", "practice.title"),
		bad("dimensions-empty", sheet("dimensions", `[]`), "invalid", "practice.dimensions"),
		bad("start-year-zero", sheet("start_year", `0`), "invalid", "practice.start_year"),
		bad("end-year-1899", sheet("end_year", `1899`), "invalid", "practice.end_year"),
		bad("ongoing-with-end-year", sheet("ongoing", `true`, "end_year", `2022`), "invalid", "practice.ongoing"),
		bad("translation-title-absent", sheet("translations", `{"it":{"summary":"Una prova."}}`), "invalid", "practice.translations.it.title"),
		bad("link-url-absent", sheet("links", `[{"title":"Site"}]`), "invalid", "practice.links[0].url"),
		bad("profile-level-absent", profile("level", "-"), "invalid", "profile.level"),
		bad("retract-id-absent", retract("id", "-"), "invalid", "retract.id"),
		bad("summary-null", sheet("summary", `null`), "malformed", ""),
		bad("funding-null", sheet("funding", `null`), "malformed", ""),
		bad("unknown-member", sheet("budget", `1`), "malformed", ""),
		bad("member-name-case", sheet("title", "-", "Title", `"Conformance"`), "malformed", ""),
		bad("duplicate-member", strings.Replace(sheet(), `"title":"Conformance"`, `"title":"Conformance","title":"Again"`, 1), "malformed", ""),
		bad("integer-as-string", ann("practice", object(baseSheet), "seq", `"1"`), "malformed", ""),
		bad("integer-with-fraction", sheet("start_year", `2020.0`), "malformed", ""),
		bad("integer-with-exponent", sheet("start_year", `2.02e3`), "malformed", ""),
		bad("v-2", ann("practice", object(baseSheet), "v", `2`), "invalid", "v"),
		bad("v-string", ann("practice", object(baseSheet), "v", `"1"`), "malformed", ""),
		bad("seq-zero", ann("practice", object(baseSheet), "seq", `0`), "invalid", "seq"),
		bad("seq-2-53", ann("practice", object(baseSheet), "seq", `9007199254740992`), "invalid", "seq"),
		bad("kind-unknown", ann("practice", object(baseSheet), "kind", `"event"`), "invalid", "kind"),
		bad("kind-does-not-match-body", ann("practice", object(baseSheet), "kind", `"retract"`), "invalid", "retract"),
		bad("body-absent", ann("practice", "-"), "invalid", "practice"),
		bad("two-bodies", ann("practice", object(baseSheet), "retract", `{"id":"conformance"}`), "invalid", ""),
		bad("publisher-not-signer", ann("practice", object(baseSheet), "publisher", `"12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"`), "publisher_mismatch", ""),
		bad("publisher-not-peer-id", ann("practice", object(baseSheet), "publisher", `"khantara"`), "malformed", ""),
		bad("publisher-too-long", ann("practice", object(baseSheet), "publisher", `"Qm`+strings.Repeat("z", MaxIDText-1)+`"`), "malformed", ""),
	}
}

func textCases() []vcase {
	return []vcase{
		ok("tab-in-line", sheet("title", `"Con\tformance"`)),
		ok("tab-cr-lf-in-text", sheet("summary", `"One.\r\nTwo.\tThree."`)),
		ok("blank-line-in-text", sheet("summary", `"One.\n\nTwo."`)),
		ok("u2028-in-text", sheet("summary", `"One.\u2028Two."`)),
		ok("nbsp-and-zero-width-space-in-line", sheet("title", `"Con\u00a0for\u200bmance"`)),
		ok("text-2000-code-points", sheet("summary", `"`+strings.Repeat("é", MaxSummaryLen)+`"`)),
		bad("text-2001-code-points", sheet("summary", `"`+strings.Repeat("é", MaxSummaryLen+1)+`"`), "invalid", "practice.summary"),
		bad("nul-in-text", sheet("summary", `"a\u0000b"`), "invalid", "practice.summary"),
		bad("escape-in-text", sheet("summary", `"a\u001bb"`), "invalid", "practice.summary"),
		bad("vertical-tab-in-text", sheet("summary", `"a\u000bb"`), "invalid", "practice.summary"),
		bad("del-in-text", sheet("summary", `"a\u007fb"`), "invalid", "practice.summary"),
		bad("c1-nel-in-text", sheet("summary", `"a\u0085b"`), "invalid", "practice.summary"),
		bad("c1-raw-in-text", sheet("summary", "\"a\u009fb\""), "invalid", "practice.summary"),
		bad("lf-in-line", sheet("title", `"Con\nformance"`), "invalid", "practice.title"),
		bad("cr-in-line", sheet("city", `"Ro\rma"`), "invalid", "practice.city"),
		bad("u2028-in-line", sheet("title", `"Con\u2028formance"`), "invalid", "practice.title"),
		bad("u2029-in-line", sheet("organiser", `"Comune\u2029di Prova"`), "invalid", "practice.organiser"),
		bad("blank-required-line", sheet("title", `" \t "`), "invalid", "practice.title"),
		bad("blank-optional-line", sheet("city", `"\u00a0"`), "invalid", "practice.city"),
		bad("blank-optional-text", sheet("summary", `"\n  \n"`), "invalid", "practice.summary"),
		bad("blank-objective", sheet("objective", `"\u3000"`), "invalid", "practice.objective"),
		bad("blank-retract-reason", retract("reason", `" "`), "invalid", "retract.reason"),
		bad("invalid-utf8", retract("reason", `"ferm`+"\xe9"+`"`), "invalid", "retract.reason"),
		bad("lone-surrogate", retract("reason", `"ferm\ud800"`), "invalid", "retract.reason"),
	}
}

func grammarCases() []vcase {
	lang := func(tag string) string { return sheet("language", `"`+tag+`"`) }
	country := func(c string) string { return sheet("country", `"`+c+`"`) }
	email := func(e string) string { return sheet("contact", `{"email":"`+e+`"}`) }
	url := func(u string) string { return sheet("links", `[{"url":"`+u+`"}]`) }
	id := func(s string) string { return retract("id", `"`+s+`"`) }
	const (
		fLang, fCountry = "practice.language", "practice.country"
		fEmail, fURL    = "practice.contact.email", "practice.links[0].url"
	)
	return []vcase{
		ok("lang-pt-BR", lang("pt-BR")),
		ok("lang-script-region", lang("zh-Hant-TW")),
		ok("lang-numeric-region", lang("es-419")),
		ok("lang-variant", lang("ca-ES-valencia")),
		ok("lang-unregistered", lang("xyz")),
		ok("lang-deprecated-still-well-formed", lang("iw")),
		bad("lang-upper-case", lang("EN"), "invalid", fLang),
		bad("lang-region-lower-case", lang("en-us"), "invalid", fLang),
		bad("lang-underscore", lang("en_US"), "invalid", fLang),
		bad("lang-word", lang("english"), "invalid", fLang),
		bad("lang-extlang", lang("zh-yue"), "invalid", fLang),
		bad("lang-extension", lang("en-u-ca-gregory"), "invalid", fLang),
		bad("lang-private-use", lang("en-x-khantara"), "invalid", fLang),
		bad("lang-grandfathered", lang("i-klingon"), "invalid", fLang),
		bad("lang-variant-twice", lang("de-CH-1996-1996"), "invalid", fLang),
		bad("translation-key-not-canonical", sheet("translations", `{"pt-br":{"title":"Conformidade"}}`), "invalid", "practice.translations.pt-br"),
		bad("translation-key-is-language", sheet("translations", `{"en":{"title":"Again"}}`), "invalid", "practice.translations.en"),
		ok("profile-languages", profile("languages", `["en","fr","pt-BR"]`)),
		bad("profile-languages-duplicate", profile("languages", `["en","fr","en"]`), "invalid", "profile.languages[2]"),
		ok("country-GB", country("GB")),
		ok("country-XK", country("XK")),
		ok("country-former-YU", country("YU")),
		ok("country-reserved-IC", country("IC")),
		bad("country-UK", country("UK"), "invalid", fCountry),
		bad("country-EL", country("EL"), "invalid", fCountry),
		bad("country-EU", country("EU"), "invalid", fCountry),
		bad("country-lower-case", country("it"), "invalid", fCountry),
		bad("country-alpha-3", country("ITA"), "invalid", fCountry),
		bad("country-user-assigned-XA", country("XA"), "invalid", fCountry),
		ok("email-plain", email("integration@roubaix.fr")),
		ok("email-dot-atom", email("info.migration+desk@comune.example.it")),
		ok("email-idn-a-label", email("info@xn--stdte-gra.de")),
		bad("email-display-name", email("Roubaix <integration@roubaix.fr>"), "invalid", fEmail),
		bad("email-single-label-domain", email("integration@localhost"), "invalid", fEmail),
		bad("email-quoted-local-part", email(`\"in tegration\"@roubaix.fr`), "invalid", fEmail),
		bad("email-double-dot", email("in..tegration@roubaix.fr"), "invalid", fEmail),
		bad("email-utf8-domain", email("info@städte.de"), "invalid", fEmail),
		bad("email-utf8-local-part", email("città@roubaix.fr"), "invalid", fEmail),
		bad("email-hyphen-label", email("info@-roubaix.fr"), "invalid", fEmail),
		ok("url-plain", url("https://www.roubaix.fr/")),
		ok("url-no-path", url("http://example.org")),
		ok("url-port-query-fragment", url("https://example.org:8443/a/b;c?d=e&f=%C3%A9#g/h?")),
		ok("url-idn-a-label", url("https://xn--stdte-gra.de/")),
		ok("url-ipv4", url("http://192.0.2.1/")),
		bad("url-ftp", url("ftp://example.org/"), "invalid", fURL),
		bad("url-scheme-upper-case", url("HTTPS://example.org/"), "invalid", fURL),
		bad("url-userinfo", url("https://user:secret@example.org/"), "invalid", fURL),
		bad("url-no-host", url("https:///path"), "invalid", fURL),
		bad("url-relative", url("//example.org/"), "invalid", fURL),
		bad("url-utf8-path", url("https://example.org/café"), "invalid", fURL),
		bad("url-utf8-host", url("https://städte.de/"), "invalid", fURL),
		bad("url-space", url("https://example.org/a b"), "invalid", fURL),
		bad("url-bad-percent", url("https://example.org/%zz"), "invalid", fURL),
		bad("url-ipv6", url("https://[2001:db8::1]/"), "invalid", fURL),
		bad("url-port-zero", url("https://example.org:0/"), "invalid", fURL),
		bad("url-port-too-large", url("https://example.org:65536/"), "invalid", fURL),
		bad("url-underscore-host", url("https://exa_mple.org/"), "invalid", fURL),
		ok("retract-id", id("0ab")),
		bad("retract-id-upper-case", id("Conformance"), "invalid", "retract.id"),
		bad("retract-id-short", id("ab"), "invalid", "retract.id"),
		bad("retract-id-leading-hyphen", id("-abc"), "invalid", "retract.id"),
		bad("retract-id-profile-slot", id("_profile"), "invalid", "retract.id"),
		bad("retract-id-65", id(strings.Repeat("a", 65)), "invalid", "retract.id"),
	}
}

func timeCases() []vcase {
	at := func(s string) string { return ann("practice", object(baseSheet), "time", `"`+s+`"`) }
	return []vcase{
		ok("utc", at("2026-11-23T09:30:00Z")),
		ok("fraction-1", at("2026-11-23T09:30:00.5Z")),
		ok("fraction-9", at("2026-11-23T09:30:00.123456789Z")),
		ok("fraction-12", at("2026-11-23T09:30:00.123456789012Z")),
		ok("offset", at("2026-11-23T10:30:00+01:00")),
		ok("offset-negative-zero", at("2026-11-23T09:30:00-00:00")),
		ok("offset-23-59", at("2026-11-23T09:30:00+23:59")),
		ok("first-instant", at("2000-01-01T00:00:00Z")),
		ok("last-second", at("2100-12-31T23:59:59Z")),
		bad("utc-year-1999", at("2000-01-01T00:30:00+01:00"), "invalid", "time"),
		bad("year-2101", at("2101-01-01T00:00:00Z"), "invalid", "time"),
		bad("lower-case-t", at("2026-11-23t09:30:00Z"), "malformed", ""),
		bad("lower-case-z", at("2026-11-23T09:30:00z"), "malformed", ""),
		bad("leap-second", at("2016-12-31T23:59:60Z"), "malformed", ""),
		bad("space-separator", at("2026-11-23 09:30:00Z"), "malformed", ""),
		bad("no-offset", at("2026-11-23T09:30:00"), "malformed", ""),
		bad("offset-without-colon", at("2026-11-23T09:30:00+0100"), "malformed", ""),
		bad("offset-24", at("2026-11-23T09:30:00+24:00"), "malformed", ""),
		bad("hour-24", at("2026-11-23T24:00:00Z"), "malformed", ""),
		bad("february-30", at("2026-02-30T09:30:00Z"), "malformed", ""),
		bad("no-seconds", at("2026-11-23T09:30Z"), "malformed", ""),
		bad("empty-fraction", at("2026-11-23T09:30:00.Z"), "malformed", ""),
		bad("one-digit-hour", at("2026-11-23T9:30:00Z"), "malformed", ""),
		bad("date-only", at("2026-11-23"), "malformed", ""),
		bad("empty", at(""), "malformed", ""),
	}
}

// envelopeCases builds envelopes field by field from a valid one.
func envelopeCases(t *testing.T) []vcase {
	key := testKey(t, conformanceKeySeed)
	valid := sealRaw(t, key, EnvelopeDomain, PayloadType, []byte(sheet()))
	f := splitFields(t, valid) // public_key, payload_type, payload, signature
	pubKey, _ := protowire.ConsumeBytes(f[0][1:])
	keyData := pubKey[4:]
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	field := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	keyField := func(typ uint64, data []byte, extra ...[]byte) []byte {
		inner := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), typ)
		inner = append(inner, field(2, data)...)
		return field(1, join(append([][]byte{inner}, extra...)...))
	}
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-1] ^= 1
	varint6 := protowire.AppendVarint(protowire.AppendTag(nil, 6, protowire.VarintType), 1)
	group := protowire.AppendTag(nil, 7, protowire.StartGroupType)
	group = protowire.AppendTag(group, 7, protowire.EndGroupType)
	padded := protowire.AppendTag(nil, fieldPayloadType, protowire.BytesType)
	padded = append(append(padded, byte(len(PayloadType))|0x80, 0x00), PayloadType...)
	env := func(name, reason string, b []byte) vcase { return vcase{name: name, envelope: b, reason: reason} }
	// pad is an unknown field making the envelope n bytes long (its
	// length takes 3 bytes at this size).
	pad := func(n int) []byte { return field(9, bytes.Repeat([]byte{'x'}, n-len(valid)-4)) }
	return []vcase{
		env("canonical", "", valid),
		env("unknown-len-field", "", join(valid, field(9, []byte("relay")))),
		env("unknown-varint-field", "", join(f[0], varint6, f[1], f[2], f[3])),
		env("unknown-field-in-public-key", "", join(keyField(1, keyData, field(3, []byte("x"))), f[1], f[2], f[3])),
		env("fields-out-of-order", "", join(f[3], f[2], f[1], f[0])),
		env("non-minimal-length", "", join(f[0], padded, f[2], f[3])),
		env("envelope-65536-bytes", "", join(valid, pad(MaxEnvelopeSize))),
		env("envelope-65537-bytes", "too_large", join(valid, pad(MaxEnvelopeSize+1))),
		env("truncated", "malformed", valid[:len(valid)-1]),
		env("trailing-byte", "malformed", join(valid, []byte{0x00})),
		env("group-field", "malformed", join(valid, group)),
		env("payload-type-as-varint", "malformed", join(f[0], protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 1), f[2], f[3])),
		env("public-key-repeated", "malformed", join(f[0], f[0], f[1], f[2], f[3])),
		env("payload-type-repeated", "malformed", join(f[0], f[1], f[1], f[2], f[3])),
		env("payload-repeated", "malformed", join(f[0], f[1], f[2], f[2], f[3])),
		env("signature-repeated", "malformed", join(f[0], f[1], f[2], f[3], f[3])),
		env("key-type-repeated", "malformed", join(keyField(1, keyData, protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)), f[1], f[2], f[3])),
		env("public-key-absent", "malformed", join(f[1], f[2], f[3])),
		env("key-data-absent", "malformed", join(field(1, protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)), f[1], f[2], f[3])),
		env("key-type-absent", "malformed", join(field(1, field(2, keyData)), f[1], f[2], f[3])),
		env("payload-type-absent", "payload_type", join(f[0], f[2], f[3])),
		env("payload-type-other", "payload_type", join(f[0], field(2, []byte("/khantara/announcement/2")), f[2], f[3])),
		env("key-type-rsa", "key_type", join(keyField(0, keyData), f[1], f[2], f[3])),
		env("key-type-secp256k1", "key_type", join(keyField(2, keyData), f[1], f[2], f[3])),
		env("key-type-unknown-9", "key_type", join(keyField(9, keyData), f[1], f[2], f[3])),
		env("key-31-bytes", "key_type", join(keyField(1, keyData[:31]), f[1], f[2], f[3])),
		env("key-33-bytes", "key_type", join(keyField(1, append(bytes.Clone(keyData), 0)), f[1], f[2], f[3])),
		env("payload-61441-bytes", "too_large", join(f[0], f[1], field(3, bytes.Repeat([]byte{' '}, MaxPayloadSize+1)), f[3])),
		env("signature-flipped", "bad_signature", flipped),
		env("signature-absent", "bad_signature", join(f[0], f[1], f[2])),
		env("signature-other-domain", "bad_signature", sealRaw(t, key, "libp2p-peer-record", PayloadType, []byte(sheet()))),
		env("payload-absent", "malformed", sealRaw(t, key, EnvelopeDomain, PayloadType, nil)),
		env("payload-not-json", "malformed", sealRaw(t, key, EnvelopeDomain, PayloadType, []byte("khantara"))),
	}
}
