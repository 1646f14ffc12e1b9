package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
)

var updateConformance = flag.Bool("update", false, "rewrite testdata/conformance from the cases of conformance_cases_test.go")

// conformanceDir holds the conformance vectors (PROTOCOL.md section 11.3).
const conformanceDir = "testdata/conformance"

// vectorFile is one file of conformance vectors: one topic.
type vectorFile struct {
	Topic string `json:"topic"`
	// Key is the 32-byte Ed25519 seed (hex) that signed every envelope;
	// Publisher its peer ID.
	Key       string   `json:"key"`
	Publisher string   `json:"publisher"`
	Cases     []vector `json:"cases"`
}

// vector is one case: the envelope bytes a receiver opens (PROTOCOL.md 3.1)
// and what it must conclude.
type vector struct {
	Name string `json:"name"`
	Note string `json:"note,omitempty"`
	// Key, when set, is the seed (hex) of the key that signed this case's
	// envelope instead of the file's key (organisation records, 12).
	Key string `json:"key,omitempty"`
	// Payload is the signed payload as text, when it is valid UTF-8 (for
	// reading; the envelope is authoritative).
	Payload string `json:"payload,omitempty"`
	// Envelope is the whole input, hex.
	Envelope string `json:"envelope"`
	// Expect is "accept" or "reject"; Reason the rejection reason (8.3);
	// Field, for reason "invalid", a field path among the problems.
	Expect string `json:"expect"`
	Reason string `json:"reason,omitempty"`
	Field  string `json:"field,omitempty"`
}

// reasonOf names a rejection as node's gossip validator counts it (8.3).
func reasonOf(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{ErrTooLarge, "too_large"}, {ErrPayloadType, "payload_type"}, {ErrKeyType, "key_type"},
		{ErrBadSignature, "bad_signature"}, {ErrPublisherMismatch, "publisher_mismatch"},
		{ErrInvalid, "invalid"}, {ErrMalformed, "malformed"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "malformed"
}

// TestConformanceVectors checks every vector file against Open, and the
// files against the cases that generate them (go test -run
// TestConformanceVectors ./protocol -update rewrites them).
func TestConformanceVectors(t *testing.T) {
	files := conformanceFiles(t)
	for name, want := range files {
		got := vectorFileBytes(t, name, want)
		var vf vectorFile
		if err := json.Unmarshal(got, &vf); err != nil {
			t.Fatal(err)
		}
		for _, v := range vf.Cases {
			t.Run(strings.TrimSuffix(name, ".json")+"/"+v.Name, func(t *testing.T) { checkVector(t, v) })
		}
	}
	chains := chainFiles(t)
	entries, _ := os.ReadDir(conformanceDir)
	for _, e := range entries {
		_, isChain := chains[e.Name()]
		if _, ok := files[e.Name()]; !ok && !isChain {
			t.Errorf("%s/%s has no generator", conformanceDir, e.Name())
		}
	}
}

// vectorFileBytes returns the committed bytes of the vector file name,
// after writing want there under -update, and fails the test when they
// are not want's (the file drifted from its generator).
func vectorFileBytes(t *testing.T, name string, want any) []byte {
	t.Helper()
	path := filepath.Join(conformanceDir, name)
	b, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *updateConformance {
		if err := os.MkdirAll(conformanceDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	if !bytes.Equal(got, b) {
		t.Errorf("%s differs from its generator (regenerate with -update)", path)
	}
	return got
}

func checkVector(t *testing.T, v vector) {
	env, err := hex.DecodeString(v.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(env)
	switch {
	case v.Expect == "accept" && err != nil:
		t.Fatalf("want accept, Open says %v", err)
	case v.Expect == "accept":
	case err == nil:
		t.Fatalf("want reject (%s), Open accepts", v.Reason)
	case reasonOf(err) != v.Reason:
		t.Fatalf("want reason %s, Open says %s: %v", v.Reason, reasonOf(err), err)
	case v.Field != "":
		var ve *ValidationError
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Problems, func(p FieldError) bool { return p.Path == v.Field }) {
			t.Fatalf("want a problem at %q, got %v", v.Field, err)
		}
	}
}

// conformanceKeySeed is the seed of every vector's key: the key of 11.1.
const conformanceKeySeed = 7

// signVectors signs each case's payload (or takes its ready envelope)
// with the conformance key and checks that every case names an outcome.
func signVectors(t *testing.T, topic string, cases []vcase) vectorFile {
	t.Helper()
	key := testKey(t, conformanceKeySeed)
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	vf := vectorFile{Topic: topic, Key: strings.Repeat("07", 32), Publisher: id.String()}
	for _, c := range cases {
		env, k, seedText := c.envelope, key, ""
		if c.seed != 0 && c.seed != conformanceKeySeed {
			k, seedText = testKey(t, c.seed), seedHex(c.seed)
		}
		if env == nil {
			env = sealRaw(t, k, EnvelopeDomain, PayloadType, []byte(c.payload))
		}
		v := vector{Name: c.name, Note: c.note, Key: seedText, Envelope: hex.EncodeToString(env), Expect: "accept", Reason: c.reason, Field: c.field}
		if c.reason != "" {
			v.Expect = "reject"
		}
		if c.envelope == nil && !strings.ContainsRune(c.payload, 0xFFFD) && utf8.ValidString(c.payload) {
			v.Payload = c.payload
		}
		vf.Cases = append(vf.Cases, v)
	}
	return vf
}

// vcase is one case as the generator writes it: a payload to sign, or a
// whole envelope; reason "" means accept. seed, when not 0, names the
// key that signs the payload instead of the conformance key.
type vcase struct {
	name, note    string
	payload       string
	envelope      []byte
	reason, field string
	seed          byte
}
