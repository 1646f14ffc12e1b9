package node

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// TestSync4IsolatedDifference: one record held by one side only, or one
// practice of which one side holds a newer version, either side, is
// delivered on /khantara/sync/4 within two round trips (the last envelope
// in M4 at the latest), and the session leaves both replicas equal.
func TestSync4IsolatedDifference(t *testing.T) {
	sheets := demoSheets(t)
	cat := sealCatalogue(t, sheets, 300, 5)
	newer, err := cat.seal(7, 1000, benchTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	all := cat.signed
	but := func(i int) []*protocol.Signed {
		return append(append([]*protocol.Signed(nil), all[:i]...), all[i+1:]...)
	}
	withNewer := append(append([]*protocol.Signed(nil), all...), newer)
	for i, tc := range []struct {
		name       string
		forA, forZ []*protocol.Signed
	}{
		{"initiator lacks one", but(123), all},
		{"responder lacks one", all, but(45)},
		{"initiator holds a newer version", withNewer, all},
		{"responder holds a newer version", all, withNewer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, z := sync3Pair(t, 0x400+uint64(i), tc.forA, tc.forZ, nil)
			res, err := a.SyncWith(context.Background(), z.ID())
			if err != nil {
				t.Fatal(err)
			}
			if res.Protocol != protocol.SyncProtocolID4 {
				t.Fatalf("session on %s, want %s", res.Protocol, protocol.SyncProtocolID4)
			}
			if res.EnvelopeMessage == 0 || res.EnvelopeMessage > 4 {
				t.Errorf("the last envelope came in M%d, want M1-M4 (two round trips)", res.EnvelopeMessage)
			}
			if da, dz := digest(t, a), digest(t, z); da != dz || da.Count != uint64(len(all)) {
				t.Fatalf("digests %+v and %+v, want equal with %d records", da, dz, len(all))
			}
			if res.Fetched+res.Served != 1 {
				t.Errorf("%d envelopes fetched and %d served, want one in all", res.Fetched, res.Served)
			}
		})
	}
}

// TestSync4FallsBackToSync3: a peer that serves no /khantara/sync/4 is
// synced on /khantara/sync/3, which the initiator offers next.
func TestSync4FallsBackToSync3(t *testing.T) {
	sheets := demoSheets(t)
	cat := sealCatalogue(t, sheets, 60, 6)
	a, z := sync3Pair(t, 0x420, cat.signed[:40], cat.signed[20:], withoutSync4)
	res, err := a.SyncWith(context.Background(), z.ID())
	if err != nil {
		t.Fatal(err)
	}
	if res.Protocol != protocol.SyncProtocolID3 {
		t.Fatalf("session on %s, want %s", res.Protocol, protocol.SyncProtocolID3)
	}
	if da, dz := digest(t, a), digest(t, z); da != dz || da.Count != 60 {
		t.Fatalf("digests %+v and %+v, want equal with 60 records", da, dz)
	}
}
