package node

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
)

// sync3Pair starts two connected nodes (zMut, if set, applied to z before
// they connect), waits for the session that connecting starts, then fills
// their stores with forA and forZ.
func sync3Pair(t *testing.T, seed uint64, forA, forZ []*protocol.Signed, zMut func(*Node)) (a, z *Node) {
	t.Helper()
	a, z = connectQuiet(t, newTestNet(t, seed), zMut)
	if err := applySigned(a.Store(), forA); err != nil {
		t.Fatal(err)
	}
	if err := applySigned(z.Store(), forZ); err != nil {
		t.Fatal(err)
	}
	return a, z
}

// TestSync3ConvergesOnRandomDifferences: two nodes hold random parts of a
// catalogue of 400 practices from 40 publishers (so ranges span several
// publishers and split inside one), some in a newer version on one side
// only; one session on /khantara/sync/3 leaves both with the whole
// catalogue, newest versions, and equal digests. Several random cases,
// on /khantara/sync/4 and (the peer serving no sync/4) on sync/3.
func TestSync3ConvergesOnRandomDifferences(t *testing.T) {
	sheets := demoSheets(t)
	cat := sealCatalogue(t, sheets, 400, 40)
	for trial := range 6 {
		proto, zMut := protocol.SyncProtocolID4, func(*Node) {}
		if trial%2 == 1 {
			proto, zMut = protocol.SyncProtocolID3, withoutSync4
		}
		rng := rand.New(rand.NewPCG(uint64(trial), 0x53))
		var forA, forZ []*protocol.Signed
		var later []*protocol.Signed // newer versions, after the base ones
		laterA := map[int]bool{}
		for i, sg := range cat.signed {
			switch r := rng.IntN(100); {
			case r < 15:
				forA = append(forA, sg)
			case r < 30:
				forZ = append(forZ, sg)
			default:
				forA, forZ = append(forA, sg), append(forZ, sg)
				if r >= 90 {
					nv, err := cat.seal(i, 100+uint64(i/40), benchTime.Add(time.Hour))
					if err != nil {
						t.Fatal(err)
					}
					later = append(later, nv)
					laterA[len(later)-1] = r%2 == 0
				}
			}
		}
		for k, nv := range later {
			if laterA[k] {
				forA = append(forA, nv)
			} else {
				forZ = append(forZ, nv)
			}
		}
		a, z := sync3Pair(t, 0x300+uint64(trial), forA, forZ, zMut)
		res, err := a.SyncWith(context.Background(), z.ID())
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if res.Protocol != proto {
			t.Fatalf("trial %d: session on %s, want %s", trial, res.Protocol, proto)
		}
		da, dz := digest(t, a), digest(t, z)
		if da != dz || da.Count != uint64(len(cat.signed)) {
			t.Fatalf("trial %d: digests %+v and %+v, want equal with %d records", trial, da, dz, len(cat.signed))
		}
		for _, nv := range later {
			ann := nv.Announcement()
			if !has(a, ann.Publisher, ann.Slot(), ann.Seq) || !has(z, ann.Publisher, ann.Slot(), ann.Seq) {
				t.Fatalf("trial %d: newer version %s/%d missing", trial, ann.Publisher, ann.Seq)
			}
		}
		a.Close()
		z.Close()
	}
}

// TestSync3FallsBackToSync2: a peer that serves no /khantara/sync/3 (as a
// node from before it) is synced on /khantara/sync/2, which the initiator
// offers next.
func TestSync3FallsBackToSync2(t *testing.T) {
	sheets := demoSheets(t)
	cat := sealCatalogue(t, sheets, 60, 6)
	a, z := sync3Pair(t, 0x320, cat.signed[:40], cat.signed[20:], withoutSync3)
	res, err := a.SyncWith(context.Background(), z.ID())
	if err != nil {
		t.Fatal(err)
	}
	if res.Protocol != protocol.SyncProtocolID2 {
		t.Fatalf("session on %s, want %s", res.Protocol, protocol.SyncProtocolID2)
	}
	if da, dz := digest(t, a), digest(t, z); da != dz || da.Count != 60 {
		t.Fatalf("digests %+v and %+v, want equal with 60 records", da, dz)
	}
}

