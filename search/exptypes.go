package search

import (
	"time"
)

// The kinds of document a Query selects (Query.Kind).
const (
	// KindPractice selects practices (the default): Result.Hits.
	KindPractice = "practice"
	// KindExperience selects experience records: Result.Experiences.
	KindExperience = "experience"
)

// Where the practice an experience record is about stands on this node
// (ExperienceHit.AboutState, PROTOCOL.md 13.4).
const (
	// AboutHeld: the node holds the practice.
	AboutHeld = "held"
	// AboutRetracted: the practice's slot holds a retraction.
	AboutRetracted = "retracted"
	// AboutNotHeld: the node holds nothing of the practice (it may arrive
	// later, or belong to a publisher this node does not keep).
	AboutNotHeld = "not_held"
)

// aboutStates are the values of ExperienceHit.AboutState.
var aboutStates = []string{AboutHeld, AboutRetracted, AboutNotHeld}

// ExperienceCounts counts the live experience records about a practice,
// by type.
type ExperienceCounts struct {
	Adaptations  int `json:"adaptations"`
	Lessons      int `json:"lessons"`
	Questions    int `json:"questions"`
	Answers      int `json:"answers"`
	Endorsements int `json:"endorsements"`
}

// Total is the number of records counted.
func (c ExperienceCounts) Total() int {
	return c.Adaptations + c.Lessons + c.Questions + c.Answers + c.Endorsements
}

// ExperienceRef names an experience record that matched a text query, in
// a practice's Hit (Hit.MatchedExperiences).
type ExperienceRef struct {
	// Publisher is the record's author; Slot its slot (PROTOCOL.md 13.3).
	Publisher string `json:"publisher"`
	Slot      string `json:"slot"`
	// Type is the record's type; Title its title ("" for an endorsement,
	// and for an answer without one).
	Type  string `json:"type"`
	Title string `json:"title,omitempty"`
}

// PracticeRef names a practice by its publisher and ID.
type PracticeRef struct {
	Publisher string `json:"publisher"`
	ID        string `json:"id"`
}

// ExperienceHit is one experience record found (Query.Kind
// KindExperience).
type ExperienceHit struct {
	// Publisher is the record's author; Slot its slot; ID its experience
	// ID ("" for an endorsement).
	Publisher string    `json:"publisher"`
	Slot      string    `json:"slot"`
	ID        string    `json:"id,omitempty"`
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Score     float64   `json:"score"`
	// Type is one of protocol.ExperienceTypes.
	Type string `json:"type"`
	// Language is the record's; Languages it and its translations'.
	Language  string   `json:"language"`
	Languages []string `json:"languages"`
	// Title is the record's title, when it has one; Excerpt the start of
	// its text (or, in an adaptation without text, of its changes), at
	// most excerptLen characters.
	Title   string `json:"title,omitempty"`
	Excerpt string `json:"excerpt,omitempty"`
	// About is the practice the record is about; AboutState whether this
	// node holds it: AboutHeld, AboutRetracted or AboutNotHeld.
	About      PracticeRef `json:"about"`
	AboutState string      `json:"about_state"`
	// InReplyTo is, for an answer, the record it replies to: its
	// publisher and experience ID.
	InReplyTo *PracticeRef `json:"in_reply_to,omitempty"`
	// Country, City and StartYear are an adaptation's.
	Country   string `json:"country,omitempty"`
	City      string `json:"city,omitempty"`
	StartYear int    `json:"start_year,omitempty"`
}

// Flow counts the adaptations from one country to another
// (Stats.Flows): of the practices of country From, the live adaptations
// in country To.
type Flow struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Adaptations counts the adaptations; Practices the practices adapted.
	Adaptations int `json:"adaptations"`
	Practices   int `json:"practices"`
}
