package node

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Evidence follows the state (PROTOCOL.md section 6): a replica that saw
// two twins at sequence 5 and one that saw only the publisher's sequence 6
// end with the same reconciled set (no evidence left of a superseded
// sequence), so later sessions find nothing to do. The replica that saw
// the twins keeps its record of the equivocation; the other need not learn
// of it (by the time it asks for the twins, they are superseded).
func TestEvidenceOfSupersededSequenceConverges(t *testing.T) {
	tn := newTestNet(t, 23)
	a, b := tn.add(), tn.add()
	liar := testKey(t, 667)
	liarID, _ := peer.IDFromPrivateKey(liar)
	sheet := variant(demoSheets(t), 300)
	mk := func(seq uint64, title string) *protocol.Signed {
		s := *sheet
		s.Title = title
		sg, err := protocol.Seal(&protocol.Announcement{V: protocol.Version, Seq: seq, Time: time.Now().UTC().Truncate(time.Second),
			Kind: protocol.KindPractice, Practice: &s}, liar)
		if err != nil {
			t.Fatal(err)
		}
		return sg
	}
	apply := func(n *Node, sgs ...*protocol.Signed) {
		t.Helper()
		for _, sg := range sgs {
			if _, err := n.Store().Apply(context.Background(), store.Incoming{Signed: sg}); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(a, mk(5, "First story"), mk(5, "Second story"))
	apply(b, mk(6, "Later story"))
	if d, _ := a.Store().EvidenceDigest(); d.Count != 1 {
		t.Fatalf("a holds %d evidence records, want 1", d.Count)
	}
	sd := func(n *Node) store.Digest {
		d, err := syncDigest(n.Store(), false)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tn.connect(a, b)
	tn.eventually(20*time.Second, "one reconciled set", func() bool { return sd(a) == sd(b) && has(a, liarID, sheet.ID, 6) })
	if d := sd(a); d.Count != 1 {
		t.Fatalf("the reconciled set holds %d records, want the state alone", d.Count)
	}
	found := false
	for e, err := range a.Store().Equivocations() {
		if err != nil {
			t.Fatal(err)
		}
		found = found || e.Publisher == liarID && e.Seq == 5
	}
	if !found {
		t.Error("a no longer records the equivocation at 5")
	}
}
