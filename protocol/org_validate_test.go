package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestOrgValidate: the static rules of section 12.2, one case each, with
// the field path each problem names.
func TestOrgValidate(t *testing.T) {
	k := func(seed byte) peer.ID { return idOf(t, testKey(t, seed)) }
	r0, r1, d1, d2 := k(20), k(21), k(22), k(23)
	org := OrgID([]byte("some genesis"))
	prev := Hash{7}
	genesis := func() *Announcement { return genesisAnn("Org", []peer.ID{r0, r1}, d1) }
	op := func() *Announcement {
		a := genesisAnn("Org", []peer.ID{r0, r1}, d1)
		a.Publisher, a.Seq, a.Org.Prev = org, 2, prev
		a.Org.Revoked = []Revocation{{Key: d2, May: []Kind{KindPractice}, From: t0, Through: 3}}
		return a
	}
	members := func() *Announcement {
		return &Announcement{V: 1, Publisher: org, Seq: 3, Time: t0, Kind: KindMembers, Auth: prev,
			Members: &MemberList{List: "eurocities", Title: "Members", Members: []Member{{ID: org, Name: "Self"}, {ID: d1}}}}
	}
	practice := func() *Announcement { return delegatedPractice(org, prev, 4, t0, "cric-roubaix") }
	plain := func() *Announcement {
		a := practiceAnn(1, fullSheet())
		a.Publisher = d2
		return a
	}
	tests := []struct {
		name   string
		ann    *Announcement
		change func(a *Announcement)
		path   string // "" means valid, "<root>" the document as a whole
	}{
		{"genesis", genesis(), func(*Announcement) {}, ""},
		{"genesis with derived publisher", genesis(), func(a *Announcement) { a.Publisher = org }, ""},
		{"genesis adopting a key", genesis(), func(a *Announcement) { a.Org.Adopts = d2 }, ""},
		{"op", op(), func(*Announcement) {}, ""},
		{"members", members(), func(*Announcement) {}, ""},
		{"empty members", members(), func(a *Announcement) { a.Members.Members = nil }, ""},
		{"delegated practice", practice(), func(*Announcement) {}, ""},
		{"plain practice", plain(), func(*Announcement) {}, ""},
		{"delegate until", genesis(), func(a *Announcement) { a.Org.Delegates[0].Until = t0.Add(time.Hour) }, ""},

		{"genesis seq 2", genesis(), func(a *Announcement) { a.Seq = 2 }, "seq"},
		{"genesis by a key publisher", genesis(), func(a *Announcement) { a.Publisher = r0 }, "publisher"},
		{"genesis with auth", genesis(), func(a *Announcement) { a.Publisher, a.Auth = org, prev }, "auth"},
		{"genesis with revoked", genesis(), func(a *Announcement) {
			a.Org.Revoked = []Revocation{{Key: d2, May: []Kind{KindPractice}, From: t0}}
		}, "org.revoked"},
		{"genesis adopting an org", genesis(), func(a *Announcement) { a.Org.Adopts = org }, "org.adopts"},
		{"op adopting", op(), func(a *Announcement) { a.Org.Adopts = d2 }, "org.adopts"},
		{"op without publisher", op(), func(a *Announcement) { a.Publisher = "" }, "publisher"},
		{"op seq 1", op(), func(a *Announcement) { a.Seq = 1 }, "seq"},
		{"op with auth", op(), func(a *Announcement) { a.Auth = prev }, "auth"},
		{"op without name", op(), func(a *Announcement) { a.Org.Name = " " }, "org.name"},
		{"op name two lines", op(), func(a *Announcement) { a.Org.Name = "a\nb" }, "org.name"},
		{"no keys", op(), func(a *Announcement) { a.Org.Keys = nil }, "org.keys"},
		{"six keys", op(), func(a *Announcement) {
			a.Org.Keys = []peer.ID{k(30), k(31), k(32), k(33), k(34), k(35)}
		}, "org.keys"},
		{"key twice", op(), func(a *Announcement) { a.Org.Keys = []peer.ID{r0, r0} }, "org.keys[1]"},
		{"org as rotation key", op(), func(a *Announcement) { a.Org.Keys = []peer.ID{org} }, "org.keys[0]"},
		{"rotation key delegated", op(), func(a *Announcement) { a.Org.Delegates[0].Key = r1 }, "org.delegates[0].key"},
		{"rotation key revoked", op(), func(a *Announcement) { a.Org.Revoked[0].Key = r0 }, "org.revoked[0].key"},
		{"delegate revoked", op(), func(a *Announcement) { a.Org.Revoked[0].Key = d1 }, "org.revoked[0].key"},
		{"delegate twice", op(), func(a *Announcement) {
			a.Org.Delegates = append(a.Org.Delegates, Delegation{Key: d1, May: []Kind{KindProfile}})
		}, "org.delegates[1].key"},
		{"may empty", op(), func(a *Announcement) { a.Org.Delegates[0].May = nil }, "org.delegates[0].may"},
		{"may org", op(), func(a *Announcement) { a.Org.Delegates[0].May = []Kind{KindOrg} }, "org.delegates[0].may[0]"},
		{"may twice", op(), func(a *Announcement) { a.Org.Delegates[0].May = []Kind{KindRetract, KindRetract} }, "org.delegates[0].may[1]"},
		{"until out of range", op(), func(a *Announcement) { a.Org.Delegates[0].Until = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }, "org.delegates[0].until"},
		{"revoked without from", op(), func(a *Announcement) { a.Org.Revoked[0].From = time.Time{} }, "org.revoked[0].from"},
		{"revoked may empty", op(), func(a *Announcement) { a.Org.Revoked[0].May = nil }, "org.revoked[0].may"},
		{"through beyond 2^53", op(), func(a *Announcement) { a.Org.Revoked[0].Through = MaxSeq + 1 }, "org.revoked[0].through"},
		{"101 delegates", op(), func(a *Announcement) {
			for i := range MaxDelegates {
				a.Org.Delegates = append(a.Org.Delegates, Delegation{Key: fakeKeyID(i), May: []Kind{KindPractice}})
			}
		}, "org.delegates"},
		{"257 revoked", op(), func(a *Announcement) {
			for i := range MaxRevoked {
				a.Org.Revoked = append(a.Org.Revoked, Revocation{Key: fakeKeyID(i), May: []Kind{KindPractice}, From: t0})
			}
		}, "org.revoked"},
		{"org kind without org", op(), func(a *Announcement) { a.Org = nil; a.Profile = &Profile{Name: "x", Country: "FR", Level: "other"} }, "org"},
		{"org and members", op(), func(a *Announcement) { a.Members = members().Members }, "<root>"},

		{"members by a key", members(), func(a *Announcement) { a.Publisher, a.Auth = d1, Hash{} }, "publisher"},
		{"members without auth", members(), func(a *Announcement) { a.Auth = Hash{} }, "auth"},
		{"list name", members(), func(a *Announcement) { a.Members.List = "Euro_cities" }, "members.list"},
		{"list name empty", members(), func(a *Announcement) { a.Members.List = "" }, "members.list"},
		{"list name 65", members(), func(a *Announcement) { a.Members.List = strings.Repeat("a", 65) }, "members.list"},
		{"title", members(), func(a *Announcement) { a.Members.Title = "" }, "members.title"},
		{"member twice", members(), func(a *Announcement) { a.Members.Members[1].ID = org }, "members.members[1].id"},
		{"member not an ID", members(), func(a *Announcement) { a.Members.Members[1].ID = "xyz" }, "members.members[1].id"},
		{"member name", members(), func(a *Announcement) { a.Members.Members[0].Name = "a\x00" }, "members.members[0].name"},
		{"2001 members", members(), func(a *Announcement) {
			a.Members.Members = nil
			for i := range MaxMembers + 1 {
				a.Members.Members = append(a.Members.Members, Member{ID: fakeKeyID(i)})
			}
		}, "members.members"},

		{"practice without auth", practice(), func(a *Announcement) { a.Auth = Hash{} }, "auth"},
		{"plain practice with auth", plain(), func(a *Announcement) { a.Auth = prev }, "auth"},
		{"publisher of another form", plain(), func(a *Announcement) { a.Publisher = peer.ID("\x12\x20" + strings.Repeat("x", 32)) }, "publisher"},
		{"plain org op", plain(), func(a *Announcement) { a.Kind, a.Practice, a.Org = KindOrg, nil, op().Org }, "publisher"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.change(tc.ann)
			err := tc.ann.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want a problem at %s", tc.path)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %T %v, want a *ValidationError", err, err)
			}
			for _, p := range ve.Problems {
				if p.Path == tc.path || (p.Path == "" && tc.path == "<root>") {
					return
				}
			}
			t.Fatalf("Validate() = %v, want a problem at %s", err, tc.path)
		})
	}
}

// fakeKeyID is a distinct, well-formed Ed25519 peer ID (not a real key's).
func fakeKeyID(i int) peer.ID {
	return peer.ID(keyIDPrefix + fmt.Sprintf("%032d", i))
}
