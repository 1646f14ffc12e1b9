package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The routes of organisations: GET /api/v1/orgs and /api/v1/orgs/{org},
// PUT /api/v1/org, POST /api/v1/org/adopt, POST /api/v1/records and POST
// /api/v1/members.

// maxSettingBody bounds the JSON body of PUT /api/v1/org and /trust.
const maxSettingBody = 256 << 10

// self is the node's own publisher: its organisation when it publishes
// for one, else its key.
func (a *apiHandler) self() peer.ID {
	if org := a.n.Org(); org != "" {
		return org
	}
	return a.n.ID()
}

// orgName returns the name at the head of org's chain, "" when unknown
// (a store error is logged: the name only decorates an answer).
func (a *apiHandler) orgName(org peer.ID) string {
	if !protocol.IsOrg(org) {
		return ""
	}
	c, err := a.n.Chain(org)
	if err != nil {
		a.n.Logger().Warn("Cannot read an organisation's chain.", "org", org, "err", err)
		return ""
	}
	return c.Name()
}

func (a *apiHandler) orgs(w http.ResponseWriter, _ *http.Request) {
	out := []OrgSummary{}
	for p, err := range a.n.Store().Publishers() {
		if err != nil {
			a.internal(w, "list the organisations", err)
			return
		}
		if !protocol.IsOrg(p.ID) {
			break // organisation IDs sort before key IDs
		}
		out = append(out, OrgSummary{ID: p.ID.String(), Name: a.orgName(p.ID), Practices: p.Practices, Ops: p.OrgOps})
	}
	writeJSON(w, http.StatusOK, out)
}

// pathOrg parses the {org} of a path, answering the request when it is
// not an organisation ID.
func pathOrg(w http.ResponseWriter, r *http.Request) (peer.ID, bool) {
	s := r.PathValue("org")
	id, err := protocol.DecodeID(s)
	if err != nil || !protocol.IsOrg(id) {
		fail(w, http.StatusBadRequest, "%s is not an organisation ID; give one as printed by khantara org show or GET /api/v1/orgs", quoteShort(s))
		return "", false
	}
	return id, true
}

