package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestSyncBackToBack runs sessions between two real nodes on loopback TCP
// (each with its resource manager and sync stream limits, host.go) one
// right after another, as the scheduler does when a follow-up or a
// cascade comes due while a session with the peer runs. Each session
// must succeed: the responder may still be finishing the last one when
// the next stream arrives, and that stream must wait for it in admission
// (PROTOCOL.md 9.12), not be refused by the stream limits.
func TestSyncBackToBack(t *testing.T) {
	old := followUpDelay
	followUpDelay = time.Hour // only this test's sessions run
	t.Cleanup(func() { followUpDelay = old })
	nodes := make([]*Node, 2)
	for i := range nodes {
		n, err := New(tcpConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes[i] = n
	}
	a, b := nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	publish(t, a, demoSheets(t)[0])
	if err := a.Host().Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	// The session the connection started, then as many more as b's
	// admission lets a peer of the general class start at once.
	for i := range generalBurstPerIP - 1 {
		if _, err := a.SyncWith(ctx, b.ID()); err != nil {
			t.Fatalf("session %d right after the last: %v; the responder's admission: %s", i+2, err, admissionOutcomes(b))
		}
	}
}
