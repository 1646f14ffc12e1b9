package node

import (
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// policy decides which validly signed publishers this node keeps. It is
// immutable after New and safe for concurrent use.
type policy struct {
	allowlist bool
	allow     map[peer.ID]bool
	deny      map[peer.ID]bool
}

func newPolicy(t Trust) *policy {
	p := &policy{allowlist: t.Mode == TrustAllowlist, allow: map[peer.ID]bool{}, deny: map[peer.ID]bool{}}
	for _, s := range t.Allow {
		if id, err := protocol.DecodeID(s); err == nil {
			p.allow[id] = true
		}
	}
	for _, s := range t.Deny {
		if id, err := protocol.DecodeID(s); err == nil {
			p.deny[id] = true
		}
	}
	return p
}

// keeps reports whether announcements of pub are kept here.
func (p *policy) keeps(pub peer.ID) bool {
	if p.deny[pub] {
		return false
	}
	return !p.allowlist || p.allow[pub]
}
