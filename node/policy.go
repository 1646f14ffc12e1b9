package node

import (
	"fmt"
	"sync/atomic"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// policy decides which validly signed publishers this node keeps. It
// holds the current rules behind an atomic pointer: SetTrust and, in lists
// mode, a new membership list of a followed organisation replace them
// while validators read them. Safe for concurrent use.
type policy struct {
	cur atomic.Pointer[rules]
}

// rules are one version of the trust policy; immutable once made.
type rules struct {
	trust Trust
	mode  string
	allow map[peer.ID]bool
	deny  map[peer.ID]bool
	// own are the node's own publisher IDs (its key and its
	// organisation): always kept.
	own map[peer.ID]bool
	// follow are the followed organisations (lists mode), and listed the
	// members of their current membership lists.
	follow map[peer.ID]bool
	listed map[peer.ID]bool
}

func newPolicy(r *rules) *policy {
	p := &policy{}
	p.cur.Store(r)
	return p
}

// load returns the current rules.
func (p *policy) load() *rules { return p.cur.Load() }

// keeps reports whether announcements of pub are kept here.
func (p *policy) keeps(pub peer.ID) bool { return p.load().keeps(pub) }

func (r *rules) keeps(pub peer.ID) bool {
	switch {
	case r.own[pub]:
		return true
	case r.deny[pub]:
		return false
	case r.mode == TrustAllowlist:
		return r.allow[pub]
	case r.mode == TrustLists:
		return r.allow[pub] || r.follow[pub] || r.listed[pub]
	}
	return true
}

// selective reports whether the rules keep only named publishers (quotas
// do not apply then).
func (r *rules) selective() bool { return r.mode != TrustOpen }

// parseIDs decodes validated publisher IDs (Trust.validate checked them).
func parseIDs(ss []string) map[peer.ID]bool {
	m := make(map[peer.ID]bool, len(ss))
	for _, s := range ss {
		if id, err := protocol.DecodeID(s); err == nil {
			m[id] = true
		}
	}
	return m
}

// buildRules makes the rules of t for a node whose own publisher IDs are
// own, reading in lists mode the membership lists of the followed
// organisations that st holds (every list a followed organisation
// publishes counts).
func buildRules(t Trust, own []peer.ID, st *store.Store) (*rules, error) {
	r := &rules{trust: t, mode: t.Mode, allow: parseIDs(t.Allow), deny: parseIDs(t.Deny),
		own: map[peer.ID]bool{}, follow: parseIDs(t.Follow), listed: map[peer.ID]bool{}}
	for _, id := range own {
		if id != "" {
			r.own[id] = true
		}
	}
	if r.mode != TrustLists || st == nil {
		return r, nil
	}
	for org := range r.follow {
		for rec, err := range st.List(store.ListOptions{Publisher: org, Kinds: []protocol.Kind{protocol.KindMembers}}) {
			if err != nil {
				return nil, fmt.Errorf("read the membership lists of %s: %w", org, err)
			}
			if m := rec.Announcement().Members; m != nil {
				for _, x := range m.Members {
					r.listed[x.ID] = true
				}
			}
		}
	}
	return r, nil
}

// follows reports whether the rules depend on org's membership lists.
func (r *rules) follows(org peer.ID) bool { return r.mode == TrustLists && r.follow[org] }
