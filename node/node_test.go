package node

import (
	"context"
	"testing"
	"time"
)

func TestGossipAndLateJoinerPair(t *testing.T) {
	tn := newTestNet(t, 1)
	a, b := tn.add(), tn.add()
	tn.connect(a, b)
	sheets := demoSheets(t)
	// Wait for the mesh, then gossip.
	eventually(t, 10*time.Second, "mesh", func() bool { return len(a.ps.ListPeers(a.topic.String())) > 0 })
	sg := publish(t, a, variant(sheets, 0))
	eventually(t, 10*time.Second, "gossip to b", func() bool { return has(b, a.ID(), sg.Announcement().Slot(), 1) })

	for i := 1; i < 50; i++ {
		publish(t, a, variant(sheets, i))
	}
	c := tn.add()
	res, err := c.SyncWith(context.Background(), a.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sync: %+v", res)
	if !converged(t, []*Node{a, c}) {
		t.Fatalf("not converged: %+v vs %+v", digest(t, a), digest(t, c))
	}
	res, err = c.SyncWith(context.Background(), a.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second sync: %+v", res)
}
