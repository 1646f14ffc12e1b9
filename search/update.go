package search

import (
	"github.com/libp2p/go-libp2p/core/peer"
)

// docKey names a slot of the store: a publisher's practice ID.
type docKey struct {
	pub  peer.ID
	slot string
}
