package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// t0 is the time of the first operation of the test organisations.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func idOf(t testing.TB, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func allKinds() []Kind { return []Kind{KindPractice, KindRetract, KindProfile, KindMembers} }

// genesisAnn is a genesis with the given rotation keys and delegates (all
// kinds, no expiry).
func genesisAnn(name string, keys []peer.ID, delegates ...peer.ID) *Announcement {
	op := &OrgOp{Name: name, Keys: keys}
	for _, d := range delegates {
		op.Delegates = append(op.Delegates, Delegation{Key: d, May: allKinds()})
	}
	return &Announcement{V: Version, Seq: 1, Time: t0, Kind: KindOrg, Org: op}
}

func mustSeal(t testing.TB, a *Announcement, k crypto.PrivKey) *Signed {
	t.Helper()
	s, err := Seal(a, k)
	if err != nil {
		t.Fatalf("Seal(%s seq %d): %v", a.Kind, a.Seq, err)
	}
	return s
}

// delegatedPractice is a practice of org signed by a delegate under auth.
func delegatedPractice(org peer.ID, auth Hash, seq uint64, tm time.Time, id string) *Announcement {
	s := fullSheet()
	s.ID = id
	return &Announcement{V: Version, Publisher: org, Seq: seq, Time: tm, Kind: KindPractice, Auth: auth, Practice: s}
}

func TestOrgIDs(t *testing.T) {
	key := idOf(t, testKey(t, 1))
	org := OrgID([]byte("payload"))
	if !IsOrg(org) || IsKey(org) || len(org) != 22 {
		t.Fatalf("OrgID %x: IsOrg %v IsKey %v", []byte(org), IsOrg(org), IsKey(org))
	}
	if IsOrg(key) || !IsKey(key) {
		t.Fatalf("key ID %s: IsOrg %v IsKey %v", key, IsOrg(key), IsKey(key))
	}
	back, err := DecodeID(org.String())
	if err != nil || back != org {
		t.Fatalf("org ID does not round-trip its text form %s: %v", org, err)
	}
	if back, err := DecodeID(key.String()); err != nil || back != key {
		t.Fatalf("DecodeID(key) = %v", err)
	}
	for _, bad := range []string{"", "1", org.String() + "1", "1" + org.String(), org.String()[1:]} {
		if _, err := DecodeID(bad); err == nil {
			t.Errorf("DecodeID(%q) succeeds", bad)
		}
	}
	if !strings.HasPrefix(string(org), "\x12\x14") {
		t.Fatal("org ID is not a truncated sha2-256 multihash")
	}
	for _, bad := range []peer.ID{"", org[:21], peer.ID("\x12\x20" + strings.Repeat("a", 20)), key[:37]} {
		if IsOrg(bad) || IsKey(bad) {
			t.Errorf("%x passes as an org or key ID", []byte(bad))
		}
	}
}

func TestHashText(t *testing.T) {
	h := Hash{1, 2, 0xab}
	b, err := h.MarshalText()
	if err != nil || string(b) != h.String() {
		t.Fatalf("MarshalText = %s, %v", b, err)
	}
	var back Hash
	if err := back.UnmarshalText(b); err != nil || back != h {
		t.Fatalf("UnmarshalText = %v", err)
	}
	for _, bad := range []string{strings.ToUpper(h.String()), h.String()[:62], h.String() + "00", strings.Repeat("0", 64), strings.Repeat("g", 64)} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) succeeds", bad)
		}
	}
}

