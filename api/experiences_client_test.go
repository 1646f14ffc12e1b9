package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestClientExperiences drives the Client's experience calls against a
// real node's API: publish (and a dry run), listings over several pages,
// a practice's records, both retractions, and the errors as
// *ResponseError with the API's status.
func TestClientExperiences(t *testing.T) {
	n := newTestNet(t, 17).add()
	c := newFakeDaemon(t, NewHandler(n, "secret")).client(t)
	ctx := context.Background()
	prac := publish(t, n, demoSheets(t)[0])
	self, pid := n.ID().String(), prac.Slot()

	if p, err := c.PublishExperience(ctx, []byte(lessonFile("dry-lesson", self, pid)), true); err != nil || !p.DryRun || p.ID != "_exp/dry-lesson" {
		t.Fatalf("dry run: %+v %v", p, err)
	}
	const lessons = defaultListLimit + 5 // more than one page
	for i := range lessons {
		if _, err := c.PublishExperience(ctx, []byte(lessonFile(fmt.Sprintf("lesson-%03d", i), self, pid)), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PublishExperience(ctx, []byte(endorsementFile(self, pid)), false); err != nil {
		t.Fatal(err)
	}
	var re *ResponseError
	_, err := c.PublishExperience(ctx, []byte("type: lesson\n"), false)
	if !errors.As(err, &re) || re.Status != 400 {
		t.Fatalf("an invalid file: %v", err)
	}

	all, err := c.Experiences(ctx, ExperienceQuery{})
	if err != nil || len(all) != lessons+1 {
		t.Fatalf("listing: %d records, %v", len(all), err)
	}
	if slices.ContainsFunc(all, func(e Experience) bool { return e.Slot == "_exp/dry-lesson" }) {
		t.Fatal("the dry run was stored")
	}
	for q, want := range map[ExperienceQuery]int{
		{Type: "endorsement"}:                           1,
		{Mine: true, Type: "lesson"}:                    lessons,
		{Publisher: self, ID: pid}:                      lessons + 1,
		{Publisher: self, ID: "other-practice"}:         0,
		{Author: testKeyID(t, 5)}:                       0,
		{Publisher: self, ID: pid, Type: "question"}:    0,
		{Publisher: self, ID: pid, Author: self}:        lessons + 1,
		{Publisher: self, ID: pid, Type: "endorsement"}: 1,
	} {
		if got, err := c.Experiences(ctx, q); err != nil || len(got) != want {
			t.Errorf("%+v: %d records (%v), want %d", q, len(got), err, want)
		}
	}
	if _, err := c.Experiences(ctx, ExperienceQuery{Type: "review"}); !errors.As(err, &re) || re.Status != 400 {
		t.Errorf("a bad type: %v", err)
	}
	pe, err := c.PracticeExperiences(ctx, self, pid)
	if err != nil || pe.State != AboutHeld || pe.Counts != (ExperienceCounts{Lessons: lessons, Endorsements: 1}) || len(pe.Experiences) != lessons+1 {
		t.Fatalf("the practice's records: state %s counts %+v, %d records, %v", pe.State, pe.Counts, len(pe.Experiences), err)
	}

	if p, err := c.RetractExperience(ctx, "lesson-000", "wrong"); err != nil || p.ID != "_exp/lesson-000" || p.Publisher != self {
		t.Fatalf("retract: %+v %v", p, err)
	}
	if _, err := c.RetractExperience(ctx, "lesson-000", ""); !errors.As(err, &re) || re.Status != 409 {
		t.Fatalf("retract again: %v", err)
	}
	if _, err := c.RetractExperience(ctx, "no-such-lesson", ""); !errors.As(err, &re) || re.Status != 404 {
		t.Fatalf("retract an unknown record: %v", err)
	}
	if p, err := c.RetractEndorsement(ctx, self, pid, ""); err != nil || p.ID != "_endorse/"+self+"/"+pid {
		t.Fatalf("retract the endorsement: %+v %v", p, err)
	}
	if _, err := c.RetractEndorsement(ctx, self, pid, ""); !errors.As(err, &re) || re.Status != 409 {
		t.Fatalf("retract the endorsement again: %v", err)
	}
	if pe, err = c.PracticeExperiences(ctx, self, pid); err != nil || pe.Counts != (ExperienceCounts{Lessons: lessons - 1}) {
		t.Fatalf("after the retractions: %+v %v", pe.Counts, err)
	}
}
