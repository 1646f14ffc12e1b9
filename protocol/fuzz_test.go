package protocol

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The fuzz targets cover every decoder of untrusted bytes. Their seed corpus
// (testdata/fuzz/<Target>/) and the f.Add seeds below run on every `go test`;
// `make fuzz` explores further.

func FuzzOpen(f *testing.F) {
	s := exampleAnnouncement(f)
	f.Add(s.Envelope())
	for _, sg := range orgSeeds(f) {
		f.Add(sg.Envelope())
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x24, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Open(data)
		if err != nil {
			if got != nil {
				t.Fatal("Open returned an announcement with an error")
			}
			for _, sentinel := range []error{ErrTooLarge, ErrMalformed, ErrPayloadType, ErrKeyType, ErrBadSignature, ErrPublisherMismatch, ErrInvalid} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("Open error %v wraps no sentinel", err)
		}
		// Whatever opens is valid and opens again from its canonical form.
		if err := got.Announcement().Validate(); err != nil {
			t.Fatalf("Open accepted an invalid announcement: %v", err)
		}
		again, err := Open(got.Envelope())
		if err != nil || again.Hash() != got.Hash() {
			t.Fatalf("canonical envelope does not reopen: %v", err)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	s := exampleAnnouncement(f)
	payload, _ := EncodePayload(s.Announcement())
	f.Add(payload)
	f.Add([]byte(`{"v":1,"kind":"retract","retract":{"id":"abc"}}`))
	for _, sg := range orgSeeds(f) {
		b, _ := EncodePayload(sg.Announcement())
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"v":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := DecodePayload(data)
		if err != nil || a.Validate() != nil {
			return
		}
		// A decoded, valid announcement re-encodes, and the encoding
		// decodes to the same announcement.
		b, err := EncodePayload(a)
		if err != nil {
			t.Fatalf("decoded announcement does not encode: %v", err)
		}
		a2, err := DecodePayload(b)
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v\n%s", err, b)
		}
		b2, _ := EncodePayload(a2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", b, b2)
		}
		if err := a2.Validate(); err != nil {
			t.Fatalf("valid announcement invalid after a round trip: %v", err)
		}
	})
}

func FuzzParseSheet(f *testing.F) {
	f.Add([]byte(goodYAML))
	files, _ := filepath.Glob("../demo/sheets/*.yaml")
	for _, name := range files[:min(len(files), 5)] {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("{\"id\": 1e400}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSheet(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ParseSheet error %T %v is neither a validation error nor ErrTooLarge", err, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSheet accepted an invalid sheet: %v", err)
		}
	})
}

// orgSeeds are records of organisations for the fuzz corpora: a genesis,
// a rotation, a delegated practice and a membership list.
func orgSeeds(t testing.TB) []*Signed {
	t.Helper()
	r0, r1, node := testKey(t, 10), testKey(t, 11), testKey(t, 12)
	g := mustSeal(t, genesisAnn("Org", []peer.ID{idOf(t, r0), idOf(t, r1)}, idOf(t, node)), r0)
	org := g.Announcement().Publisher
	rot := genesisAnn("Org", []peer.ID{idOf(t, r1)}, idOf(t, node))
	rot.Publisher, rot.Seq, rot.Org.Prev = org, 2, g.Hash()
	members := &Announcement{V: Version, Publisher: org, Seq: 4, Time: t0, Kind: KindMembers, Auth: g.Hash(),
		Members: &MemberList{List: "network", Title: "Members", Members: []Member{{ID: org, Name: "Org"}, {ID: idOf(t, node)}}}}
	return []*Signed{
		g,
		mustSeal(t, rot, r0),
		mustSeal(t, delegatedPractice(org, g.Hash(), 3, t0, "cric-roubaix"), node),
		mustSeal(t, members, node),
	}
}

func FuzzDecodeID(f *testing.F) {
	f.Add(OrgID([]byte("x")).String())
	f.Add(exampleAnnouncement(f).Announcement().Publisher.String())
	f.Add("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := DecodeID(s)
		if err != nil {
			return
		}
		// What decodes is a publisher form peer.Decode or DecodeID reads
		// back from its text.
		if back, err := DecodeID(id.String()); err != nil || back != id {
			t.Fatalf("%q decodes to %x, whose text %q does not decode back: %v", s, []byte(id), id.String(), err)
		}
		if IsOrg(id) && id.String() != s {
			t.Fatalf("organisation ID %q has a second text form %q", id.String(), s)
		}
	})
}
