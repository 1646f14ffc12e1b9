package export

import (
	"errors"
	"fmt"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The adaptation graph (AdaptationsCSV, GraphML) has one edge per live
// adaptation record (PROTOCOL.md 13.2): from the practice adapted (the
// record's about) to the practice that resulted (its practice member)
// or, when it names none, to a node that stands for the adaptation
// itself, where and by whom it was made. Node IDs are the same in both
// formats, so a CSV edge list and a GraphML file of one catalogue agree:
//
//	practice.<publisher ID>.<practice id>     a practice, held here or not
//	adaptation.<publisher ID>.<experience id> an adaptation that names no
//	                                          resulting practice; the
//	                                          publisher is its author
//
// Publisher IDs are base58btc and practice and experience IDs hold only
// a-z, 0-9 and '-', so an ID never holds a second '.', and each is a
// valid XML NCName (GraphML's node IDs are XML tokens).

// The status of a practice the graph names, in the status column and
// attribute.
const (
	// StatusHeld: this replica holds the practice's current version.
	StatusHeld = "held"
	// StatusRetracted: its publisher retracted it (the slot holds a
	// tombstone).
	StatusRetracted = "retracted"
	// StatusNotHeld: this replica never received it, or does not keep
	// its publisher.
	StatusNotHeld = "not_held"
)

// practiceRef is a practice the graph names: an original, or a practice
// that resulted from an adaptation.
type practiceRef struct {
	pub    peer.ID
	id     string
	status string
	sheet  *protocol.FactSheet // nil unless held
}

// adaptation is one live adaptation record and the practices it links.
type adaptation struct {
	rec  *store.Record
	a    *protocol.Announcement
	e    *protocol.Experience
	from practiceRef
	to   *practiceRef // the resulting practice; nil when the record names none
}

// practiceNode is the node ID of a practice.
func practiceNode(pub peer.ID, id string) string { return "practice." + pub.String() + "." + id }

// adaptationNode is the node ID of an adaptation that names no resulting
// practice.
func adaptationNode(pub peer.ID, id string) string { return "adaptation." + pub.String() + "." + id }

// source is the node ID of the edge's source: the practice adapted.
func (ad *adaptation) source() string { return practiceNode(ad.from.pub, ad.from.id) }

// target is the node ID of the edge's target: the resulting practice, or
// the adaptation's own node.
func (ad *adaptation) target() string {
	if ad.to != nil {
		return practiceNode(ad.to.pub, ad.to.id)
	}
	return adaptationNode(ad.a.Publisher, ad.e.ID)
}

// edgeID is the ID of the adaptation's edge.
func (ad *adaptation) edgeID() string { return "edge." + ad.a.Publisher.String() + "." + ad.e.ID }

// eachAdaptation calls fn for every live adaptation record of recs, in
// order, with the practices it names looked up through opts.Practices,
// and returns how many calls succeeded. Records of any other kind or
// type are skipped. It stops at the first error: from recs (returned as
// is), a look-up or fn.
func eachAdaptation(recs Source, opts *Options, fn func(*adaptation) error) (int, error) {
	n := 0
	for rec, err := range recs {
		if err != nil {
			return n, err
		}
		if rec == nil || rec.Signed == nil {
			continue
		}
		a := rec.Announcement()
		e := a.Experience
		if a.Kind != protocol.KindExperience || e == nil || e.Type != protocol.ExperienceAdaptation {
			continue
		}
		ad := &adaptation{rec: rec, a: a, e: e}
		if ad.from, err = lookupPractice(opts, e.About.Publisher, e.About.ID); err != nil {
			return n, err
		}
		if !e.Practice.IsZero() {
			to, err := lookupPractice(opts, e.Practice.Publisher, e.Practice.ID)
			if err != nil {
				return n, err
			}
			ad.to = &to
		}
		if err := fn(ad); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// lookupPractice returns what this replica holds of the practice id of
// pub.
func lookupPractice(opts *Options, pub peer.ID, id string) (practiceRef, error) {
	ref := practiceRef{pub: pub, id: id, status: StatusNotHeld}
	if opts.Practices == nil {
		return ref, nil
	}
	rec, err := opts.Practices(pub, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ref, nil
	case err != nil:
		return ref, fmt.Errorf("look up practice %s/%s: %w", pub, id, err)
	}
	switch a := rec.Announcement(); {
	case a.Kind == protocol.KindPractice && a.Practice != nil:
		ref.status, ref.sheet = StatusHeld, a.Practice
	case a.Kind == protocol.KindRetract:
		ref.status = StatusRetracted
	}
	return ref, nil
}

// title, country, region and city of a practice the graph names; "" when
// it is not held.
func (r *practiceRef) title() string {
	if r.sheet == nil {
		return ""
	}
	return r.sheet.Title
}

func (r *practiceRef) country() string {
	if r.sheet == nil {
		return ""
	}
	return r.sheet.Country
}

func (r *practiceRef) region() string {
	if r.sheet == nil {
		return ""
	}
	return r.sheet.Region
}

func (r *practiceRef) city() string {
	if r.sheet == nil {
		return ""
	}
	return r.sheet.City
}

// ongoing renders an adaptation's ongoing member as the fact sheet's
// CSV does: true, false when it gives an end year, else empty.
func ongoing(e *protocol.Experience) string {
	switch {
	case e.Ongoing:
		return "true"
	case e.EndYear != 0:
		return "false"
	}
	return ""
}
