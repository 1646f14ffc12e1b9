package protocol

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestExperienceSlots(t *testing.T) {
	key := idOf(t, testKey(t, 7))
	org := OrgID([]byte("org"))
	for _, c := range []struct {
		e    *Experience
		want string
	}{
		{testExperience(t, ExperienceAdaptation, false), "_exp/exp-adaptation"},
		{testExperience(t, ExperienceLesson, false), "_exp/exp-lesson"},
		{testExperience(t, ExperienceQuestion, false), "_exp/exp-question"},
		{testExperience(t, ExperienceAnswer, false), "_exp/exp-answer"},
		{testExperience(t, ExperienceEndorsement, false), "_endorse/" + key.String() + "/cric-roubaix"},
		{&Experience{Type: ExperienceEndorsement, About: About{Publisher: org, ID: "abc"}}, "_endorse/" + org.String() + "/abc"},
	} {
		if got := c.e.Slot(); got != c.want {
			t.Errorf("%s slot %q, want %q", c.e.Type, got, c.want)
		}
		a := &Announcement{Kind: KindExperience, Experience: c.e}
		if a.Slot() != c.want {
			t.Errorf("announcement slot %q, want %q", a.Slot(), c.want)
		}
		if !IsExperienceSlot(c.want) {
			t.Errorf("IsExperienceSlot(%q) is false", c.want)
		}
		// No experience slot is a practice ID or another kind's slot.
		if idPattern.MatchString(c.want) || c.want == ProfileSlot || strings.HasPrefix(c.want, OrgSlotPrefix) || strings.HasPrefix(c.want, MembersSlotPrefix) {
			t.Errorf("slot %q collides with another kind's", c.want)
		}
	}
	for _, s := range []string{"cric-roubaix", ProfileSlot, OrgSlotPrefix + "ab", MembersSlotPrefix + "x", "_ex/abc", "exp/abc"} {
		if IsExperienceSlot(s) {
			t.Errorf("IsExperienceSlot(%q) is true", s)
		}
	}
	// A new endorsement of the same practice has the same slot, so it
	// supersedes the previous one; another practice, another slot.
	e1, e2 := testExperience(t, ExperienceEndorsement, false), testExperience(t, ExperienceEndorsement, true)
	e2.About.Seq = 4
	if e1.Slot() != e2.Slot() {
		t.Fatal("two endorsements of one practice have different slots")
	}
	e2.About.ID = "other-practice"
	if e1.Slot() == e2.Slot() {
		t.Fatal("endorsements of two practices share a slot")
	}
}

func TestParseEndorsementSlot(t *testing.T) {
	key := idOf(t, testKey(t, 7))
	org := OrgID([]byte("org"))
	for _, pub := range []peer.ID{key, org} {
		p, id, ok := ParseEndorsementSlot(EndorsementSlot(pub, "cric-roubaix"))
		if !ok || p != pub || id != "cric-roubaix" {
			t.Errorf("ParseEndorsementSlot of %s: %s %q %v", pub, p, id, ok)
		}
	}
	keyCID := peer.ToCid(key).String() // another text form peer.Decode reads
	for _, s := range []string{
		"_endorse/" + key.String(),
		"_endorse/" + key.String() + "/",
		"_endorse/" + key.String() + "/AB",
		"_endorse/" + key.String() + "/abc/def",
		"_endorse/" + keyCID + "/abc",
		"_endorse/12D3KooW/abc",
		"_endorse//abc",
		"_endorse/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N/abc",
		"_exp/abc",
		"endorse/" + key.String() + "/abc",
	} {
		if _, _, ok := ParseEndorsementSlot(s); ok {
			t.Errorf("ParseEndorsementSlot(%q) is ok", s)
		}
	}
}

func TestRetractExperienceSlots(t *testing.T) {
	key := idOf(t, testKey(t, 7))
	org := OrgID([]byte("org"))
	for _, id := range []string{"cric-roubaix", "_exp/abc", "_exp/" + strings.Repeat("a", 64),
		EndorsementSlot(key, "cric-roubaix"), EndorsementSlot(org, "abc")} {
		if err := (&Retraction{ID: id}).Validate(); err != nil {
			t.Errorf("retraction of %q: %v", id, err)
		}
	}
	for _, id := range []string{"_exp/", "_exp/ab", "_exp/Abc", "_exp/" + strings.Repeat("a", 65), "_exp/_exp/abc",
		"_endorse/" + key.String(), "_endorse/" + key.String() + "/ab", "_endorse/x/abc", "_profile", "_members/x", "_org/ab", "_endorsement/abc"} {
		err := (&Retraction{ID: id}).Validate()
		if err == nil {
			t.Errorf("retraction of %q is valid", id)
			continue
		}
		wantProblem(t, err, "id", "")
	}
}

