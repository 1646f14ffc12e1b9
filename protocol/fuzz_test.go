package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		checkOpened(t, got)
	})
}

// checkOpened checks what Open says of a record's origin (PROTOCOL.md 3.1
// step 8 and 12.3) against the envelope's own payload and key.
func checkOpened(t *testing.T, s *Signed) {
	t.Helper()
	msg, _, err := decodeEnvelope(s.Envelope())
	if err != nil {
		t.Fatalf("canonical envelope does not decode: %v", err)
	}
	if s.Hash() != sha256.Sum256(msg.Payload) {
		t.Fatal("hash is not the SHA-256 of the payload")
	}
	a := s.Announcement()
	switch {
	case a.isGenesis():
		if a.Publisher != OrgID(msg.Payload) || !IsOrg(a.Publisher) || s.Signer() != a.Org.Keys[0] || a.Signer != "" {
			t.Fatalf("genesis opened with publisher %s, signer %s; OrgID(payload) %s, keys[0] %s", a.Publisher, s.Signer(), OrgID(msg.Payload), a.Org.Keys[0])
		}
	case IsOrg(a.Publisher):
		if a.Signer != s.Signer() || !IsKey(s.Signer()) || (a.Kind == KindOrg) != a.Auth.IsZero() {
			t.Fatalf("record of organisation %s opened with signer %s (named %s), auth %s", a.Publisher, s.Signer(), a.Signer, a.Auth)
		}
	case IsKey(a.Publisher):
		if a.Publisher != s.Signer() || a.Signer != "" || !a.Auth.IsZero() || a.Kind == KindOrg || a.Kind == KindMembers {
			t.Fatalf("record of key %s opened with signer %s, kind %s", a.Publisher, s.Signer(), a.Kind)
		}
	default:
		t.Fatalf("opened a record whose publisher %x is neither an organisation nor a key", []byte(a.Publisher))
	}
	want := a.Slot()
	if a.Kind == KindOrg {
		want = OrgSlotPrefix + s.Hash().String()
	}
	if s.Slot() != want {
		t.Fatalf("slot %q, want %q", s.Slot(), want)
	}
	if a.Kind == KindMembers && s.Slot() != MembersSlotPrefix+a.Members.List {
		t.Fatalf("membership list in slot %q", s.Slot())
	}
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
	for _, c := range locationCases() {
		f.Add([]byte(c.payload))
	}
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
		// A payload never carries a genesis's publisher: the ID is its
		// hash's. Every other valid payload names an organisation or a key.
		switch {
		case a.isGenesis():
			if a.Publisher != "" || !IsOrg(OrgID(b)) {
				t.Fatalf("genesis decoded with publisher %q", a.Publisher)
			}
		case IsOrg(a.Publisher):
			if (a.Kind == KindOrg) != a.Auth.IsZero() {
				t.Fatalf("organisation record of kind %s with auth %s", a.Kind, a.Auth)
			}
		case !IsKey(a.Publisher) || a.Kind == KindOrg || a.Kind == KindMembers:
			t.Fatalf("valid payload of kind %s with publisher %x", a.Kind, []byte(a.Publisher))
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
	f.Add([]byte(goodYAML + "location: {lat: 45.4642, lon: 9.19}\n"))
	f.Add([]byte(goodYAML + "location: \"45.4642, -9.19\"\n"))
	f.Add([]byte(goodYAML + "location: {lat: 1e-7, lon: .inf}\n"))
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
// a rotation, a delegation, a revocation, a genesis that adopts a key,
// records of delegates (practice, retraction, profile) and a membership
// list. Every one opens.
func orgSeeds(t testing.TB) []*Signed {
	t.Helper()
	r0, r1, node, staff := testKey(t, 10), testKey(t, 11), testKey(t, 12), testKey(t, 13)
	g := mustSeal(t, genesisAnn("Org", []peer.ID{idOf(t, r0), idOf(t, r1)}, idOf(t, node)), r0)
	org := g.Announcement().Publisher
	rot := genesisAnn("Org", []peer.ID{idOf(t, r1)}, idOf(t, node))
	rot.Publisher, rot.Seq, rot.Org.Prev = org, 2, g.Hash()
	del, err := Delegate(g, 5, t0.Add(time.Hour), Delegation{Key: idOf(t, staff), May: []Kind{KindPractice, KindRetract}, Until: t0.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sdel := mustSeal(t, del, r0)
	rev, err := Revoke(sdel, 0, t0.Add(2*time.Hour), idOf(t, staff), t0.Add(2*time.Hour), 7)
	if err != nil {
		t.Fatal(err)
	}
	adopts := genesisAnn("Adopter", []peer.ID{idOf(t, r1)}, idOf(t, node))
	adopts.Org.Adopts = idOf(t, node)
	members := &Announcement{V: Version, Publisher: org, Seq: 4, Time: t0, Kind: KindMembers, Auth: g.Hash(),
		Members: &MemberList{List: "network", Title: "Members", Members: []Member{{ID: org, Name: "Org"}, {ID: idOf(t, node)}}}}
	retract := &Announcement{V: Version, Publisher: org, Seq: 6, Time: t0.Add(time.Hour), Kind: KindRetract, Auth: sdel.Hash(),
		Retract: &Retraction{ID: "cric-roubaix", Reason: "ended"}}
	profile := &Announcement{V: Version, Publisher: org, Seq: 7, Time: t0, Kind: KindProfile, Auth: g.Hash(),
		Profile: &Profile{Name: "Org", Country: "FR", Level: "municipality"}}
	return []*Signed{
		g,
		mustSeal(t, rot, r0),
		mustSeal(t, delegatedPractice(org, g.Hash(), 3, t0, "cric-roubaix"), node),
		mustSeal(t, members, node),
		sdel,
		mustSeal(t, rev, r1),
		mustSeal(t, adopts, r1),
		mustSeal(t, retract, staff),
		mustSeal(t, profile, node),
	}
}

func FuzzDecodeID(f *testing.F) {
	f.Add(OrgID([]byte("x")).String())
	f.Add(exampleAnnouncement(f).Announcement().Publisher.String())
	f.Add("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")
	f.Add("Qm" + strings.Repeat("z", MaxIDText-1))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := DecodeID(s)
		// The table of recent IDs answers as decoding would, the second
		// time as the first.
		again, errAgain := DecodeID(s)
		plain, errPlain := decodeID(s)
		if len(s) > MaxIDText {
			if err == nil || errAgain == nil {
				t.Fatalf("%d characters decode", len(s))
			}
			return
		}
		if again != id || plain != id || (err == nil) != (errAgain == nil) || (err == nil) != (errPlain == nil) {
			t.Fatalf("%q decodes to %x (%v), then %x (%v); uncached %x (%v)", s, []byte(id), err, []byte(again), errAgain, []byte(plain), errPlain)
		}
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
