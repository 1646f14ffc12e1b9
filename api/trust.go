package api

import (
	"errors"
	"net/http"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
)

// GET and PUT /api/v1/trust: the node's trust policy at run time.

func (a *apiHandler) trust(w http.ResponseWriter, _ *http.Request) {
	t, err := a.trustOf(a.n.Config().Trust)
	if err != nil {
		a.internal(w, "read the trust policy", err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// setTrust serves PUT /api/v1/trust: the node applies the policy at once
// (node.SetTrust); the config file is the CLI's to edit.
func (a *apiHandler) setTrust(w http.ResponseWriter, r *http.Request) {
	var in Trust
	if !readJSON(w, r, "trust policy", &in) {
		return
	}
	t := node.Trust{Mode: in.Mode, Allow: in.Allow, Deny: in.Deny, Follow: in.Follow}
	if t.Mode == "" {
		t.Mode = node.TrustOpen
	}
	// Checked as part of the whole configuration, which names the key.
	cfg := a.n.Config()
	cfg.Trust = t
	if err := cfg.Validate(); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	switch err := a.n.SetTrust(t); {
	case errors.Is(err, node.ErrClosed):
		fail(w, http.StatusServiceUnavailable, "the node is shutting down")
		return
	case err != nil:
		a.internal(w, "apply the trust policy", err)
		return
	}
	a.trust(w, r)
}

// trustOf is the answer of GET /api/v1/trust for policy t: t, and in
// lists mode the followed organisations' lists, members marked kept.
func (a *apiHandler) trustOf(t node.Trust) (Trust, error) {
	out := Trust{Mode: t.Mode, Allow: nonNil(t.Allow), Deny: nonNil(t.Deny), Follow: nonNil(t.Follow)}
	if t.Mode != node.TrustLists {
		return out, nil
	}
	for _, s := range t.Follow {
		org, err := protocol.DecodeID(s)
		if err != nil {
			continue // SetTrust and the config checked them
		}
		lists, err := a.listsOf(org)
		if err != nil {
			return out, err
		}
		for _, l := range lists {
			for i, m := range l.Members {
				id, err := protocol.DecodeID(m.ID)
				kept := err == nil && a.n.Keeps(id)
				l.Members[i].Kept = &kept
			}
			out.Lists = append(out.Lists, l)
		}
	}
	return out, nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