func TestExperienceIsV1(t *testing.T) {
	key := idOf(t, testKey(t, 7))
	org := OrgID([]byte("org"))
	retract := func(pub peer.ID, id string) *Announcement {
		return &Announcement{Publisher: pub, Kind: KindRetract, Retract: &Retraction{ID: id}}
	}
	for _, c := range []struct {
		name string
		a    *Announcement
		v1   bool
	}{
		{"key practice", &Announcement{Publisher: key, Kind: KindPractice, Practice: fullSheet()}, true},
		{"key profile", &Announcement{Publisher: key, Kind: KindProfile, Profile: &Profile{}}, true},
		{"key retracts a practice", retract(key, "cric-roubaix"), true},
		{"key experience", &Announcement{Publisher: key, Kind: KindExperience, Experience: testExperience(t, ExperienceLesson, false)}, false},
		{"key endorsement", &Announcement{Publisher: key, Kind: KindExperience, Experience: testExperience(t, ExperienceEndorsement, false)}, false},
		{"key retracts an experience", retract(key, "_exp/abc"), false},
		{"key retracts an endorsement", retract(key, EndorsementSlot(org, "abc")), false},
		{"organisation retracts a practice", retract(org, "cric-roubaix"), false},
		{"organisation experience", &Announcement{Publisher: org, Kind: KindExperience, Experience: testExperience(t, ExperienceLesson, false)}, false},
	} {
		if got := c.a.IsV1(); got != c.v1 {
			t.Errorf("%s: IsV1 %v, want %v", c.name, got, c.v1)
		}
	}
	// Sealed and opened, an experience and its retraction stay v2.
	k := testKey(t, 7)
	exp := mustSeal(t, &Announcement{V: Version, Seq: 2, Time: t0, Kind: KindExperience, Experience: testExperience(t, ExperienceQuestion, false)}, k)
	ret := mustSeal(t, &Announcement{V: Version, Seq: 3, Time: t0, Kind: KindRetract, Retract: &Retraction{ID: exp.Slot()}}, k)
	if IsV1(exp) || IsV1(ret) || ret.Slot() != exp.Slot() {
		t.Fatalf("IsV1 %v %v, slots %q %q", IsV1(exp), IsV1(ret), exp.Slot(), ret.Slot())
	}
}

func TestExperienceSubject(t *testing.T) {
	about := expPractice(t)
	for _, typ := range expAll {
		e := testExperience(t, typ, true)
		practice, replyPub, replySlot := e.Subject()
		if practice != (Ref{Publisher: about.Publisher, ID: about.ID}) {
			t.Errorf("%s: practice %+v", typ, practice)
		}
		switch {
		case typ == ExperienceAnswer && (replyPub != e.InReplyTo.Publisher || replySlot != "_exp/exp-question"):
			t.Errorf("answer replies to %s %q", replyPub, replySlot)
		case typ != ExperienceAnswer && (replyPub != "" || replySlot != ""):
			t.Errorf("%s replies to %s %q", typ, replyPub, replySlot)
		}
	}
}

func TestCompareExperiences(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	seal := func(k int, tm time.Time, id string) *Signed {
		e := testExperience(t, ExperienceLesson, false)
		e.ID = id
		return mustSeal(t, &Announcement{V: Version, Seq: 1, Time: tm, Kind: KindExperience, Experience: e}, []crypto.PrivKey{k1, k2}[k])
	}
	low, high := 0, 1
	if ComparePublishers(idOf(t, k1), idOf(t, k2)) > 0 {
		low, high = 1, 0
	}
	later := t0.Add(time.Minute)
	// The wanted order: time first, then publisher bytes, then slot; the
	// same instant written with another offset is the same time.
	want := []*Signed{
		seal(high, t0, "zzz"),
		seal(low, later, "bbb"),
		seal(low, later.In(time.FixedZone("CET", 3600)), "ccc"),
		seal(high, later, "aaa"),
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, CompareExperiences)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d: %s %s, want %s %s", i, got[i].Announcement().Publisher, got[i].Slot(), want[i].Announcement().Publisher, want[i].Slot())
		}
	}
	if CompareExperiences(want[0], want[0]) != 0 {
		t.Fatal("a record is not equal to itself")
	}
}
