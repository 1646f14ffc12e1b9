package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

func testKey(t testing.TB, seed byte) crypto.PrivKey {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func practiceAnn(seq uint64, s *FactSheet) *Announcement {
	return &Announcement{V: Version, Seq: seq, Time: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Kind: KindPractice, Practice: s}
}

func TestSealOpen(t *testing.T) {
	key := testKey(t, 1)
	for _, ann := range []*Announcement{
		practiceAnn(1, fullSheet()),
		{V: 1, Seq: 2, Time: time.Now().UTC(), Kind: KindRetract, Retract: &Retraction{ID: "cric-roubaix", Reason: "ended"}},
		{V: 1, Seq: 3, Time: time.Now().UTC(), Kind: KindProfile, Profile: &Profile{Name: "Ville de Roubaix", Country: "FR", Level: "municipality"}},
	} {
		signed, err := Seal(ann, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(signed.Envelope())
		if err != nil {
			t.Fatalf("Open(Seal(%s)) = %v", ann.Kind, err)
		}
		if got.Hash() != signed.Hash() || !bytes.Equal(got.Envelope(), signed.Envelope()) {
			t.Fatal("opened announcement differs from the sealed one")
		}
		if got.Announcement().Publisher != ann.Publisher || got.Announcement().Slot() != ann.Slot() {
			t.Fatalf("publisher or slot differs: %+v", got.Announcement())
		}
		stored, err := DecodeStored(signed.Envelope())
		if err != nil || stored.Hash() != signed.Hash() {
			t.Fatalf("DecodeStored = %v", err)
		}
	}
}

// TestTamperingFails flips every byte of a sealed envelope, one at a time,
// and requires Open to refuse each result.
func TestTamperingFails(t *testing.T) {
	signed, err := Seal(practiceAnn(7, fullSheet()), testKey(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	env := signed.Envelope()
	for i := range env {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(env)
			bad[i] ^= mask
			if _, err := Open(bad); err == nil {
				t.Fatalf("flipping byte %d with %#x still opens", i, mask)
			}
		}
	}
	// Truncation and extension fail too.
	for _, bad := range [][]byte{env[:len(env)-1], env[1:], append(bytes.Clone(env), 0)} {
		if _, err := Open(bad); err == nil {
			t.Fatal("truncated or extended envelope opens")
		}
	}
}

// sealRaw signs arbitrary payload bytes under a domain and payload type,
// bypassing Seal's checks, as a hostile publisher could.
type rawRecord struct {
	domain, codec string
	payload       []byte
}

func (r *rawRecord) Domain() string                 { return r.domain }
func (r *rawRecord) Codec() []byte                  { return []byte(r.codec) }
func (r *rawRecord) MarshalRecord() ([]byte, error) { return r.payload, nil }
func (r *rawRecord) UnmarshalRecord([]byte) error   { return nil }

func sealRaw(t *testing.T, key crypto.PrivKey, domain, codec string, payload []byte) []byte {
	t.Helper()
	env, err := record.Seal(&rawRecord{domain, codec, payload}, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenRejects(t *testing.T) {
	key := testKey(t, 3)
	self, _ := peer.IDFromPrivateKey(key)
	other, _ := peer.IDFromPrivateKey(testKey(t, 4))
	payloadFor := func(pub peer.ID, seq uint64) []byte {
		a := practiceAnn(seq, fullSheet())
		a.Publisher = pub
		b, err := EncodePayload(a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := payloadFor(self, 1)
	secp, _, _ := crypto.GenerateSecp256k1Key(rand.Reader)

	tests := []struct {
		name string
		env  []byte
		want error
		msg  string
	}{
		{"oversized envelope", make([]byte, MaxEnvelopeSize+1), ErrTooLarge, ""},
		{"garbage", []byte("not a protobuf at all \xff\xff"), ErrMalformed, ""},
		{"empty", nil, ErrMalformed, ""},
		{"wrong domain", sealRaw(t, key, "libp2p-peer-record", PayloadType, good), ErrBadSignature, ""},
		{"wrong payload type", sealRaw(t, key, EnvelopeDomain, "/other/1", good), ErrPayloadType, ""},
		{"secp256k1 key", sealRaw(t, secp, EnvelopeDomain, PayloadType, good), ErrKeyType, ""},
		{"publisher is not signer", sealRaw(t, key, EnvelopeDomain, PayloadType, payloadFor(other, 1)), ErrPublisherMismatch, ""},
		{"oversized payload", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Repeat([]byte(" "), MaxPayloadSize+1)), ErrTooLarge, ""},
		{"not JSON", sealRaw(t, key, EnvelopeDomain, PayloadType, []byte("<xml/>")), ErrMalformed, ""},
		{"unknown member", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"v":1`), []byte(`"v":1,"extra":true`), 1)), ErrMalformed, "extra"},
		{"duplicate member", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"v":1`), []byte(`"v":1,"v":1`), 1)), ErrMalformed, "duplicate"},
		{"case-folded member", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"seq"`), []byte(`"SEQ"`), 1)), ErrMalformed, ""},
		{"seq zero", sealRaw(t, key, EnvelopeDomain, PayloadType, payloadFor(self, 0)), ErrInvalid, "seq"},
		{"seq beyond 2^53", sealRaw(t, key, EnvelopeDomain, PayloadType, payloadFor(self, MaxSeq+1)), ErrInvalid, "seq"},
		{"schema", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"country":"FR"`), []byte(`"country":"UK"`), 1)), ErrInvalid, "practice.country"},
		{"kind mismatch", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"kind":"practice"`), []byte(`"kind":"retract"`), 1)), ErrInvalid, "retract"},
		{"unknown kind", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"kind":"practice"`), []byte(`"kind":"poem"`), 1)), ErrInvalid, "kind"},
		{"version", sealRaw(t, key, EnvelopeDomain, PayloadType, bytes.Replace(good, []byte(`"v":1`), []byte(`"v":2`), 1)), ErrInvalid, "v: must be 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.env)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open() = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Open() = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestSealRefuses(t *testing.T) {
	key := testKey(t, 5)
	other, _ := peer.IDFromPrivateKey(testKey(t, 6))
	a := practiceAnn(1, fullSheet())
	a.Publisher = other
	if _, err := Seal(a, key); !errors.Is(err, ErrPublisherMismatch) {
		t.Fatalf("Seal with a foreign publisher = %v", err)
	}
	b := practiceAnn(1, fullSheet())
	b.Practice.Country = "UK"
	if _, err := Seal(b, key); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Seal of an invalid sheet = %v", err)
	}
	c := practiceAnn(1, fullSheet())
	c.Practice.Context = strings.Repeat("a", MaxTextLen)
	c.Practice.Challenges = strings.Repeat("a", MaxTextLen)
	c.Practice.Activities = strings.Repeat("a", MaxTextLen)
	c.Practice.Outcomes = strings.Repeat("a", MaxTextLen)
	c.Practice.Assistance = strings.Repeat("a", MaxTextLen)
	c.Practice.OtherInformation = strings.Repeat("a", MaxTextLen)
	c.Practice.IssuesText = strings.Repeat("a", MaxTextLen)
	c.Practice.TargetGroupsText = strings.Repeat("a", MaxTextLen)
	if _, err := Seal(c, key); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Seal of a 64 KB sheet = %v, want ErrTooLarge", err)
	}
	secp, _, _ := crypto.GenerateSecp256k1Key(rand.Reader)
	if _, err := Seal(practiceAnn(1, fullSheet()), secp); !errors.Is(err, ErrKeyType) {
		t.Fatalf("Seal with secp256k1 = %v", err)
	}
}

