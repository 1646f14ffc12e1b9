package federation

import (
	"testing"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// checkExperiences checks, on every node of a demo that has converged,
// that it holds each of the demo's experience records (demo.Experiences)
// as its author organisation's, signed by the node that organisation
// delegates for them, about the practice its file names, at the version
// the practice is held at, with the content of its file; that the
// experience index counts per practice agree with the files; and that
// every answer's question is held about the same practice.
func checkExperiences(t *testing.T, f *Federation) {
	t.Helper()
	placed, err := f.placeExperiences()
	if err != nil {
		t.Fatal(err)
	}
	if len(placed) == 0 || f.Experiences() != len(placed) {
		t.Fatalf("the demo published %d experience records; its files hold %d", f.Experiences(), len(placed))
	}
	want := map[practiceKey]store.ExperienceCounts{}
	for _, p := range placed {
		k := practiceKey{f.orgs[p.About].ID, p.Record.About.ID}
		c := want[k]
		switch p.Record.Type {
		case protocol.ExperienceAdaptation:
			c.Adaptations++
		case protocol.ExperienceLesson:
			c.Lessons++
		case protocol.ExperienceQuestion:
			c.Questions++
		case protocol.ExperienceAnswer:
			c.Answers++
		case protocol.ExperienceEndorsement:
			c.Endorsements++
		}
		want[k] = c
	}
	for _, n := range f.Nodes() {
		st := n.Node().Store()
		for _, p := range placed {
			checkPlaced(t, f, n, &p)
		}
		for k, c := range want {
			got, err := st.ExperienceCounts(k.publisher, k.id)
			if err != nil || got != c {
				t.Errorf("on %s, the experiences about %s count %+v (%v), want %+v", n.Name, k.id, got, err, c)
			}
		}
	}
}

// checkPlaced checks the record p on node n.
func checkPlaced(t *testing.T, f *Federation, n *Node, p *demo.Placed) {
	t.Helper()
	author := f.orgs[p.Author]
	slot := p.Record.Slot()
	if p.Record.Type == protocol.ExperienceEndorsement {
		// The file's about.publisher is the placeholder; the slot names
		// the practice's organisation.
		slot = protocol.EndorsementSlot(f.orgs[p.About].ID, p.Record.About.ID)
	}
	rec, err := n.Node().Store().Get(author.ID, slot)
	if err != nil {
		t.Fatalf("%s lacks the experience %s of %s (slot %s): %v", n.Name, p.Name, author.Slug, slot, err)
	}
	e := rec.Announcement().Experience
	if e == nil {
		t.Fatalf("on %s, %s/%s is a %s, not an experience", n.Name, author.Slug, slot, rec.Announcement().Kind)
	}
	if signer, by := rec.Signed.Signer(), f.experienceNode(author).Node().ID(); signer != by {
		t.Errorf("on %s, %s is signed by %s, want %s's node %s", n.Name, p.Name, signer, author.Slug, by)
	}
	practice, err := n.Node().Store().Get(f.orgs[p.About].ID, p.Record.About.ID)
	if err != nil {
		t.Fatalf("on %s, the practice of %s: %v", n.Name, p.Name, err)
	}
	if e.About.Publisher != f.orgs[p.About].ID || e.About.ID != p.Record.About.ID || e.About.Seq != practice.Announcement().Seq {
		t.Errorf("on %s, %s is about %s/%s seq %d; want %s/%s seq %d", n.Name, p.Name, e.About.Publisher, e.About.ID, e.About.Seq,
			f.orgs[p.About].ID, p.Record.About.ID, practice.Announcement().Seq)
	}
	if e.Type != p.Record.Type || e.Title != p.Record.Title || e.Text != p.Record.Text || e.Changes != p.Record.Changes {
		t.Errorf("on %s, %s holds %s %q, want %s %q", n.Name, p.Name, e.Type, e.Title, p.Record.Type, p.Record.Title)
	}
	if e.Type == protocol.ExperienceAnswer {
		q, err := n.Node().Store().Get(e.InReplyTo.Publisher, protocol.ExperienceSlot(e.InReplyTo.ID))
		if err != nil || q.Announcement().Experience == nil || q.Announcement().Experience.About.ID != e.About.ID {
			t.Errorf("on %s, the answer %s replies to %s/%s, not held about %s: %v", n.Name, p.Name, e.InReplyTo.Publisher, e.InReplyTo.ID, e.About.ID, err)
		}
	}
}
