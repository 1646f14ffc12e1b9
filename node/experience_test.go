package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// TestPublishExperience: a plain node publishes experience records with
// its key, an organisation's delegate for the organisation, a network's
// node for a member (PublishAs), and each reaches another node over the
// v2 topic; Retract with an experience slot withdraws it everywhere; a
// delegate not allowed the kind is refused.
func TestPublishExperience(t *testing.T) {
	tn := newTestNet(t, 1330)
	plain, delegate, other := tn.add(), tn.add(), tn.add()
	tn.connect(plain, other)
	tn.connect(delegate, other)
	tn.connect(plain, delegate)
	tn.waitTopics()
	ctx := context.Background()
	sheets := demoSheets(t)
	prac := publish(t, plain, variant(sheets, 1))
	pid := prac.Announcement().Practice.ID

	lesson, err := plain.PublishExperience(ctx, expBody(protocol.ExperienceLesson, "lesson-one", plain.ID(), pid))
	if err != nil {
		t.Fatal(err)
	}
	if a := lesson.Announcement(); a.Publisher != plain.ID() || lesson.Signer() != plain.ID() || a.Seq != 2 {
		t.Fatalf("published as %s by %s at %d", a.Publisher, lesson.Signer(), a.Seq)
	}
	org := newTestOrg(t, "Ville de Lille", []uint64{13300}, delegation(delegate.ID(), protocol.KindExperience, protocol.KindRetract))
	member := newTestOrg(t, "Member", []uint64{13301}, delegation(delegate.ID(), protocol.KindPractice))
	for _, g := range []*protocol.Signed{org.gen, member.gen} {
		submit(t, delegate, g)
	}
	tn.eventually(10*time.Second, "the geneses everywhere", allHold(tn.nodes, org.gen, member.gen))
	if err := delegate.SetOrg(org.id); err != nil {
		t.Fatal(err)
	}
	endorse, err := delegate.PublishExperience(ctx, expBody(protocol.ExperienceEndorsement, "", plain.ID(), pid))
	if err != nil {
		t.Fatal(err)
	}
	if a := endorse.Announcement(); a.Publisher != org.id || a.Auth != org.gen.Hash() || endorse.Signer() != delegate.ID() {
		t.Fatalf("the delegate published as %s (auth %s) by %s", a.Publisher, a.Auth, endorse.Signer())
	}
	// PublishAs takes the kind; the member did not delegate it.
	if _, err := delegate.PublishAs(ctx, member.id, expAnn(expBody(protocol.ExperienceQuestion, "ask", plain.ID(), pid))); !errors.Is(err, ErrNotDelegated) {
		t.Fatalf("an experience for a member that delegated practices only: %v", err)
	}
	question, err := delegate.PublishAs(ctx, org.id, expAnn(expBody(protocol.ExperienceQuestion, "ask", plain.ID(), pid)))
	if err != nil {
		t.Fatal(err)
	}
	tn.eventually(10*time.Second, "the experience records everywhere", allHold(tn.nodes, lesson, endorse, question))
	counts := func(n *Node) uint64 {
		c, err := n.Store().ExperienceCounts(plain.ID(), pid)
		if err != nil {
			t.Fatal(err)
		}
		return c.Total()
	}
	if got := counts(other); got != 3 {
		t.Fatalf("%d experience records about the practice at the other node, want 3", got)
	}
	// Withdrawn by their slots.
	r1, err := plain.Retract(ctx, lesson.Slot(), "")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := delegate.Retract(ctx, endorse.Slot(), "no longer")
	if err != nil {
		t.Fatal(err)
	}
	tn.eventually(10*time.Second, "the retractions everywhere", allHold(tn.nodes, r1, r2))
	for _, n := range tn.nodes {
		if got := counts(n); got != 1 {
			t.Fatalf("%d experience records left about the practice, want the question", got)
		}
	}
	if p, err := other.Store().PublisherSummary(plain.ID()); err != nil || p.Experiences != 0 || p.RetractedExperiences != 1 || p.Retracted != 0 || p.Practices != 1 {
		t.Fatalf("the plain publisher's summary: %+v, %v", p, err)
	}
}