func (a *apiHandler) org(w http.ResponseWriter, r *http.Request) {
	id, ok := pathOrg(w, r)
	if !ok {
		return
	}
	c, err := a.n.Chain(id)
	if err != nil {
		a.internal(w, "read an organisation's chain", err)
		return
	}
	if !c.Known() {
		fail(w, http.StatusNotFound, "this node holds no genesis of organisation %s", id)
		return
	}
	o, err := a.organisationOf(c)
	if err != nil {
		a.internal(w, "read an organisation", err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// organisationOf builds the answer of GET /api/v1/orgs/{org} from a known
// chain and the store.
func (a *apiHandler) organisationOf(c *protocol.Chain) (Organisation, error) {
	head := c.Head()
	o := Organisation{ID: c.Org().String(), Name: c.Name(), Keys: idStrings(c.Keys()),
		Delegations: []Delegation{}, Revocations: []Revocation{}, Forks: []OrgOp{},
		Equivocations: []OrgEquivocation{}, Lists: []MemberList{}, MemberOf: []ListRef{},
		Head: head.Hash().String(), HeadSeq: head.Announcement().Seq, HeadEnvelope: head.Envelope()}
	if ad := c.Adopts(); ad != "" {
		o.Adopts = ad.String()
	}
	maxBy, err := a.maxSeqBySigner(c.Org())
	if err != nil {
		return o, err
	}
	for _, d := range c.Delegates() {
		x := Delegation{Key: d.Key.String(), May: d.May, MaxSeq: maxBy[d.Key]}
		if !d.Until.IsZero() {
			u := d.Until.UTC()
			x.Until = &u
		}
		o.Delegations = append(o.Delegations, x)
	}
	for _, r := range c.Revocations() {
		o.Revocations = append(o.Revocations, Revocation{Key: r.Key.String(), May: r.May, From: r.From.UTC(), Through: r.Through})
	}
	ops := c.Ops()
	o.Ops = len(ops)
	for _, op := range ops {
		if op.State != protocol.OpCanonical {
			o.Forks = append(o.Forks, OrgOp{Hash: op.Op.Hash().String(), Seq: op.Op.Announcement().Seq,
				Signer: op.Op.Signer().String(), State: op.State.String()})
		}
	}
	for _, e := range c.Equivocations() {
		o.Equivocations = append(o.Equivocations, orgEquivocation(e))
	}
	switch sum, err := a.n.Store().PublisherSummary(c.Org()); {
	case err == nil:
		o.MaxSeq = sum.MaxSeenSeq
	case !errors.Is(err, store.ErrNotFound):
		return o, err
	}
	if o.Lists, err = a.listsOf(c.Org()); err != nil {
		return o, err
	}
	o.MemberOf, err = a.listsNaming(c.Org())
	return o, err
}

// maxSeqBySigner returns, for each key that signed one of org's state
// records held here, the highest sequence number among them.
func (a *apiHandler) maxSeqBySigner(org peer.ID) (map[peer.ID]uint64, error) {
	m := map[peer.ID]uint64{}
	for rec, err := range a.n.Store().List(store.ListOptions{Publisher: org}) {
		if err != nil {
			return nil, err
		}
		if s := rec.Signed.Signer(); rec.Announcement().Seq > m[s] {
			m[s] = rec.Announcement().Seq
		}
	}
	return m, nil
}

// listsOf returns the membership lists org publishes, held here.
func (a *apiHandler) listsOf(org peer.ID) ([]MemberList, error) {
	out := []MemberList{}
	name := a.orgName(org)
	for rec, err := range a.n.Store().List(store.ListOptions{Publisher: org, Kinds: []protocol.Kind{protocol.KindMembers}}) {
		if err != nil {
			return nil, err
		}
		ann := rec.Announcement()
		if ann.Members == nil {
			continue
		}
		l := MemberList{Publisher: org.String(), PublisherName: name, List: ann.Members.List, Title: ann.Members.Title,
			Seq: ann.Seq, Signer: rec.Signed.Signer().String(), Members: make([]Member, len(ann.Members.Members))}
		for i, m := range ann.Members.Members {
			l.Members[i] = Member{ID: m.ID.String(), Name: m.Name}
		}
		out = append(out, l)
	}
	return out, nil
}

// listsNaming returns the membership lists held here that name pub.
func (a *apiHandler) listsNaming(pub peer.ID) ([]ListRef, error) {
	out := []ListRef{}
	for rec, err := range a.n.Store().List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindMembers}}) {
		if err != nil {
			return nil, err
		}
		ann := rec.Announcement()
		if ann.Members == nil || !slices.ContainsFunc(ann.Members.Members, func(m protocol.Member) bool { return m.ID == pub }) {
			continue
		}
		out = append(out, ListRef{Publisher: ann.Publisher.String(), PublisherName: a.orgName(ann.Publisher),
			List: ann.Members.List, Title: ann.Members.Title})
	}
	return out, nil
}

func orgEquivocation(e protocol.OrgEquivocation) OrgEquivocation {
	x := OrgEquivocation{Prev: e.Prev.String(), Signer: e.Signer.String()}
	for _, h := range e.Ops {
		x.Hashes = append(x.Hashes, h.String())
	}
	return x
}

func idStrings(ids []peer.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// setOrg serves PUT /api/v1/org: the node publishes for this organisation
// from now on (node.SetOrg). The config file is the CLI's to edit.
func (a *apiHandler) setOrg(w http.ResponseWriter, r *http.Request) {
	var in OrgSetting
	if !readJSON(w, r, "organisation setting", &in) {
		return
	}
	var id peer.ID
	if in.Org != "" {
		var err error
		if id, err = protocol.DecodeID(in.Org); err != nil || !protocol.IsOrg(id) {
			fail(w, http.StatusBadRequest, "org %s is not an organisation ID", quoteShort(in.Org))
			return
		}
	}
	if err := a.n.SetOrg(id); err != nil {
		a.internal(w, "set the organisation", err)
		return
	}
	writeJSON(w, http.StatusOK, OrgSetting{Org: in.Org})
}

// adopt serves POST /api/v1/org/adopt (node.Adopt).
func (a *apiHandler) adopt(w http.ResponseWriter, r *http.Request) {
	res, err := a.n.Adopt(r.Context())
	switch {
	case errors.Is(err, node.ErrNotDelegated):
		fail(w, http.StatusConflict, "%v", err)
	case err != nil:
		a.internal(w, "move the node's records into its organisation", err)
	default:
		writeJSON(w, http.StatusOK, Adopted{Org: a.n.Org().String(), Moved: res.Moved, Profile: res.Profile})
	}
}

// submit serves POST /api/v1/records: one envelope signed elsewhere.
func (a *apiHandler) submit(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, protocol.MaxEnvelopeSize, "envelope")
	if !ok {
		return
	}
	sg, err := a.n.Submit(r.Context(), body)
	if err != nil {
		code, msg := submitProblem(err)
		if code == 0 {
			a.internal(w, "store the record", err)
			return
		}
		fail(w, code, "%s: %v", msg, err)
		return
	}
	ann := sg.Announcement()
	writeJSON(w, http.StatusOK, Published{Publisher: ann.Publisher.String(), ID: sg.Slot(), Seq: ann.Seq, Hash: sg.Hash().String()})
}

