package api

import (
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// The JSON bodies of the experience routes (PROTOCOL.md 13; API.md,
// "Experiences").

// The states of the practice an experience record is about, as
// Experience.AboutState and PracticeExperiences.State give them.
const (
	// AboutHeld: this node holds the practice.
	AboutHeld = "held"
	// AboutRetracted: this node holds the practice's retraction.
	AboutRetracted = "retracted"
	// AboutNotHeld: this node holds nothing in the practice's slot (it
	// may arrive later, or its publisher is not kept here).
	AboutNotHeld = "not_held"
)

// Experience is one experience record as the API shows it: the current
// state of one experience slot of its author.
type Experience struct {
	// Publisher is the record's author: a key or an organisation ID.
	Publisher string `json:"publisher"`
	// Slot is the record's slot ("_exp/<id>", or for an endorsement
	// "_endorse/<publisher>/<practice id>").
	Slot string `json:"slot"`
	Seq  uint64 `json:"seq"`
	// Time is the signed announcement time.
	Time time.Time `json:"time"`
	// Signer is the key that signed the record: the author itself for a
	// plain publisher, a delegate's key for an organisation.
	Signer string `json:"signer"`
	// AuthorName is the name in the author's profile (or, without one,
	// at the head of its organisation's chain); absent when unknown here.
	AuthorName string `json:"author_name,omitempty"`
	// AboutState is the state here of the practice the record is about:
	// AboutHeld, AboutRetracted or AboutNotHeld.
	AboutState string `json:"about_state"`
	// Experience is the record's body, as signed.
	Experience *protocol.Experience `json:"experience"`
}

// ExperienceList is the body of GET /api/v1/experiences: one page.
type ExperienceList struct {
	Experiences []Experience `json:"experiences"`
	// Next, when not empty, is the after= value of the next page.
	Next string `json:"next"`
}

// ExperienceCounts counts the live experience records about one practice,
// by type.
type ExperienceCounts struct {
	Adaptations  uint64 `json:"adaptations"`
	Lessons      uint64 `json:"lessons"`
	Questions    uint64 `json:"questions"`
	Answers      uint64 `json:"answers"`
	Endorsements uint64 `json:"endorsements"`
}

// Total is the number of records counted.
func (c ExperienceCounts) Total() uint64 {
	return c.Adaptations + c.Lessons + c.Questions + c.Answers + c.Endorsements
}

func countsOf(c store.ExperienceCounts) ExperienceCounts {
	return ExperienceCounts{
		Adaptations: c.Adaptations, Lessons: c.Lessons, Questions: c.Questions,
		Answers: c.Answers, Endorsements: c.Endorsements,
	}
}

// PracticeRef names a practice: its publisher and its ID.
type PracticeRef struct {
	Publisher string `json:"publisher"`
	ID        string `json:"id"`
}

// PracticeExperiences is the body of GET
// /api/v1/practices/{publisher}/{id}/experiences: the experience records
// about one practice held here, whether or not the practice is.
type PracticeExperiences struct {
	About PracticeRef `json:"about"`
	// State is the practice's state here: AboutHeld, AboutRetracted or
	// AboutNotHeld.
	State  string           `json:"state"`
	Counts ExperienceCounts `json:"counts"`
	// Experiences are in the display order of PROTOCOL.md 13.4
	// (protocol.CompareExperiences), answers among them: each carries its
	// in_reply_to, so a reader threads them.
	Experiences []Experience `json:"experiences"`
	// AdaptedIn lists the adaptations among Experiences, in their order.
	AdaptedIn []Adaptation `json:"adapted_in"`
}

// Adaptation is where a practice was adapted: one adaptation record.
type Adaptation struct {
	Country   string `json:"country"`
	Region    string `json:"region,omitempty"`
	City      string `json:"city,omitempty"`
	StartYear int    `json:"start_year"`
	// Author is the adaptation's publisher, AuthorName its name if known
	// here; ID the adaptation's experience ID.
	Author     string `json:"author"`
	AuthorName string `json:"author_name,omitempty"`
	ID         string `json:"id"`
	// Practice is the adapter's own practice that resulted, if it names
	// one.
	Practice *PracticeRef `json:"practice,omitempty"`
}
