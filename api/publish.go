package api

import (
	"errors"
	"net/http"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// publish serves POST /api/v1/practices. The body is parsed once, here
// (protocol.ReadSheet checks its shape), and validated once, by Seal inside
// node.Publish (or node.CheckPractice for a dry run): the Draft's Explain
// turns Seal's problems back into the sheet's field paths and source
// lines. Only a sheet of the wrong shape is validated here, so that the
// answer still lists every problem at once; it never reaches Seal. (The
// CLI checks the file in its own process first: see cmd/khantara.)
func (a *apiHandler) publish(w http.ResponseWriter, r *http.Request) {
	q, err := strictQuery(r.URL.RawQuery, "dry_run")
	if err == nil {
		err = onlyParams(q, "dry_run")
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	dry, err := boolParam(q, "dry_run")
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	body, ok := readBody(w, r, protocol.MaxSheetFileSize, "fact sheet")
	if !ok {
		return
	}
	draft, err := protocol.ReadSheet(body)
	if err != nil {
		invalid(w, "fact sheet", err)
		return
	}
	if !draft.Shaped() {
		invalid(w, "fact sheet", draft.Explain(draft.Value.Validate()))
		return
	}
	sheet := draft.Value
	if dry {
		// Checks what Publish would, the size limits of the signed form
		// included, without storing.
		if err := a.n.CheckPractice(sheet); err != nil {
			a.answerDraft(w, "check the fact sheet", "fact sheet", nil, draft.Explain(err))
			return
		}
		writeJSON(w, http.StatusOK, Published{Publisher: a.self().String(), ID: sheet.ID, DryRun: true})
		return
	}
	signed, err := a.n.Publish(r.Context(), sheet)
	a.answerDraft(w, "publish", "fact sheet", signed, draft.Explain(err))
}

// answerDraft is answer for the announcement of a document the request
// carried: a validation error is about that document, named what.
func (a *apiHandler) answerDraft(w http.ResponseWriter, doing, what string, s *protocol.Signed, err error) {
	var ve *protocol.ValidationError
	if errors.As(err, &ve) {
		invalid(w, what, err)
		return
	}
	a.answer(w, doing, s, err)
}

func (a *apiHandler) retract(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if protocol.IsExperienceSlot(id) {
		// Experience slots have their own routes (experiences_write.go).
		fail(w, http.StatusNotFound, "this node has published no practice %s", quoteShort(id))
		return
	}
	a.retractSlot(w, r, id, "practice "+quoteShort(id), func(k protocol.Kind) bool { return k == protocol.KindPractice })
}

// retractSlot retracts the node's own slot, what names it in answers and
// live reports whether a record of that kind in the slot is what the
// route retracts: 404 when the slot holds no such record (or nothing),
// 409 when it holds a retraction. The body is an optional {"reason"}.
func (a *apiHandler) retractSlot(w http.ResponseWriter, r *http.Request, slot, what string, live func(protocol.Kind) bool) {
	body, ok := readBody(w, r, maxRetractBody, "request body")
	if !ok {
		return
	}
	// Decoded from the raw bytes: encoding/json would turn invalid UTF-8
	// into U+FFFD, which would then be signed.
	reason, err := protocol.ParseRetractReason(body)
	if errors.Is(err, protocol.ErrInvalid) {
		invalid(w, "retraction", err)
		return
	} else if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	a.retractMu.Lock()
	defer a.retractMu.Unlock()
	rec, err := a.n.Store().Get(a.self(), slot)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && rec.Announcement().Kind != protocol.KindRetract && !live(rec.Announcement().Kind):
		fail(w, http.StatusNotFound, "this node has published no %s", what)
		return
	case err != nil:
		a.internal(w, "read a record", err)
		return
	case rec.Announcement().Kind == protocol.KindRetract:
		fail(w, http.StatusConflict, "%s is already retracted (sequence %d); publish it again to bring it back", what, rec.Announcement().Seq)
		return
	}
	signed, err := a.n.Retract(r.Context(), slot, reason)
	a.answer(w, "retract", signed, err)
}

func (a *apiHandler) profile(w http.ResponseWriter, r *http.Request) {
	q, err := strictQuery(r.URL.RawQuery, "publisher")
	if err == nil {
		err = onlyParams(q, "publisher")
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	pub := a.self()
	if s := q.Get("publisher"); s != "" {
		p, err := protocol.DecodeID(s)
		if err != nil {
			fail(w, http.StatusBadRequest, "publisher %s is not a peer ID; give one as printed by khantara status or peers", quoteShort(s))
			return
		}
		pub = p
	}
	rec, prof, err := a.profileOf(pub)
	switch {
	case err != nil:
		a.internal(w, "read a profile", err)
	case prof == nil && pub == a.self():
		fail(w, http.StatusNotFound, "this node has no profile yet; set one with PUT /api/v1/profile")
	case prof == nil:
		fail(w, http.StatusNotFound, "no profile of publisher %s is known here", pub)
	default:
		writeJSON(w, http.StatusOK, Profile{Publisher: pub.String(), Seq: rec.Announcement().Seq, Profile: *prof})
	}
}

func (a *apiHandler) setProfile(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, protocol.MaxSheetFileSize, "profile")
	if !ok {
		return
	}
	draft, err := protocol.ReadProfile(body)
	if err != nil {
		invalid(w, "profile", err)
		return
	}
	if !draft.Shaped() {
		invalid(w, "profile", draft.Explain(draft.Value.Validate()))
		return
	}
	signed, err := a.n.SetProfile(r.Context(), draft.Value)
	a.answerDraft(w, "set the profile", "profile", signed, draft.Explain(err))
}

// answer writes the outcome of an own announcement.
func (a *apiHandler) answer(w http.ResponseWriter, what string, s *protocol.Signed, err error) {
	switch {
	case errors.Is(err, protocol.ErrInvalid), errors.Is(err, protocol.ErrTooLarge):
		invalid(w, "announcement", err)
	case errors.Is(err, node.ErrClosed):
		fail(w, http.StatusServiceUnavailable, "the node is shutting down")
	case errors.Is(err, node.ErrNotDelegated):
		fail(w, http.StatusConflict, "%s refused: %v", what, err)
	case err != nil:
		a.internal(w, what, err)
	default:
		ann := s.Announcement()
		writeJSON(w, http.StatusOK, Published{Publisher: ann.Publisher.String(), ID: ann.Slot(), Seq: ann.Seq, Hash: s.Hash().String()})
	}
}
