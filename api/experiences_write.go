package api

import (
	"crypto/rand"
	"net/http"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// The write routes of experience records: publish one, retract one of the
// node's own (an adaptation, lesson, question or answer by its ID, an
// endorsement by the practice it endorses). An organisation's node
// publishes and retracts as the organisation (node.PublishExperience,
// node.Retract).

// publishExperience serves POST /api/v1/experiences, as publish serves
// POST /api/v1/practices: the body is read once (protocol.ReadExperience
// checks its shape) and validated once, by Seal inside
// node.PublishExperience (or checkExperience for a dry run); the Draft's
// Explain gives the problems the file's field paths and lines.
func (a *apiHandler) publishExperience(w http.ResponseWriter, r *http.Request) {
	q, err := strictQuery(r.URL.RawQuery, "dry_run")
	if err == nil {
		err = onlyParams(q, "dry_run")
	}
	var dry bool
	if err == nil {
		dry, err = boolParam(q, "dry_run")
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	body, ok := readBody(w, r, protocol.MaxSheetFileSize, "experience record")
	if !ok {
		return
	}
	draft, err := protocol.ReadExperience(body)
	if err != nil {
		invalid(w, "experience record", err)
		return
	}
	if !draft.Shaped() {
		invalid(w, "experience record", draft.Explain(draft.Value.Validate()))
		return
	}
	e := draft.Value
	if dry {
		if err := a.checkExperience(e); err != nil {
			a.answerDraft(w, "check the experience record", "experience record", nil, draft.Explain(err))
			return
		}
		writeJSON(w, http.StatusOK, Published{Publisher: a.self().String(), ID: e.Slot(), DryRun: true})
		return
	}
	signed, err := a.n.PublishExperience(r.Context(), e)
	a.answerDraft(w, "publish", "experience record", signed, draft.Explain(err))
}

// checkExperience checks what node.PublishExperience would of e, the size
// limits of the signed form included, without storing: it seals e under
// the node's publisher ID (and, for an organisation, an auth of a hash's
// size) with a key made for the check, whose signature and ID take the
// same room as the node's.
func (a *apiHandler) checkExperience(e *protocol.Experience) error {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return err
	}
	ann := &protocol.Announcement{
		V: protocol.Version, Seq: protocol.MaxSeq, Time: a.n.Now().UTC(),
		Kind: protocol.KindExperience, Experience: e,
	}
	if org := a.n.Org(); org != "" {
		ann.Publisher, ann.Auth = org, protocol.Hash{1}
	}
	_, err = protocol.Seal(ann, key)
	return err
}

// retractExperience serves POST /api/v1/experiences/{id}/retract: the
// node's adaptation, lesson, question or answer with that ID.
func (a *apiHandler) retractExperience(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := practiceRef(a.n.ID().String(), id); err != nil {
		fail(w, http.StatusBadRequest, "id %s is not an experience ID: 3-64 characters of a-z, 0-9 and '-'", quoteShort(id))
		return
	}
	a.retractSlot(w, r, protocol.ExperienceSlot(id), "experience record "+quoteShort(id), isExperienceKind)
}

// retractEndorsement serves POST /api/v1/endorsements/{publisher}/{id}/
// retract: the node's endorsement of that practice.
func (a *apiHandler) retractEndorsement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	pub, err := practiceRef(r.PathValue("publisher"), id)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	a.retractSlot(w, r, protocol.EndorsementSlot(pub, id), "endorsement of "+pub.String()+"/"+id, isExperienceKind)
}

func isExperienceKind(k protocol.Kind) bool { return k == protocol.KindExperience }
