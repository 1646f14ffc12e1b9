package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// sealOrgCatalogue seals n practices from the given number of
// organisations: organisation k has one rotation key, benchKey(t, 0x0a9, k),
// whose genesis (sequence 1, in the catalogue's base) delegates key
// benchKey(t, 0xca7a, k), which signs its practices with the genesis as
// auth, from sequence 2. The practices are those of sealCatalogue with the
// same arguments, published by organisations instead of keys.
func sealOrgCatalogue(t testing.TB, sheets []*protocol.FactSheet, n, orgs int) *benchCatalogue {
	t.Helper()
	c := &benchCatalogue{name: "org", keys: make([]crypto.PrivKey, orgs), signed: make([]*protocol.Signed, n)}
	ids := make([]peer.ID, orgs)
	auth := make([]protocol.Hash, orgs)
	for k := range c.keys {
		c.keys[k] = benchKey(t, 0xca7a, k)
		rot := benchKey(t, 0x0a9, k)
		g := &protocol.Announcement{V: protocol.Version, Seq: 1, Time: benchTime, Kind: protocol.KindOrg, Org: &protocol.OrgOp{
			Name: fmt.Sprintf("Benchmark organisation %d", k), Keys: []peer.ID{benchID(t, rot)},
			Delegates: []protocol.Delegation{{Key: benchID(t, c.keys[k]), May: []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile}}},
		}}
		sg, err := protocol.Seal(g, rot)
		if err != nil {
			t.Fatalf("seal genesis %d: %v", k, err)
		}
		c.base = append(c.base, sg)
		ids[k], auth[k] = sg.Announcement().Publisher, sg.Hash()
	}
	c.seal = func(i int, seq uint64, at time.Time) (*protocol.Signed, error) {
		k := i % orgs
		ann := &protocol.Announcement{
			V: protocol.Version, Publisher: ids[k], Seq: seq, Time: at, Auth: auth[k],
			Kind: protocol.KindPractice, Practice: variant(sheets, i),
		}
		return protocol.Seal(ann, c.keys[k])
	}
	c.sealPractices(t, n)
	return c
}

// benchID is the peer ID of k.
func benchID(t testing.TB, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
