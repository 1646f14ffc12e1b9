package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// rawRecord seals any payload bytes under the announcement domain and
// type: how a hostile peer makes an envelope whose signature is good but
// whose payload lies (say, about its publisher).
type rawRecord struct{ payload []byte }

func (r *rawRecord) Domain() string                 { return protocol.EnvelopeDomain }
func (r *rawRecord) Codec() []byte                  { return []byte(protocol.PayloadType) }
func (r *rawRecord) MarshalRecord() ([]byte, error) { return r.payload, nil }
func (r *rawRecord) UnmarshalRecord(b []byte) error { r.payload = b; return nil }

func sealRaw(t testing.TB, payload []byte, k crypto.PrivKey) []byte {
	t.Helper()
	env, err := record.Seal(&rawRecord{payload}, k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostile is a bare libp2p host with its own gossipsub and no validation.
func (tn *testNet) hostile(seed uint64) (host.Host, crypto.PrivKey, *pubsub.Topic) {
	tn.t.Helper()
	return tn.hostileAt(seed, "/ip4/10.250.0.1/tcp/4001")
}

// hostileAt is hostile at address addr, with more gossipsub options.
func (tn *testNet) hostileAt(seed uint64, addr string, opts ...pubsub.Option) (host.Host, crypto.PrivKey, *pubsub.Topic) {
	tn.t.Helper()
	k := testKey(tn.t, seed)
	h, err := tn.mn.AddPeer(k, ma.StringCast(addr))
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { h.Close() })
	if err := tn.mn.LinkAll(); err != nil {
		tn.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn.t.Cleanup(cancel)
	topic := protocol.Topic(protocol.DefaultNetwork)
	ps, err := pubsub.NewGossipSub(ctx, h, append(PubsubOptions(topic, false), opts...)...)
	if err != nil {
		tn.t.Fatal(err)
	}
	tp, err := ps.Join(topic)
	if err != nil {
		tn.t.Fatal(err)
	}
	if _, err := tp.Subscribe(); err != nil {
		tn.t.Fatal(err)
	}
	return h, k, tp
}

func rejected(n *Node) uint64 {
	var r uint64
	for _, v := range n.Stats().Rejected {
		r += v
	}
	return r
}

// A hostile peer gossips forged, misattributed, replayed, oversized and
// malformed messages: nothing reaches a store, honest propagation goes on,
// and the hostile peer's score turns negative.
func TestHostileGossip(t *testing.T) {
	tn := newTestNet(t, 66)
	a, b := tn.add(), tn.add()
	tn.connect(a, b)
	h, hk, htopic := tn.hostile(999)
	for _, n := range []*Node{a, b} {
		if _, err := tn.mn.ConnectPeers(h.ID(), n.ID()); err != nil {
			t.Fatal(err)
		}
	}
	tn.waitMesh()
	tn.eventually(10*time.Second, "hostile peer subscribed", func() bool { return len(htopic.ListPeers()) == 2 })
	sheets := demoSheets(t)
	ctx := context.Background()

	first := publish(t, a, variant(sheets, 0))
	upd := *variant(sheets, 0)
	upd.Title += " (2)"
	second := publish(t, a, &upd)
	tn.eventually(10*time.Second, "honest update on b", func() bool { return has(b, a.ID(), upd.ID, second.Announcement().Seq) })

	// A valid announcement of the hostile peer's own, as raw material.
	own, err := protocol.Seal(&protocol.Announcement{V: protocol.Version, Seq: 1, Time: time.Now().UTC().Truncate(time.Second),
		Kind: protocol.KindPractice, Practice: variant(sheets, 1)}, hk)
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(own.Envelope())
	forged[len(forged)-1] ^= 0x01 // the signature is the last field
	lie := *first.Announcement()
	lie.Seq = 9
	lieJSON, err := protocol.EncodePayload(&lie)
	if err != nil {
		t.Fatal(err)
	}
	wrongPublisher := sealRaw(t, lieJSON, hk) // says a.ID(), signed by hk
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 3000)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	oversized := bytes.Repeat([]byte{0x0a}, protocol.MaxEnvelopeSize+1000)

	// A replay of a's superseded first version: valid, but stale. Sent
	// first: once scoring graylists the hostile peer, nothing it sends is
	// even looked at.
	if err := htopic.Publish(ctx, first.Envelope()); err != nil {
		t.Fatal(err)
	}
	// (Within two minutes pubsub's seen cache drops it by message ID; after
	// that the validator ignores it, a was its first receiver: a duplicate.)
	if r := a.validate(ctx, h.ID(), &pubsub.Message{Message: &pb.Message{Data: first.Envelope()}, ReceivedFrom: h.ID()}, false); r != pubsub.ValidationIgnore || a.Stats().Ignored[ReasonDuplicate] != 1 {
		t.Fatalf("replay: validator says %v, ignored %+v; want ignore as a duplicate", r, a.Stats().Ignored)
	}
	for _, msg := range [][]byte{forged, wrongPublisher, garbage, oversized} {
		if err := htopic.Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	tn.eventually(10*time.Second, "rejections on each honest node", func() bool { return rejected(a) >= 1 && rejected(b) >= 1 })
	for _, n := range []*Node{a, b} {
		if _, err := n.Store().PublisherSummary(h.ID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("node %s stored something of the hostile peer: %v", n.ID(), err)
		}
		if hd, err := n.Store().Head(a.ID(), upd.ID); err != nil || hd.Seq != second.Announcement().Seq {
			t.Errorf("node %s: a's practice is at %+v, %v; want seq %d", n.ID(), hd, err, second.Announcement().Seq)
		}
		if d := digest(t, n); d.Count != 1 {
			t.Errorf("node %s holds %d records, want 1", n.ID(), d.Count)
		}
	}
	// Every hostile message, checked by the validator itself (scoring may
	// drop later ones from the gossip test above before validation).
	for _, c := range []struct {
		data   []byte
		reason string
	}{{forged, ReasonBadSignature}, {wrongPublisher, ReasonPublisherMismatch}, {garbage, ReasonMalformed}, {oversized, ReasonTooLarge}} {
		before := a.Stats().Rejected[c.reason]
		if r := a.validate(ctx, h.ID(), &pubsub.Message{Message: &pb.Message{Data: c.data}, ReceivedFrom: h.ID()}, false); r != pubsub.ValidationReject {
			t.Errorf("%s: validator says %v, want reject", c.reason, r)
		}
		// At least one more: a copy still arriving by gossip may be counted
		// meanwhile, under the same reason.
		if a.Stats().Rejected[c.reason] < before+1 {
			t.Errorf("%s: not counted under that reason: %+v", c.reason, a.Stats().Rejected)
		}
	}
	tn.eventually(10*time.Second, "hostile score negative on a and b", func() bool {
		return a.PeerScores()[h.ID()] < 0 && b.PeerScores()[h.ID()] < 0
	})

	// Honest gossip still flows, both ways.
	fromB := publish(t, b, variant(sheets, 2))
	tn.eventually(10*time.Second, "honest gossip after the attack", func() bool {
		return has(a, b.ID(), fromB.Announcement().Slot(), fromB.Announcement().Seq)
	})
}

// writeFrames encodes sync frames with the real writer, for hostile scripts.
func writeFrames(w io.Writer, f func(fw *protocol.FrameWriter) error) error {
	fw := protocol.NewFrameWriter(w)
	if err := f(fw); err != nil {
		return err
	}
	return fw.Flush()
}

// Sync peers that send garbage, unrequested or forged envelopes, or serve
// garbage: the session is cut, nothing is stored, the node keeps working.
func TestHostileSync(t *testing.T) {
	tn := newTestNet(t, 67)
	a, b := tn.add(), tn.add()
	tn.connect(a, b)
	h, hk, _ := tn.hostile(998)
	if _, err := tn.mn.ConnectPeers(h.ID(), a.ID()); err != nil {
		t.Fatal(err)
	}
	sheets := demoSheets(t)
	ctx := context.Background()
	publish(t, a, variant(sheets, 0))

	own, err := protocol.Seal(&protocol.Announcement{V: protocol.Version, Seq: 1, Time: time.Now().UTC().Truncate(time.Second),
		Kind: protocol.KindPractice, Practice: variant(sheets, 1)}, hk)
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(own.Envelope())
	forged[len(forged)-1] ^= 0x01
	hello := protocol.Hello{Version: protocol.SyncVersion, Network: protocol.DefaultNetwork}

	// The hostile peer as initiator.
	attacks := map[string]func(fw *protocol.FrameWriter) error{
		"garbage": func(fw *protocol.FrameWriter) error {
			_, err := fw.Flush(), error(nil)
			return err
		},
		"unrequested envelope": func(fw *protocol.FrameWriter) error {
			if err := fw.Hello(hello); err != nil {
				return err
			}
			if err := fw.Envelope(own.Envelope()); err != nil {
				return err
			}
			return fw.End()
		},
		"oversized frame": func(fw *protocol.FrameWriter) error {
			return fw.Hello(protocol.Hello{Version: 1, Network: string(bytes.Repeat([]byte{'x'}, 100))})
		},
	}
	for name, script := range attacks {
		failures := a.Stats().SyncFailures
		s, err := h.NewStream(ctx, a.ID(), libp2pproto.ID(protocol.SyncProtocolID))
		if err != nil {
			t.Fatal(err)
		}
		if name == "garbage" {
			g := make([]byte, 4096)
			for i := range g {
				g[i] = byte(i*7 + 3)
			}
			s.Write(g)
		} else if err := writeFrames(s, script); err != nil {
			t.Fatal(err)
		}
		s.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, s) // until a cuts the session
		s.Close()
		tn.eventually(10*time.Second, name+" counted as a failed session", func() bool { return a.Stats().SyncFailures > failures })
	}

	// The hostile peer as responder: it advertises its own item, then
	// serves a forged envelope for it.
	h.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolID), func(s network.Stream) {
		defer s.Close()
		fr := protocol.NewFrameReader(s)
		if _, err := fr.Next(); err != nil { // HELLO
			return
		}
		writeFrames(s, func(fw *protocol.FrameWriter) error { return fw.Hello(hello) })
		for f, err := fr.Next(); err == nil && f.Type != protocol.FrameEnd; f, err = fr.Next() {
		}
		id := protocol.ItemID{Publisher: h.ID(), Seq: 1}
		hh := own.Hash()
		copy(id.Prefix[:], hh[:protocol.HashPrefixLen])
		writeFrames(s, func(fw *protocol.FrameWriter) error {
			fw.Range(&protocol.Range{Upper: protocol.Bound{Inf: true}, Mode: protocol.ModeHave, Items: []protocol.ItemID{id}})
			return fw.End()
		})
		for f, err := fr.Next(); err == nil && f.Type != protocol.FrameEnd; f, err = fr.Next() {
		}
		writeFrames(s, func(fw *protocol.FrameWriter) error {
			fw.Envelope(forged)
			return fw.End()
		})
		io.Copy(io.Discard, s)
	})
	_, err = a.SyncWith(ctx, h.ID())
	if !errors.Is(err, protocol.ErrSyncViolation) {
		t.Fatalf("sync with a peer serving a forged envelope: %v; want a protocol violation", err)
	}
	h.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolID), func(s network.Stream) {
		s.Write(bytes.Repeat([]byte{0xff}, 64))
		s.Close()
	})
	if _, err := a.SyncWith(ctx, h.ID()); !errors.Is(err, protocol.ErrSyncViolation) {
		t.Fatalf("sync with a peer serving garbage: %v; want a protocol violation", err)
	}

	if _, err := a.Store().PublisherSummary(h.ID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a stored something of the hostile peer: %v", err)
	}
	if d := digest(t, a); d.Count != 1 {
		t.Fatalf("a holds %d records, want 1", d.Count)
	}
	// Honest sync still works.
	if _, err := b.SyncWith(ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
	if !converged(t, []*Node{a, b}) {
		t.Fatal("a and b differ after an honest sync")
	}
	var _ peer.ID
}
