package protocol

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// invalidReasonPayload is PROTOCOL.md's vector of a retraction whose
// reason is not UTF-8: "fermé" written in Latin-1 (e9), by the worked
// example's key.
func invalidReasonPayload(t testing.TB, reason string) []byte {
	t.Helper()
	pub := exampleAnnouncement(t).Announcement().Publisher
	return []byte(`{"v":1,"publisher":"` + pub.String() + `","seq":2,"time":"2026-11-23T10:00:00Z","kind":"retract","retract":{"id":"cric-roubaix","reason":"` + reason + `"}}`)
}

// wantReasonUTF8 fails unless err is exactly one problem: path must be
// valid UTF-8.
func wantReasonUTF8(t testing.TB, err error, path string) {
	t.Helper()
	var ve *ValidationError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) {
		t.Fatalf("got %v, want a validation error", err)
	}
	if len(ve.Problems) != 1 || ve.Problems[0].Path != path || ve.Problems[0].Msg != "must be valid UTF-8" {
		t.Fatalf("problems %+v, want %s: must be valid UTF-8", ve.Problems, path)
	}
}

func TestInvalidUTF8ReasonOnTheWire(t *testing.T) {
	key := testKey(t, 7)
	for _, c := range []struct{ name, reason string }{
		{"raw Latin-1 byte", "ferm\xe9"},
		{"lone surrogate escape", `ferm\ud800`},
		{"truncated sequence", "ferm\xc3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			payload := invalidReasonPayload(t, c.reason)
			_, err := DecodePayload(payload)
			wantReasonUTF8(t, err, "retract.reason")
			// Signed by its publisher, it is still refused as invalid.
			_, err = Open(sealRaw(t, key, EnvelopeDomain, PayloadType, payload))
			wantReasonUTF8(t, err, "retract.reason")
		})
	}
	// Any string field is named, at any depth.
	_, err := DecodePayload([]byte("{\"v\":1,\"kind\":\"profile\",\"profile\":{\"name\":\"Ville\",\"languages\":[\"fr\",\"\xff\"]}}"))
	wantReasonUTF8(t, err, "profile.languages[1]")
	// The same payload with a valid reason opens: the vector fails only
	// for its reason.
	if _, err := Open(sealRaw(t, key, EnvelopeDomain, PayloadType, invalidReasonPayload(t, "fermé"))); err != nil {
		t.Fatalf("the valid twin does not open: %v", err)
	}
	// Neither can a publisher seal one.
	_, err = Seal(&Announcement{V: 1, Seq: 2, Time: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Kind: KindRetract,
		Retract: &Retraction{ID: "cric-roubaix", Reason: "ferm\xe9"}}, key)
	wantReasonUTF8(t, err, "retract.reason")

	// PROTOCOL.md shows the raw-byte payload in hex.
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- invalid-utf8-payload -->\n```text\n(.*?)\n```").FindSubmatch(doc)
	if want := wrapHex(invalidReasonPayload(t, "ferm\xe9")); m == nil || string(m[1]) != want {
		t.Errorf("PROTOCOL.md block <!-- invalid-utf8-payload --> is missing or differs; want:\n%s", want)
	}
}

func TestParseRetractReason(t *testing.T) {
	tests := []struct {
		name, body, want string
		err              error  // nil, ErrInvalid or ErrMalformed
		msg              string // in the error
	}{
		{"empty", "", "", nil, ""},
		{"white space", " \n", "", nil, ""},
		{"reason", `{"reason": "closed in 2025"}`, "closed in 2025", nil, ""},
		{"no reason", `{}`, "", nil, ""},
		{"name in other case", `{"Reason": "closed"}`, "closed", nil, ""},
		{"escaped UTF-8", `{"reason": "ferm\u00e9"}`, "fermé", nil, ""},
		{"raw invalid UTF-8", "{\"reason\": \"ferm\xe9\"}", "", ErrInvalid, "reason: must be valid UTF-8"},
		{"lone surrogate", `{"reason": "ferm\udc00"}`, "", ErrInvalid, "reason: must be valid UTF-8"},
		{"control character", `{"reason": "a\u0000b"}`, "", ErrInvalid, "reason: contains control character"},
		{"too long", `{"reason": "` + strings.Repeat("é", MaxReasonLen+1) + `"}`, "", ErrInvalid, "reason: at most 1000 characters"},
		{"not an object", `"closed"`, "", ErrMalformed, `{"reason": "..."}`},
		{"not JSON", "closed\xe9", "", ErrMalformed, `{"reason": "..."}`},
		{"reason not a string", `{"reason": 5}`, "", ErrMalformed, `{"reason": "..."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRetractReason([]byte(tt.body))
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != nil && (!errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg)):
				t.Fatalf("error %v, want %v containing %q", err, tt.err, tt.msg)
			case got != tt.want:
				t.Fatalf("reason %q, want %q", got, tt.want)
			}
		})
	}
}