// TestSync3HelloWithoutSalt: an initiator whose sync/3 HELLO carries no
// salt commits a violation: the responder answers no HELLO and counts a
// failed session.
func TestSync3HelloWithoutSalt(t *testing.T) {
	tn := newTestNet(t, 0x330)
	a := tn.add()
	h, _, _ := tn.hostile(997)
	if _, err := tn.mn.ConnectPeers(h.ID(), a.ID()); err != nil {
		t.Fatal(err)
	}
	s, err := h.NewStream(context.Background(), a.ID(), libp2pproto.ID(protocol.SyncProtocolID3))
	if err != nil {
		t.Fatal(err)
	}
	fr, fw := protocol.NewSync3(s, s)
	if err := fw.Hello(protocol.Hello{Version: protocol.SyncVersion3, Network: protocol.DefaultNetwork}); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := fr.Next()
	if err == nil && f.Type == protocol.FrameHello {
		t.Fatal("the responder answered a HELLO without salt")
	}
	io.Copy(io.Discard, s)
	s.Close()
	tn.eventually(10*time.Second, "a failed session", func() bool { return a.Stats().SyncFailures > 0 })
}

// TestSync3ItemReferenceCap: a peer may name the items of this side's last
// message by reference (kind 1, one byte each), but no more of them in one
// message than that message held (PROTOCOL.md 9.13): a node that listed 3
// records takes a LIST naming them all and cuts off one naming 4.
func TestSync3ItemReferenceCap(t *testing.T) {
	sheets := demoSheets(t)
	cat := sealCatalogue(t, sheets, 3, 1)
	for _, tc := range []struct {
		refs      int
		violation bool
	}{{3, false}, {4, true}} {
		t.Run(fmt.Sprintf("refs=%d", tc.refs), func(t *testing.T) {
			tn := newTestNet(t, 0x340+uint64(tc.refs))
			a := tn.add()
			if err := applySigned(a.Store(), cat.signed); err != nil {
				t.Fatal(err)
			}
			h, _, _ := tn.hostile(996)
			if _, err := tn.mn.ConnectPeers(h.ID(), a.ID()); err != nil {
				t.Fatal(err)
			}
			s, err := h.NewStream(context.Background(), a.ID(), libp2pproto.ID(protocol.SyncProtocolID3))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetDeadline(time.Now().Add(10 * time.Second))
			fr, fw := protocol.NewSync3(s, s)
			hello := protocol.Hello{Version: protocol.SyncVersion3, Network: protocol.DefaultNetwork, Salt: make([]byte, protocol.SaltLen)}
			root := protocol.Range{Upper: protocol.Bound{Inf: true}, Mode: protocol.ModeFingerprint, Fingerprint: [protocol.FingerprintLen]byte{1, 2, 3, 4}}
			if fw.Hello(hello) != nil || fw.Flush() != nil || fw.Range(&root) != nil || fw.End() != nil {
				t.Fatal("writing M1 failed")
			}
			listed := 0
			for f, err := fr.Next(); f == nil || f.Type != protocol.FrameEnd; f, err = fr.Next() {
				if err != nil {
					t.Fatalf("reading M2: %v", err)
				}
				if f.Type == protocol.FrameRange {
					listed += len(f.Range.Items)
				}
			}
			if listed != 3 {
				t.Fatalf("the node listed %d items, want its 3", listed)
			}
			// M3: [⊥, ∞) LIST naming items 0, 1, 2, 0, ... of M2, then END.
			body := []byte{byte(protocol.FrameRange), byte(protocol.ModeList), byte(tc.refs)}
			for i := range tc.refs {
				body = append(body, byte(4*(i%3)+1))
			}
			if _, err := s.Write(append(append([]byte{byte(len(body))}, body...), 1, byte(protocol.FrameEnd))); err != nil {
				t.Fatal(err)
			}
			f, err := fr.Next()
			cut := err != nil || f.Type == protocol.FrameError
			if cut != tc.violation {
				t.Fatalf("answer to %d references: frame %+v, error %v; want cut off: %v", tc.refs, f, err, tc.violation)
			}
			if tc.violation {
				tn.eventually(10*time.Second, "a failed session", func() bool { return a.Stats().SyncFailures > 0 })
			} else if f.Type != protocol.FrameEnd {
				t.Fatalf("answer to a matching LIST: frame type %d, want END", f.Type)
			}
		})
	}
}
