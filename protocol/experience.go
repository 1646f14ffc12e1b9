package protocol

import (
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
)

// KindExperience publishes an experience record (Announcement.Experience,
// PROTOCOL.md section 13): what one publisher says about a practice, its
// own or another's. Any publisher may publish it, a plain publisher or an
// organisation through a delegate allowed the kind; every experience
// record is a v2 record (IsV1 is false).
const KindExperience Kind = "experience"

// ExperienceType says what an experience record is. A wire enum: values
// only grow.
type ExperienceType string

// The types of experience record (PROTOCOL.md 13.2).
const (
	// ExperienceAdaptation: "we replicated or adapted this practice":
	// where, when, what was changed and why, and the result.
	ExperienceAdaptation ExperienceType = "adaptation"
	// ExperienceLesson: lessons learned, or a review by a peer
	// organisation: what worked, what did not, for whom.
	ExperienceLesson ExperienceType = "lesson"
	// ExperienceQuestion: a question to the practice's publisher.
	ExperienceQuestion ExperienceType = "question"
	// ExperienceAnswer: an answer to a question or to another answer
	// (Experience.InReplyTo).
	ExperienceAnswer ExperienceType = "answer"
	// ExperienceEndorsement: a short, signed "we recommend this"; at most
	// one live per publisher and practice, by its slot.
	ExperienceEndorsement ExperienceType = "endorsement"
)

// ExperienceTypes lists the experience types, in the order of PROTOCOL.md.
var ExperienceTypes = []string{
	string(ExperienceAdaptation), string(ExperienceLesson), string(ExperienceQuestion),
	string(ExperienceAnswer), string(ExperienceEndorsement),
}

// Slot prefixes of experience records (PROTOCOL.md 13.3). Neither can
// begin a practice ID (which never contains '_'), ProfileSlot,
// OrgSlotPrefix or MembersSlotPrefix.
const (
	// ExperienceSlotPrefix starts the slot of an adaptation, lesson,
	// question or answer; the experience's ID follows.
	ExperienceSlotPrefix = "_exp/"
	// EndorsementSlotPrefix starts the slot of an endorsement; the
	// endorsed practice's publisher ID (base58btc), '/' and its practice
	// ID follow, so a publisher holds at most one live endorsement per
	// practice.
	EndorsementSlotPrefix = "_endorse/"
)

// Experience is the body of an experience record (kind experience). Which
// members a record may and must give depends on Type; Validate names every
// member given where its type does not allow it. Zero values mean "not
// given" (PROTOCOL.md 4.1: the empty value is the same as absent). The
// fields are in the canonical member order.
type Experience struct {
	// Type is what the record is, one of ExperienceTypes; required.
	Type ExperienceType `json:"type"`
	// ID names the record among the publisher's experiences (the practice
	// ID grammar); required, except in an endorsement, which has none.
	ID string `json:"id,omitempty"`
	// About is the practice the record is about; required.
	About About `json:"about"`
	// Language is the language tag of the record's texts; required.
	Language string `json:"language"`
	// Title is a line of at most MaxTitleLen characters: required in an
	// adaptation, a lesson and a question; optional in an answer; absent
	// in an endorsement.
	Title string `json:"title,omitempty"`
	// Text is at most MaxTextLen characters (MaxEndorsementTextLen in an
	// endorsement): required in a lesson, a question and an answer.
	Text string `json:"text,omitempty"`
	// InReplyTo is, in an answer only (where it is required), the
	// question or answer it replies to: its publisher and experience ID.
	InReplyTo Ref `json:"in_reply_to,omitzero"`

	// Country is where the practice was adapted (adaptation only,
	// required there).
	Country string `json:"country,omitempty"`
	// Region and City locate the adaptation (adaptation only).
	Region string `json:"region,omitempty"`
	City   string `json:"city,omitempty"`
	// StartYear is the year the adaptation began (adaptation only,
	// required there).
	StartYear int `json:"start_year,omitzero"`
	// EndYear and Ongoing follow the fact sheet's rules (adaptation only).
	EndYear int  `json:"end_year,omitzero"`
	Ongoing bool `json:"ongoing,omitzero"`
	// Changes says what was changed and why (adaptation only, required
	// there).
	Changes string `json:"changes,omitempty"`
	// Achievement (from Achievements), Evaluation (from Evaluations) and
	// Outcomes give the result (adaptation only).
	Achievement string `json:"achievement,omitempty"`
	Evaluation  string `json:"evaluation,omitempty"`
	Outcomes    string `json:"outcomes,omitempty"`
	// Practice is the adapter's own practice that resulted (adaptation
	// only, optional): a link between two practices.
	Practice Ref `json:"practice,omitzero"`

	// Worked, DidNotWork and ForWhom are a lesson's findings (lesson only).
	Worked     string `json:"worked,omitempty"`
	DidNotWork string `json:"did_not_work,omitempty"`
	ForWhom    string `json:"for_whom,omitempty"`

	// Translations maps language tags (other than Language) to the
	// record's title and text in that language; at most
	// MaxExperienceTranslations.
	Translations map[string]ExperienceTranslation `json:"translations,omitempty"`
}