// submitProblem maps an error of node.Submit to a status code and the
// start of the message; 0 for a failure of the node.
func submitProblem(err error) (int, string) {
	switch {
	case errors.Is(err, protocol.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "the envelope is too large"
	case errors.Is(err, protocol.ErrMalformed), errors.Is(err, protocol.ErrPayloadType),
		errors.Is(err, protocol.ErrKeyType), errors.Is(err, protocol.ErrBadSignature),
		errors.Is(err, protocol.ErrPublisherMismatch), errors.Is(err, protocol.ErrInvalid):
		return http.StatusBadRequest, "the envelope does not open"
	case errors.Is(err, node.ErrFuture):
		return http.StatusBadRequest, "the record is dated in the future"
	case errors.Is(err, node.ErrNotKept):
		return http.StatusForbidden, "this node's trust policy does not keep the publisher"
	case errors.Is(err, protocol.ErrUnauthorised), errors.Is(err, protocol.ErrRevoked):
		return http.StatusForbidden, "the organisation does not authorise the signer"
	case errors.Is(err, protocol.ErrChainPending):
		return http.StatusConflict, "the organisation's chain is not known here"
	case errors.Is(err, node.ErrSuperseded):
		return http.StatusConflict, "a newer record holds the slot"
	case errors.Is(err, node.ErrOrgQuota):
		return http.StatusConflict, "the organisation has the most operations this node keeps"
	case errors.Is(err, node.ErrClosed):
		return http.StatusServiceUnavailable, "the node is shutting down"
	}
	return 0, ""
}

// publishMembers serves POST /api/v1/members: a membership list (JSON
// MemberList: list, title, members) signed by the node's key.
func (a *apiHandler) publishMembers(w http.ResponseWriter, r *http.Request) {
	var in MemberList
	if !readJSON(w, r, "membership list", &in) {
		return
	}
	m, err := in.Protocol()
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		invalid(w, "membership list", err)
		return
	}
	signed, err := a.n.PublishMembers(r.Context(), m)
	if errors.Is(err, node.ErrNotDelegated) {
		fail(w, http.StatusConflict, "%v", err)
		return
	}
	a.answerDraft(w, "publish the membership list", "membership list", signed, err)
}

// readJSON decodes a JSON request body into v (unknown members refused),
// answering the request itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, what string, v any) bool {
	body, ok := readBody(w, r, maxSettingBody, what)
	if !ok {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "the %s is not the JSON this route takes: %v", what, err)
		return false
	}
	if dec.More() {
		fail(w, http.StatusBadRequest, "the %s has data after its JSON value", what)
		return false
	}
	return true
}

// Protocol returns the list as the protocol's MemberList (list, title and
// members; the other fields are the API's decoration), its IDs parsed
// with protocol.DecodeID. It does not validate the list.
func (l MemberList) Protocol() (*protocol.MemberList, error) {
	m := &protocol.MemberList{List: l.List, Title: l.Title, Members: make([]protocol.Member, len(l.Members))}
	for i, x := range l.Members {
		id, err := protocol.DecodeID(x.ID)
		if err != nil {
			return nil, fmt.Errorf("members[%d].id: %s is not a publisher ID (an organisation or peer ID)", i, quoteShort(x.ID))
		}
		m.Members[i] = protocol.Member{ID: id, Name: x.Name}
	}
	return m, nil
}
