package api

import (
	"errors"
	"iter"
	"net/http"
	"slices"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The read routes of experience records (PROTOCOL.md 13): a listing of
// the records held, and the records about one practice.

// experienceReader turns the store's experience records into API
// Experiences for one request, reading each author's name and each
// practice's state once.
type experienceReader struct {
	a      *apiHandler
	names  map[peer.ID]string
	states map[protocol.Ref]string
}

func (a *apiHandler) experienceReader() *experienceReader {
	return &experienceReader{a: a, names: map[peer.ID]string{}, states: map[protocol.Ref]string{}}
}

// state returns the state here of the practice (pub, id): AboutHeld,
// AboutRetracted or AboutNotHeld.
func (er *experienceReader) state(pub peer.ID, id string) (string, error) {
	ref := protocol.Ref{Publisher: pub, ID: id}
	if s, ok := er.states[ref]; ok {
		return s, nil
	}
	s := AboutNotHeld
	rec, err := er.a.n.Store().Get(pub, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", err
	case rec.Announcement().Kind == protocol.KindPractice:
		s = AboutHeld
	case rec.Announcement().Kind == protocol.KindRetract:
		s = AboutRetracted
	}
	er.states[ref] = s
	return s, nil
}

// name returns the author name of pub, read once a request.
func (er *experienceReader) name(pub peer.ID) string {
	n, ok := er.names[pub]
	if !ok {
		n = er.a.organisation(pub)
		er.names[pub] = n
	}
	return n
}

// experience returns the API form of rec, an experience record.
func (er *experienceReader) experience(rec *store.Record) (Experience, error) {
	ann := rec.Announcement()
	e := ann.Experience
	st, err := er.state(e.About.Publisher, e.About.ID)
	if err != nil {
		return Experience{}, err
	}
	return Experience{
		Publisher: ann.Publisher.String(), Slot: ann.Slot(), Seq: ann.Seq, Time: ann.Time.UTC(),
		Signer: rec.Signed.Signer().String(), AuthorName: er.name(ann.Publisher),
		AboutState: st, Experience: e,
	}, nil
}

// isExperience reports whether rec holds an experience record (and not
// the retraction of one).
func isExperience(rec *store.Record) bool {
	ann := rec.Announcement()
	return ann.Kind == protocol.KindExperience && ann.Experience != nil
}

func (a *apiHandler) experiences(w http.ResponseWriter, r *http.Request) {
	q, err := parseExperienceQuery(r.URL.RawQuery, a.self())
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var recs iter.Seq2[*store.Record, error]
	if q.about != "" {
		recs = a.n.Store().Experiences(q.about, q.aboutID)
	} else {
		opts := store.ListOptions{Publisher: q.author, Kinds: []protocol.Kind{protocol.KindExperience}}
		if q.afterPub != "" {
			switch rec, err := a.n.Store().Get(q.afterPub, q.afterSlot); {
			case errors.Is(err, store.ErrNotFound):
				fail(w, http.StatusBadRequest, "after names a record this node does not hold; start again without after")
				return
			case err != nil:
				a.internal(w, "read a record", err)
				return
			default:
				opts.After = store.Cursor(rec)
			}
		}
		recs = a.n.Store().List(opts)
	}
	er := a.experienceReader()
	page := ExperienceList{Experiences: []Experience{}}
	var last *store.Record
	for rec, err := range recs {
		if err != nil {
			a.internal(w, "list the experience records", err)
			return
		}
		ann := rec.Announcement()
		if !isExperience(rec) || !afterCursor(ann.Publisher, ann.Slot(), q.afterPub, q.afterSlot) ||
			(q.author != "" && ann.Publisher != q.author) || (q.typ != "" && ann.Experience.Type != q.typ) {
			continue
		}
		if len(page.Experiences) == q.limit {
			page.Next = encodeCursor(last)
			break
		}
		e, err := er.experience(rec)
		if err != nil {
			a.internal(w, "read a practice's state", err)
			return
		}
		page.Experiences = append(page.Experiences, e)
		last = rec
	}
	writeJSON(w, http.StatusOK, page)
}

func (a *apiHandler) practiceExperiences(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	pub, err := practiceRef(r.PathValue("publisher"), id)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	er := a.experienceReader()
	out := PracticeExperiences{About: PracticeRef{Publisher: pub.String(), ID: id}, Experiences: []Experience{}, AdaptedIn: []Adaptation{}}
	if out.State, err = er.state(pub, id); err != nil {
		a.internal(w, "read the practice", err)
		return
	}
	var recs []*store.Record
	for rec, err := range a.n.Store().Experiences(pub, id) {
		if err != nil {
			a.internal(w, "read the experience records", err)
			return
		}
		if isExperience(rec) {
			recs = append(recs, rec)
		}
	}
	slices.SortStableFunc(recs, func(x, y *store.Record) int { return protocol.CompareExperiences(x.Signed, y.Signed) })
	for _, rec := range recs {
		e, err := er.experience(rec)
		if err != nil {
			a.internal(w, "read the practice", err)
			return
		}
		out.Experiences = append(out.Experiences, e)
		out.Counts.add(e.Experience.Type)
		if ex := e.Experience; ex.Type == protocol.ExperienceAdaptation {
			ad := Adaptation{
				Country: ex.Country, Region: ex.Region, City: ex.City, StartYear: ex.StartYear,
				Author: e.Publisher, AuthorName: e.AuthorName, ID: ex.ID,
			}
			if !ex.Practice.IsZero() {
				ad.Practice = &PracticeRef{Publisher: ex.Practice.Publisher.String(), ID: ex.Practice.ID}
			}
			out.AdaptedIn = append(out.AdaptedIn, ad)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// add counts one record of type t.
func (c *ExperienceCounts) add(t protocol.ExperienceType) {
	switch t {
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
}

// experienceCounts returns the counts of the experience records about the
// practice (pub, id), for Record.
func (a *apiHandler) experienceCounts(pub peer.ID, id string) (*ExperienceCounts, error) {
	c, err := a.n.Store().ExperienceCounts(pub, id)
	if err != nil {
		return nil, err
	}
	out := countsOf(c)
	return &out, nil
}
