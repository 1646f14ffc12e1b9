package protocol

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

// generalDecode is DecodePayload without its fast path.
func generalDecode(payload []byte) (*Announcement, error) {
	var a Announcement
	if err := json.Unmarshal(payload, &a, payloadOptions); err != nil {
		return nil, err
	}
	if err := checkNoNull(payload); err != nil {
		return nil, err
	}
	return &a, nil
}

// payloadOf returns the payload sg's envelope carries.
func payloadOf(t testing.TB, sg *Signed) []byte {
	t.Helper()
	msg, _, err := decodeEnvelope(sg.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	return msg.Payload
}

// checkFastAgrees fails t when decodeFast accepts payload and the general
// decoder does not, or decodes it to another value. It reports whether
// the fast path took the payload.
func checkFastAgrees(t *testing.T, payload []byte) bool {
	t.Helper()
	var fast Announcement
	if !decodeFast(payload, &fast) {
		return false
	}
	general, err := generalDecode(payload)
	if err != nil {
		t.Fatalf("the fast path accepts what the general decoder refuses (%v): %.300q", err, payload)
	}
	if !reflect.DeepEqual(&fast, general) {
		t.Fatalf("the fast path decodes\n%+v\nthe general decoder\n%+v\nfrom %.300q", fast, *general, payload)
	}
	return true
}

// vectorPayloads returns the payload of every conformance vector whose
// envelope decodes, each with whether the vector is accepted.
func vectorPayloads(t testing.TB) (payloads [][]byte, accepted []bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance vectors: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vf vectorFile
		if err := json.Unmarshal(data, &vf); err != nil {
			t.Fatal(err)
		}
		for _, v := range vf.Cases {
			env, err := hex.DecodeString(v.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			if msg, _, err := decodeEnvelope(env); err == nil {
				payloads = append(payloads, msg.Payload)
				accepted = append(accepted, v.Expect == "accept")
			}
		}
	}
	return payloads, accepted
}

// TestDecodeFastTakesCanonical checks that the fast path, not the general
// decoder, decodes what writers write: the demo catalogue, every kind of
// record, and every accepted conformance vector in the canonical form. A
// fast path that gave up on them would still be correct, only slow.
func TestDecodeFastTakesCanonical(t *testing.T) {
	var canonical [][]byte
	for _, sg := range benchSealed(t) {
		canonical = append(canonical, payloadOf(t, sg))
	}
	for _, sg := range orgSeeds(t) {
		canonical = append(canonical, payloadOf(t, sg))
	}
	payloads, accepted := vectorPayloads(t)
	for i, p := range payloads {
		if !accepted[i] {
			continue
		}
		a, err := generalDecode(p)
		if err != nil {
			t.Fatalf("accepted vector does not decode: %v", err)
		}
		if again, err := EncodePayload(a); err == nil && bytes.Equal(again, p) {
			canonical = append(canonical, p)
		}
	}
	kinds := map[Kind]bool{}
	for _, p := range canonical {
		if !checkFastAgrees(t, p) {
			t.Fatalf("the fast path gives up on a canonical payload: %.300q", p)
		}
		a, _ := generalDecode(p)
		kinds[a.Kind] = true
	}
	for _, k := range []Kind{KindPractice, KindRetract, KindProfile, KindOrg, KindMembers, KindExperience} {
		if !kinds[k] {
			t.Errorf("no canonical payload of kind %s was tried", k)
		}
	}
	t.Logf("%d canonical payloads, all on the fast path", len(canonical))
}

// TestDecodeFastNearMisses checks the fast path against the general
// decoder on every conformance vector's payload and on changes to a
// canonical one that each stray from the canonical form in one way.
func TestDecodeFastNearMisses(t *testing.T) {
	payloads, _ := vectorPayloads(t)
	for _, p := range payloads {
		checkFastAgrees(t, p)
	}
	base := string(payloadOf(t, benchSealed(t)[0]))
	if !strings.Contains(base, `"seq":1,`) || !strings.Contains(base, `"dimensions":[`) {
		t.Fatalf("the first demo payload lacks what the cases change: %.200s", base)
	}
	type change struct {
		name     string
		old, new string
		fast     bool // whether the fast path takes it
	}
	changes := []change{
		{"as written", `"seq":1,`, `"seq":1,`, true},
		{"repeated member", `"seq":1,`, `"seq":1,"seq":1,`, false},
		{"repeated member, another value", `"seq":1,`, `"seq":1,"seq":2,`, false},
		{"unknown member", `"seq":1,`, `"seq":1,"sequence":1,`, false},
		{"member in another case", `"seq":1,`, `"Seq":1,`, false},
		{"escaped member name", `"seq":1,`, `"s\u0065q":1,`, false},
		{"whitespace", `"seq":1,`, `"seq": 1,`, false},
		{"leading zero", `"seq":1,`, `"seq":01,`, false},
		{"minus zero", `"seq":1,`, `"seq":-0,`, false},
		{"negative unsigned", `"seq":1,`, `"seq":-1,`, false},
		{"fraction", `"seq":1,`, `"seq":1.0,`, false},
		{"exponent", `"seq":1,`, `"seq":1e0,`, false},
		{"overflow", `"seq":1,`, `"seq":99999999999999999999,`, false},
		{"largest", `"seq":1,`, `"seq":18446744073709551615,`, false},
		{"nineteen digits", `"seq":1,`, `"seq":1000000000000000000,`, true},
		{"string for number", `"seq":1,`, `"seq":"1",`, false},
		{"null", `"seq":1,`, `"seq":null,`, false},
		{"null handed on", `"time":"2026-11-23T09:00:00Z"`, `"time":null`, false},
		{"time handed on", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-11-23T09:00:00.5+01:00"`, true},
		{"leap day", `"time":"2026-11-23T09:00:00Z"`, `"time":"2024-02-29T23:59:59Z"`, true},
		{"no leap day", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-02-29T09:00:00Z"`, false},
		{"hour 24", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-11-23T24:00:00Z"`, false},
		{"second 60", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-11-23T09:00:60Z"`, false},
		{"month 13", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-13-23T09:00:00Z"`, false},
		{"day 0", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-11-00T09:00:00Z"`, false},
		{"lower-case z", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-11-23T09:00:00z"`, false},
		{"sign in a field", `"time":"2026-11-23T09:00:00Z"`, `"time":"2026-11-23T09:-1:00Z"`, false},
		{"empty list", `"issues":["housing","information","intercultural_dialogue"]`, `"issues":[]`, true},
		{"null in list", `"dimensions":[`, `"dimensions":[null,`, false},
		{"map", `"translations":{"it":{`, `"translations":{"de":{},"it":{`, true},
		{"repeated key", `"translations":{"it":{`, `"translations":{"it":{},"it":{`, false},
		{"escaped key", `"translations":{"it":{`, `"translations":{"\u0064e":{},"it":{`, false},
		{"null in map", `"translations":{"it":{`, `"translations":{"de":null,"it":{`, false},
		{"escapes", `"dimensions":[`, `"issues_text":"a\"b\\c\/d\be\ff\ng\rh\ti","dimensions":[`, true},
		{"unicode escape", `"dimensions":[`, `"issues_text":"caf\u00e9","dimensions":[`, false},
		{"bad escape", `"dimensions":[`, `"issues_text":"a\qb","dimensions":[`, false},
		{"control character", `"dimensions":[`, "\"issues_text\":\"a\tb\",\"dimensions\":[", false},
		{"invalid UTF-8", `"dimensions":[`, "\"issues_text\":\"caf\xe9\",\"dimensions\":[", false},
		{"surrogate in UTF-8", `"dimensions":[`, "\"issues_text\":\"\xed\xa0\x80\",\"dimensions\":[", false},
		{"multilingual", `"dimensions":[`, `"issues_text":"Ελληνικά, العربية, 日本語, 🙂, ü","dimensions":[`, true},
		{"long text", `"dimensions":[`, `"issues_text":"` + strings.Repeat("abcdefg\\n", 200) + `","dimensions":[`, true},
		{"trailing garbage", `}`, `}x`, false},
		{"empty map", `"translations":`, `"translations":{},"x":`, true},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			p := []byte(strings.Replace(base, c.old, c.new, 1))
			switch c.name {
			case "trailing garbage":
				p = append([]byte(base), 'x')
			case "empty map": // the translations object, whole, replaced
				i := strings.Index(base, `"translations":`)
				j := strings.Index(base, `,"country":`)
				p = []byte(base[:i] + `"translations":{}` + base[j:])
			}
			if got := checkFastAgrees(t, p); got != c.fast {
				t.Errorf("fast path took it: %v, want %v", got, c.fast)
			}
			// Whichever path decides, DecodePayload decides as the
			// general decoder does.
			want, wantErr := generalDecode(p)
			got, err := DecodePayload(p)
			switch {
			case (err == nil) != (wantErr == nil):
				t.Fatalf("DecodePayload: %v, the general decoder: %v", err, wantErr)
			case err == nil && !reflect.DeepEqual(got, want):
				t.Fatal("DecodePayload decodes another value than the general decoder")
			}
		})
	}
}

// FuzzDecodeFast holds the fast path to the general decoder: whatever it
// takes, the general decoder takes, with an equal value.
func FuzzDecodeFast(f *testing.F) {
	for _, sg := range benchSealed(f)[:4] {
		f.Add(payloadOf(f, sg))
	}
	for _, sg := range orgSeeds(f) {
		f.Add(payloadOf(f, sg))
	}
	payloads, _ := vectorPayloads(f)
	for _, p := range payloads {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxPayloadSize {
			return // DecodePayload refuses it before either decoder
		}
		checkFastAgrees(t, data)
	})
}