// exampleAnnouncement is the worked example of PROTOCOL.md: fixed key
// (seed 32 bytes of 0x07), fixed time, a small sheet. Ed25519 signatures are
// deterministic, so the envelope bytes are too.
func exampleAnnouncement(t testing.TB) *Signed {
	t.Helper()
	key := testKey(t, 7)
	ann := &Announcement{
		V: 1, Seq: 1, Time: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC), Kind: KindPractice,
		Practice: &FactSheet{
			ID: "cric-roubaix", Title: "Conseil Roubaisien de l'Interculturalité et de la Citoyenneté",
			Language: "fr", Country: "FR", City: "Roubaix", Organiser: "Ville de Roubaix",
			StartYear: 2011, Ongoing: true, Objective: "Give the city's communities a voice in local politics and culture.",
			Dimensions: []string{"legal_political", "cultural"},
			Funding:    &Funding{AmountEUR: ptr[int64](8000), PeriodYears: 1, Sources: []string{"local"}},
		},
	}
	s, err := Seal(ann, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProtocolDocExample fails when PROTOCOL.md's worked example and the
// code disagree. Regenerate the blocks with KHANTARA_UPDATE_DOC=1.
func TestProtocolDocExample(t *testing.T) {
	s := exampleAnnouncement(t)
	env, err := record.UnmarshalEnvelope(s.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{
		"example-payload":   string(env.RawPayload),
		"example-envelope":  wrapHex(s.Envelope()),
		"example-hash":      s.Hash().String(),
		"example-publisher": s.Announcement().Publisher.String(),
	}
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for name, want := range blocks {
		re := regexp.MustCompile("(?s)(<!-- " + name + " -->\n```[a-z]*\n)(.*?)(\n```)")
		m := re.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("PROTOCOL.md has no block <!-- %s -->", name)
			continue
		}
		if m[2] != want {
			if os.Getenv("KHANTARA_UPDATE_DOC") != "" {
				text = re.ReplaceAllLiteralString(text, m[1]+want+m[3])
				continue
			}
			t.Errorf("PROTOCOL.md block %s differs from the code; run KHANTARA_UPDATE_DOC=1 go test ./protocol -run DocExample\nwant:\n%s", name, want)
		}
	}
	if os.Getenv("KHANTARA_UPDATE_DOC") != "" {
		if err := os.WriteFile("../PROTOCOL.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The documented bytes open.
	if _, err := Open(s.Envelope()); err != nil {
		t.Fatal(err)
	}
}

func wrapHex(b []byte) string {
	h := hex.EncodeToString(b)
	var out strings.Builder
	for len(h) > 64 {
		out.WriteString(h[:64] + "\n")
		h = h[64:]
	}
	out.WriteString(h)
	return out.String()
}
