package protocol

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// benchSealed seals every demo sheet as a practice of one key and returns
// the envelopes (about 4 KB each).
func benchSealed(b testing.TB) []*Signed {
	b.Helper()
	files, _ := filepath.Glob("../demo/sheets/*.yaml")
	if len(files) == 0 {
		b.Fatal("no demo sheets")
	}
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]*Signed, 0, len(files))
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		s, err := ParseSheet(data)
		if err != nil {
			b.Fatal(err)
		}
		a := &Announcement{V: 1, Seq: uint64(i + 1), Time: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Kind: KindPractice, Practice: s}
		sg, err := Seal(a, k)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, sg)
	}
	return out
}

// BenchmarkOpenParts measures, on one core, Open and its parts on the
// demo sheets: the signature check, the payload's decoding and the
// validation, so a profile of Open's cost beyond the verify reads
// directly.
func BenchmarkOpenParts(b *testing.B) {
	signed := benchSealed(b)
	envs := make([][]byte, len(signed))
	payloads := make([][]byte, len(signed))
	for i, sg := range signed {
		envs[i] = sg.Envelope()
		msg, _, err := decodeEnvelope(envs[i])
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = msg.Payload
	}
	b.Run("open", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := Open(envs[i%len(envs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			msg, key, err := decodeEnvelope(envs[i%len(envs)])
			if err != nil {
				b.Fatal(err)
			}
			if ok, err := verify(key, msg.PayloadType, msg.Payload, msg.Signature); !ok || err != nil {
				b.Fatal("verify failed")
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := DecodePayload(payloads[i%len(payloads)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-general", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			var a Announcement
			if err := json.Unmarshal(payloads[i%len(payloads)], &a, payloadOptions); err != nil {
				b.Fatal(err)
			}
			if err := checkNoNull(payloads[i%len(payloads)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := signed[i%len(signed)].Announcement().Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
