package protocol

import (
	"bytes"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/record"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestOpenKeepsCanonicalBytes: a canonical envelope is kept as received,
// not copied or re-encoded.
func TestOpenKeepsCanonicalBytes(t *testing.T) {
	env := bytes.Clone(exampleAnnouncement(t).Envelope())
	got, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	if &got.Envelope()[0] != &env[0] || len(got.Envelope()) != len(env) {
		t.Fatal("Open copied or re-encoded a canonical envelope")
	}
}

// TestOpenReencodes: envelopes in other valid encodings (an unknown field
// a relay added, fields out of order, a padded length) open to the same
// announcement, and Envelope is the canonical encoding. A repeated field
// is malformed (PROTOCOL.md 3.1 step 2; testdata/conformance/envelope.json).
func TestOpenReencodes(t *testing.T) {
	s := exampleAnnouncement(t)
	canon := s.Envelope()
	fields := splitFields(t, canon)
	if len(fields) != 4 {
		t.Fatalf("sealed envelope has %d fields, want 4", len(fields))
	}
	unknown := protowire.AppendBytes(protowire.AppendTag(nil, 9, protowire.BytesType), []byte("relay"))
	padded := protowire.AppendTag(nil, fieldPayloadType, protowire.BytesType)
	padded = append(padded, byte(len(PayloadType))|0x80, 0x00) // the length in two bytes
	padded = append(padded, PayloadType...)
	for name, env := range map[string][]byte{
		"unknown field": append(bytes.Clone(canon), unknown...),
		"out of order":  bytes.Join([][]byte{fields[1], fields[0], fields[2], fields[3]}, nil),
		"padded length": bytes.Join([][]byte{fields[0], padded, fields[2], fields[3]}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Open(env)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Envelope(), canon) || got.Hash() != s.Hash() {
				t.Fatalf("Envelope is not the canonical encoding:\n%x\n%x", got.Envelope(), canon)
			}
		})
	}
}

// splitFields returns the encoded top-level fields of a protobuf message.
func splitFields(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		_, _, n := protowire.ConsumeField(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// FuzzOpenMatchesLibp2p compares Open with go-libp2p's own envelope
// verification: whatever Open accepts, record.ConsumeTypedEnvelope accepts
// with the same payload, and whatever go-libp2p finds badly signed, Open
// refuses.
func FuzzOpenMatchesLibp2p(f *testing.F) {
	s := exampleAnnouncement(f)
	f.Add(s.Envelope())
	f.Add(append(bytes.Clone(s.Envelope()), 0x4a, 0x01, 0x00))
	f.Add([]byte{0x0a, 0x24, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Open(data)
		rec := &wireRecord{}
		env, lerr := record.ConsumeTypedEnvelope(data, rec)
		if err == nil {
			if lerr != nil {
				t.Fatalf("Open accepted what go-libp2p refuses: %v", lerr)
			}
			payload, _ := EncodePayload(rec.ann)
			want, _ := EncodePayload(got.Announcement())
			if !bytes.Equal(payload, want) {
				t.Fatal("Open and go-libp2p decoded different announcements")
			}
			canon, merr := env.Marshal()
			if merr != nil || !bytes.Equal(canon, got.Envelope()) {
				t.Fatalf("Envelope differs from go-libp2p's encoding: %v", merr)
			}
			return
		}
		// Open is stricter than go-libp2p's protobuf decoding (a repeated
		// field is malformed, where go-libp2p takes the last one), so a
		// badly signed envelope may be refused as malformed first.
		if errors.Is(lerr, record.ErrInvalidSignature) && !errors.Is(err, ErrBadSignature) &&
			!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrPayloadType) && !errors.Is(err, ErrKeyType) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("go-libp2p finds the signature bad, Open says %v", err)
		}
	})
}
