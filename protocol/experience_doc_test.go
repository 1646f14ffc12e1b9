package protocol

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/record"
)

// experienceAdapterSeed is the seed byte of the adapter's key in the
// worked example of PROTOCOL.md 13.9 (a plain key publisher).
const experienceAdapterSeed = 0x24

// experienceExample is the worked example of PROTOCOL.md 13.9: an
// adaptation of the practice of 11.1 (key seed 07, seq 1) by a plain key
// publisher (seed 24 repeated).
func experienceExample(t testing.TB) *Signed {
	t.Helper()
	about := exampleAnnouncement(t).Announcement()
	e := &Experience{
		Type: ExperienceAdaptation, ID: "conseil-lille",
		About:    About{Publisher: about.Publisher, ID: about.Practice.ID, Seq: about.Seq},
		Language: "en", Title: "An intercultural council in Lille", Country: "FR", City: "Lille",
		StartYear: 2019, Ongoing: true,
		Changes:     "A smaller council that meets in the city's libraries, with seats for young residents.",
		Achievement: "partially", Evaluation: "internal",
	}
	a := &Announcement{V: Version, Seq: 1, Time: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), Kind: KindExperience, Experience: e}
	return mustSeal(t, a, testKey(t, experienceAdapterSeed))
}

// TestProtocolDocExperienceExample fails when PROTOCOL.md section 13 (the
// worked example of 13.9 and the table of members by type of 13.2) and
// the code disagree. Regenerate the blocks with KHANTARA_UPDATE_DOC=1 go
// test ./protocol -run DocExperience.
func TestProtocolDocExperienceExample(t *testing.T) {
	s := experienceExample(t)
	env, err := record.UnmarshalEnvelope(s.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	checkDocBlocks(t, map[string]string{
		"experience-members":   experienceMatrix(),
		"experience-publisher": idOf(t, testKey(t, experienceAdapterSeed)).String(),
		"experience-payload":   string(env.RawPayload),
		"experience-envelope":  wrapHex(s.Envelope()),
		"experience-hash":      s.Hash().String(),
		"experience-slot":      s.Slot(),
	})
	// The documented record opens as the text says: a valid v2 record of
	// slot _exp/conseil-lille about the practice of 11.1.
	o, err := Open(s.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	practice := exampleAnnouncement(t)
	got, replyPub, _ := o.Announcement().Experience.Subject()
	if IsV1(o) || o.Slot() != "_exp/conseil-lille" || got.Publisher != practice.Announcement().Publisher ||
		got.ID != practice.Slot() || replyPub != "" {
		t.Fatalf("the example opens as v1 %v, slot %q, about %+v", IsV1(o), o.Slot(), got)
	}
}

// experienceMatrix writes the members whose presence depends on the type
// as PROTOCOL.md 13.2 shows them: R required, O optional, - absent.
func experienceMatrix() string {
	var b strings.Builder
	row := func(cells ...string) {
		fmt.Fprintf(&b, "%-13s", cells[0])
		for _, c := range cells[1:] {
			fmt.Fprintf(&b, " %-12s", c)
		}
		b.WriteString("\n")
	}
	head := []string{"member"}
	for _, t := range expAll {
		head = append(head, string(t))
	}
	row(head...)
	for _, m := range expMembers {
		cells := []string{m.name}
		for _, t := range expAll {
			switch {
			case slices.Contains(m.required, t):
				cells = append(cells, "R")
			case slices.Contains(m.allowed, t):
				cells = append(cells, "O")
			default:
				cells = append(cells, "-")
			}
		}
		row(cells...)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n")
}
