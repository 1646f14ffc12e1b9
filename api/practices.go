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

func (a *apiHandler) practices(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.RawQuery, a.self())
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var recs iter.Seq2[*store.Record, error]
	if q.id != "" {
		recs = a.slotOfEach(q)
	} else {
		opts := store.ListOptions{Publisher: q.publisher, Kinds: q.kinds}
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
	page := PracticeList{Practices: []Practice{}}
	names := map[peer.ID]string{} // organisation names, read once a page
	var last *store.Record
	for rec, err := range recs {
		if err != nil {
			a.internal(w, "list the catalogue", err)
			return
		}
		if len(page.Practices) == q.limit {
			page.Next = encodeCursor(last)
			break
		}
		p := practiceOf(rec)
		if pub := rec.Announcement().Publisher; protocol.IsOrg(pub) {
			name, ok := names[pub]
			if !ok {
				name = a.orgName(pub)
				names[pub] = name
			}
			p.Organisation = name
		}
		page.Practices = append(page.Practices, p)
		last = rec
	}
	writeJSON(w, http.StatusOK, page)
}

// slotOfEach yields every publisher's record of slot q.id, in publisher
// order (the order of List), keeping q's publisher, kinds and after.
func (a *apiHandler) slotOfEach(q listQuery) iter.Seq2[*store.Record, error] {
	return func(yield func(*store.Record, error) bool) {
		one := func(pub peer.ID) bool {
			if q.afterPub != "" && protocol.ComparePublishers(pub, q.afterPub) <= 0 {
				return true
			}
			rec, err := a.n.Store().Get(pub, q.id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return true
			case err != nil:
				return yield(nil, err)
			case !slices.Contains(q.kinds, rec.Announcement().Kind):
				return true
			}
			return yield(rec, nil)
		}
		if q.publisher != "" {
			one(q.publisher)
			return
		}
		for p, err := range a.n.Store().Publishers() {
			if err != nil {
				yield(nil, err)
				return
			}
			if !one(p.ID) {
				return
			}
		}
	}
}

func practiceOf(rec *store.Record) Practice {
	ann := rec.Announcement()
	p := Practice{
		Publisher: ann.Publisher.String(), ID: ann.Slot(), Seq: ann.Seq, Kind: ann.Kind, Signer: rec.Signed.Signer().String(),
		Time: ann.Time.UTC(), ReceivedAt: rec.ReceivedAt.UTC(), From: rec.From,
	}
	if s := ann.Practice; s != nil {
		p.Title, p.Country, p.Organiser = s.Title, s.Country, s.Organiser
	}
	return p
}

func (a *apiHandler) record(w http.ResponseWriter, r *http.Request) {
	pub, err := protocol.DecodeID(r.PathValue("publisher"))
	if err != nil {
		fail(w, http.StatusBadRequest, "publisher %s is not a peer ID", quoteShort(r.PathValue("publisher")))
		return
	}
	rec, err := a.n.Store().Get(pub, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no practice %s of publisher %s is known here", quoteShort(r.PathValue("id")), pub)
		return
	}
	if err != nil {
		a.internal(w, "read a record", err)
		return
	}
	out := Record{Listing: practiceOf(rec), Hash: rec.Signed.Hash().String(), Envelope: rec.Signed.Envelope()}
	out.Organisation = a.orgName(pub)
	// Verify the stored bytes as if they came from the network, and show
	// the content of the verified copy.
	ann := rec.Announcement()
	if opened, err := protocol.Open(rec.Signed.Envelope()); err != nil || opened.Hash() != rec.Signed.Hash() {
		a.n.Logger().Warn("A stored announcement does not verify.", "publisher", pub, "slot", ann.Slot(), "err", err)
	} else {
		out.SignatureVerified, ann = true, opened.Announcement()
	}
	out.Practice, out.Retraction, out.Profile = ann.Practice, ann.Retract, ann.Profile
	if ann.Kind == protocol.KindPractice || ann.Kind == protocol.KindRetract {
		if out.ExperienceCounts, err = a.experienceCounts(pub, r.PathValue("id")); err != nil {
			a.internal(w, "count the experience records", err)
			return
		}
	}
	if out.Profile == nil {
		if _, out.Profile, err = a.profileOf(pub); err != nil {
			a.internal(w, "read a profile", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// profileOf returns pub's profile record and profile, or nils when the
// store holds none.
func (a *apiHandler) profileOf(pub peer.ID) (*store.Record, *protocol.Profile, error) {
	rec, err := a.n.Store().Get(pub, protocol.ProfileSlot)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if ann := rec.Announcement(); ann.Kind == protocol.KindProfile && ann.Profile != nil {
		return rec, ann.Profile, nil
	}
	return nil, nil, nil
}

// organisation returns the name in pub's profile, or "" (a store error is
// logged: the name only decorates an answer).
func (a *apiHandler) organisation(pub peer.ID) string {
	_, p, err := a.profileOf(pub)
	if err != nil {
		a.n.Logger().Warn("Cannot read a publisher's profile.", "publisher", pub, "err", err)
	}
	if p == nil {
		return a.orgName(pub)
	}
	return p.Name
}