func TestGenesisSealOpen(t *testing.T) {
	r0, r1, node := testKey(t, 10), testKey(t, 11), testKey(t, 12)
	g := genesisAnn("Ville de Roubaix", []peer.ID{idOf(t, r0), idOf(t, r1)}, idOf(t, node))
	sg := mustSeal(t, g, r0)
	payload, err := EncodePayload(sg.Announcement())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload, []byte(`"publisher"`)) {
		t.Fatalf("a genesis payload names its publisher: %s", payload)
	}
	org := sg.Announcement().Publisher
	if org != OrgID(payload) || !IsOrg(org) || sg.Signer() != idOf(t, r0) {
		t.Fatalf("genesis publisher %s signer %s", org, sg.Signer())
	}
	if want := OrgSlotPrefix + sg.Hash().String(); sg.Slot() != want || sg.Announcement().Slot() != "" {
		t.Fatalf("genesis slot %q, want %q", sg.Slot(), want)
	}
	got, err := Open(sg.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	if got.Announcement().Publisher != org || got.Hash() != sg.Hash() || got.Signer() != sg.Signer() {
		t.Fatalf("Open(genesis) = %+v", got.Announcement())
	}
	stored, err := DecodeStored(sg.Envelope())
	if err != nil || stored.Announcement().Publisher != org {
		t.Fatalf("DecodeStored(genesis) = %v", err)
	}
	if IsV1(got) {
		t.Fatal("a genesis counts as a v1 record")
	}
	// Sealing again, with the derived publisher set, gives the same record.
	if again := mustSeal(t, sg.Announcement(), r0); again.Hash() != sg.Hash() {
		t.Fatal("resealing a genesis changes it")
	}
	// keys[1] may not sign a genesis.
	if _, err := Seal(genesisAnn("x", []peer.ID{idOf(t, r0), idOf(t, r1)}), r1); !errors.Is(err, ErrPublisherMismatch) {
		t.Fatalf("Seal(genesis, keys[1]) = %v", err)
	}

	// A delegated practice opens, names the org and its signer.
	p := mustSeal(t, delegatedPractice(org, sg.Hash(), 2, t0.Add(time.Hour), "cric-roubaix"), node)
	got, err = Open(p.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	if got.Announcement().Publisher != org || got.Signer() != idOf(t, node) || got.Announcement().Auth != sg.Hash() {
		t.Fatalf("Open(delegated) = %+v signer %s", got.Announcement(), got.Signer())
	}
	if got.Slot() != "cric-roubaix" || IsV1(got) {
		t.Fatalf("delegated practice slot %q v1 %v", got.Slot(), IsV1(got))
	}
	if !IsV1(exampleAnnouncement(t)) {
		t.Fatal("the plain example is not a v1 record")
	}
}

// TestOpenOrgRejects: Open's step 8 for organisations.
func TestOpenOrgRejects(t *testing.T) {
	r0, r1, node := testKey(t, 10), testKey(t, 11), testKey(t, 12)
	keys := []peer.ID{idOf(t, r0), idOf(t, r1)}
	payload := func(a *Announcement, publisher peer.ID) []byte {
		b, err := EncodePayload(a)
		if err != nil {
			t.Fatal(err)
		}
		if publisher != "" {
			b = bytes.Replace(b, []byte(`{"v":1,`), []byte(`{"v":1,"publisher":"`+publisher.String()+`",`), 1)
		}
		return b
	}
	g := genesisAnn("Org", keys)
	gp := payload(g, "")
	tests := []struct {
		name string
		env  []byte
		want error
		msg  string
	}{
		{"genesis by keys[1]", sealRaw(t, r1, EnvelopeDomain, PayloadType, gp), ErrPublisherMismatch, "keys[0]"},
		{"genesis by a stranger", sealRaw(t, node, EnvelopeDomain, PayloadType, gp), ErrPublisherMismatch, "keys[0]"},
		{"genesis naming its derived publisher", sealRaw(t, r0, EnvelopeDomain, PayloadType, payload(g, OrgID(gp))), ErrInvalid, "publisher: must be absent"},
		{"genesis naming its key", sealRaw(t, r0, EnvelopeDomain, PayloadType, payload(g, keys[0])), ErrInvalid, "publisher: must be absent"},
		{"key publisher not the signer", sealRaw(t, node, EnvelopeDomain, PayloadType, payload(practiceAnn(1, fullSheet()), keys[0])), ErrPublisherMismatch, ""},
		{"genesis seq 2", sealRaw(t, r0, EnvelopeDomain, PayloadType, bytes.Replace(gp, []byte(`"seq":1`), []byte(`"seq":2`), 1)), ErrInvalid, "seq: must be 1"},
		{"zero prev", sealRaw(t, r0, EnvelopeDomain, PayloadType, bytes.Replace(gp, []byte(`"org":{`), []byte(`"org":{"prev":"`+strings.Repeat("0", 64)+`",`), 1)), ErrMalformed, "zeros"},
		{"upper-case prev", sealRaw(t, r0, EnvelopeDomain, PayloadType, bytes.Replace(gp, []byte(`"org":{`), []byte(`"org":{"prev":"`+strings.Repeat("A", 64)+`",`), 1)), ErrMalformed, "lower-case"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.env)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Open() = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

// TestOpHelpers: the helpers derive operations that link, and refuse
// what could never link.
func TestOpHelpers(t *testing.T) {
	f := newOrgFixture(t)
	at := t0.Add(time.Hour)
	if _, err := Delegate(f.g, 0, at, Delegation{Key: f.id(f.r1), May: []Kind{KindPractice}}); err == nil {
		t.Error("a rotation key is delegated")
	}
	if _, err := Revoke(f.g, 0, at, f.id(f.d2), at, 1); err == nil {
		t.Error("a key that is not a delegate is revoked")
	}
	if _, err := NextOp(f.g, 1, at); err == nil {
		t.Error("NextOp accepts a seq not above the head's")
	}
	if _, err := NextOp(f.g, 0, t0.Add(-time.Second)); err == nil {
		t.Error("NextOp accepts a time before the head's")
	}
	if _, err := Rotate(f.g, 0, at, nil); err == nil {
		t.Error("Rotate accepts no keys")
	}
	rv, err := Revoke(f.g, 0, at, f.id(f.d1), at, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := mustSeal(t, rv, f.r0)
	if _, err := Delegate(r, 0, at, Delegation{Key: f.id(f.d1), May: []Kind{KindPractice}}); err == nil {
		t.Error("a revoked key is delegated again")
	}
	rot, err := Rotate(r, 0, at, []crypto.PubKey{f.r2.GetPublic(), f.r1.GetPublic()})
	if err != nil {
		t.Fatal(err)
	}
	ro := mustSeal(t, rot, f.r1)
	del, err := Delegate(ro, 0, at.Add(time.Hour), Delegation{Key: f.id(f.d2), May: []Kind{KindPractice}})
	if err != nil {
		t.Fatal(err)
	}
	d := mustSeal(t, del, f.r2)
	c := NewChain(f.org, []*Signed{f.g, r, ro, d})
	if c.Head().Hash() != d.Hash() || len(c.Ops()) != 4 || c.Status(f.id(f.d2)).Role != KeyDelegated {
		t.Fatalf("the helpers' chain does not link: %+v", c.Ops())
	}
}
