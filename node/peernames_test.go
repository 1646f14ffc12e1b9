package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestPeerNames checks that the cache gives each peer's own text form,
// also once it has been emptied for being full.
func TestPeerNames(t *testing.T) {
	names := peerNames{}
	var ids []peer.ID
	for i := range 1100 {
		id, err := peer.IDFromPublicKey(testKey(t, uint64(i)).GetPublic())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for round := range 2 {
		for i, id := range ids {
			if got := names.of(id); got != id.String() {
				t.Fatalf("round %d, peer %d: %q, want %q", round, i, got, id.String())
			}
			if len(names) > 1024 {
				t.Fatalf("the cache holds %d names, more than 1024", len(names))
			}
		}
	}
}