// About names the practice an experience record is about, and optionally
// the version its author read.
type About struct {
	// Publisher is the practice's publisher: a key or an organisation.
	Publisher peer.ID `json:"publisher"`
	// ID is the practice's ID.
	ID string `json:"id"`
	// Seq is the sequence number of the version the author read,
	// 1..MaxSeq; 0 when not given.
	Seq uint64 `json:"seq,omitzero"`
}

// Ref names one record of a publisher by its ID: the experience an
// answer replies to (Experience.InReplyTo) or the practice an adaptation
// resulted in (Experience.Practice). The zero Ref is "not given".
type Ref struct {
	// Publisher is the record's publisher: a key or an organisation.
	Publisher peer.ID `json:"publisher"`
	// ID is the experience or practice ID.
	ID string `json:"id"`
}

// IsZero reports whether r is not given.
func (r Ref) IsZero() bool { return r == Ref{} }

// ExperienceTranslation is an experience record's title and text in
// another language. Title is required iff the record's type requires one
// (and absent in an endorsement).
type ExperienceTranslation struct {
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"`
}

// Slot returns the experience's slot: ExperienceSlotPrefix and its ID,
// or for an endorsement EndorsementSlot of the practice it is about.
func (e *Experience) Slot() string {
	if e.Type == ExperienceEndorsement {
		return EndorsementSlot(e.About.Publisher, e.About.ID)
	}
	return ExperienceSlot(e.ID)
}

// Subject returns what the record points at: the practice it is about
// (publisher and practice ID, which is the practice's slot) and, for an
// answer, the publisher and slot of the experience it replies to;
// replySlot is "" for every other type. The practice need not be held:
// a reader shows such a record as about a practice not held here (or a
// retracted one, when the slot holds a retraction).
func (e *Experience) Subject() (practice Ref, replyTo peer.ID, replySlot string) {
	practice = Ref{Publisher: e.About.Publisher, ID: e.About.ID}
	if e.Type == ExperienceAnswer && !e.InReplyTo.IsZero() {
		return practice, e.InReplyTo.Publisher, ExperienceSlot(e.InReplyTo.ID)
	}
	return practice, "", ""
}

// ExperienceSlot returns the slot of the adaptation, lesson, question or
// answer with this ID.
func ExperienceSlot(id string) string { return ExperienceSlotPrefix + id }

// EndorsementSlot returns the slot of an endorsement of the practice id
// of publisher pub.
func EndorsementSlot(pub peer.ID, id string) string {
	return EndorsementSlotPrefix + pub.String() + "/" + id
}

// IsExperienceSlot reports whether slot has the form of an experience
// record's slot (ExperienceSlotPrefix or EndorsementSlotPrefix), as a
// retraction's ID may: readers and quotas tell experience slots from
// practice slots with it.
func IsExperienceSlot(slot string) bool {
	return strings.HasPrefix(slot, ExperienceSlotPrefix) || strings.HasPrefix(slot, EndorsementSlotPrefix)
}

// ParseEndorsementSlot splits an endorsement's slot into the endorsed
// practice's publisher and ID. ok is false unless slot is exactly
// EndorsementSlot of a publisher ID (a key or an organisation, in its
// canonical text) and a practice ID.
func ParseEndorsementSlot(slot string) (pub peer.ID, id string, ok bool) {
	rest, found := strings.CutPrefix(slot, EndorsementSlotPrefix)
	if !found {
		return "", "", false
	}
	text, id, found := strings.Cut(rest, "/")
	if !found || !validID(id) {
		return "", "", false
	}
	pub, err := DecodeID(text)
	if err != nil || !(IsKey(pub) || IsOrg(pub)) || pub.String() != text {
		return "", "", false
	}
	return pub, id, true
}

// checkRetractID checks a retraction's id (PROTOCOL.md 4 and 13.3): a
// practice ID, or the slot of an experience record.
func checkRetractID(p *problems, path, id string) {
	switch {
	case strings.HasPrefix(id, ExperienceSlotPrefix):
		if !validID(id[len(ExperienceSlotPrefix):]) {
			p.add(path, "%q: an experience's slot is %s and its ID, 3-64 characters of a-z, 0-9 and '-'", truncate(id, 80), ExperienceSlotPrefix)
		}
	case strings.HasPrefix(id, EndorsementSlotPrefix):
		if _, _, ok := ParseEndorsementSlot(id); !ok {
			p.add(path, "%q: an endorsement's slot is %s, the practice's publisher ID, '/' and the practice ID", truncate(id, 140), EndorsementSlotPrefix)
		}
	default:
		checkID(p, path, id)
	}
}

// CompareExperiences orders experience records for display (PROTOCOL.md
// 13.5), the same on every replica: by time (the instant), then by
// publisher ID as sync orders them (ComparePublishers), then by slot. It
// returns -1, 0 or +1. Answers are threaded under the record their
// in_reply_to names by the reader (Experience.Subject), each level in
// this order.
func CompareExperiences(a, b *Signed) int {
	x, y := a.Announcement(), b.Announcement()
	if c := x.Time.Compare(y.Time); c != 0 {
		return c
	}
	if c := ComparePublishers(x.Publisher, y.Publisher); c != 0 {
		return c
	}
	return strings.Compare(a.Slot(), b.Slot())
}
