package node

// The hostile peers of a churn run (churn_test.go): bare hosts with their
// own gossipsub and no validator, which flood the topic with forgeries
// (bad signatures, records claiming an honest publisher), replays of
// honest envelopes they received, and garbage, and open sync sessions to
// their honest neighbours only to send garbage or violating frames, as
// TestHostileGossip and TestHostileSync make them.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
)

// churnHostile is one hostile peer.
type churnHostile struct {
	cp    *churnPeer
	h     host.Host
	topic *pubsub.Topic
	rng   *rand.Rand // used by flood's goroutine only
	// mu guards seen, the latest honest envelopes received (for replays).
	mu   sync.Mutex
	seen [][]byte
	// What it sent: gossip by kind, and sync sessions opened.
	forged, misattributed, replays, garbage, syncAttacks atomic.Uint64
}

// hostileReplayPool is how many received envelopes a hostile peer keeps
// to replay.
const hostileReplayPool = 256

// startHostile puts hostile peer i on the mocknet, linked and connected to
// its neighbours, with a gossipsub that forgets seen messages after a
// second (so that it replays what it saw instead of dropping it), and
// collects honest envelopes until ctx ends. Its goroutines join wg.
func startHostile(ctx context.Context, wg *sync.WaitGroup, cn *churnNet, i int) (*churnHostile, error) {
	cn.mu.Lock()
	h, linked, err := cn.addHost(i)
	cn.mu.Unlock()
	if err != nil {
		return nil, err
	}
	cn.t.Cleanup(func() { h.Close() })
	topic := protocol.Topic(protocol.DefaultNetwork)
	ps, err := pubsub.NewGossipSub(ctx, h, append(PubsubOptions(topic, false), pubsub.WithSeenMessagesTTL(time.Second))...)
	if err != nil {
		return nil, err
	}
	tp, err := ps.Join(topic)
	if err != nil {
		return nil, err
	}
	sub, err := tp.Subscribe()
	if err != nil {
		return nil, err
	}
	hs := &churnHostile{cp: cn.peers[i], h: h, topic: tp, rng: rand.New(rand.NewPCG(uint64(i), 0x4057))}
	wg.Go(func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			if m.ReceivedFrom == h.ID() {
				continue
			}
			hs.mu.Lock()
			if len(hs.seen) == hostileReplayPool {
				hs.seen = hs.seen[1:]
			}
			hs.seen = append(hs.seen, m.Data)
			hs.mu.Unlock()
		}
	})
	cn.connect(i, linked)
	return hs, nil
}

// replayable returns a random envelope the peer received, or nil.
func (hs *churnHostile) replayable(rng *rand.Rand) []byte {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if len(hs.seen) == 0 {
		return nil
	}
	return hs.seen[rng.IntN(len(hs.seen))]
}

// flood publishes one hostile message every every until ctx ends, cycling
// through a forged signature, a record claiming an honest publisher, a
// replay and garbage. It returns the first error that is not the end of
// ctx.
func (hs *churnHostile) flood(ctx context.Context, sheets []*protocol.FactSheet, every time.Duration) error {
	key := hs.cp.key
	tick := time.NewTicker(every)
	defer tick.Stop()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		msg, err := hs.message(k, key, sheets)
		if err != nil {
			return err
		}
		if msg == nil {
			continue
		}
		if err := hs.topic.Publish(ctx, msg); err != nil && ctx.Err() == nil {
			return fmt.Errorf("hostile publish: %w", err)
		}
	}
}

// message makes the k-th hostile message, or nil when there is nothing
// to replay or misattribute yet.
func (hs *churnHostile) message(k int, key crypto.PrivKey, sheets []*protocol.FactSheet) ([]byte, error) {
	switch k % 4 {
	case 0: // its own valid announcement, with the signature broken
		own, err := protocol.Seal(&protocol.Announcement{V: protocol.Version, Seq: uint64(k + 1), Time: time.Now().UTC().Truncate(time.Second),
			Kind: protocol.KindPractice, Practice: variant(sheets, k)}, key)
		if err != nil {
			return nil, err
		}
		forged := bytes.Clone(own.Envelope())
		forged[len(forged)-1] ^= 0x01 // the signature is the envelope's last field
		hs.forged.Add(1)
		return forged, nil
	case 1: // an honest record under a higher sequence, signed by this key
		env := hs.replayable(hs.rng)
		if env == nil {
			return nil, nil
		}
		sg, err := protocol.Open(env)
		if err != nil {
			return nil, fmt.Errorf("open a received envelope: %w", err)
		}
		lie := *sg.Announcement()
		lie.Seq += 1000 + uint64(k)
		payload, err := protocol.EncodePayload(&lie)
		if err != nil {
			return nil, err
		}
		e, err := record.Seal(&rawRecord{payload}, key)
		if err != nil {
			return nil, err
		}
		hs.misattributed.Add(1)
		return e.Marshal()
	case 2:
		env := hs.replayable(hs.rng)
		if env != nil {
			hs.replays.Add(1)
		}
		return env, nil
	default:
		g := make([]byte, 3000)
		for i := range g {
			g[i] = byte(hs.rng.Uint32())
		}
		hs.garbage.Add(1)
		return g, nil
	}
}

// attackSync opens, every every until ctx ends, a sync session to a
// random connected neighbour and sends garbage, an unrequested envelope
// after HELLO, or an oversized HELLO, then waits (at most 5 s) for the
// neighbour to cut it.
func (hs *churnHostile) attackSync(ctx context.Context, cn *churnNet, every time.Duration) {
	rng := rand.New(rand.NewPCG(uint64(hs.cp.idx), 0x5a1c))
	hello := protocol.Hello{Version: protocol.SyncVersion, Network: protocol.DefaultNetwork}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		to := cn.peers[hs.cp.nbrs[rng.IntN(len(hs.cp.nbrs))]].id
		if hs.h.Network().Connectedness(to) != network.Connected {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := hs.h.NewStream(sctx, to, libp2pproto.ID(protocol.SyncProtocolID))
		if err != nil {
			cancel()
			continue
		}
		hs.syncAttacks.Add(1)
		switch k % 3 {
		case 0:
			g := make([]byte, 4096)
			for i := range g {
				g[i] = byte(rng.Uint32())
			}
			s.Write(g)
		case 1:
			writeFrames(s, func(fw *protocol.FrameWriter) error {
				if err := fw.Hello(hello); err != nil {
					return err
				}
				if env := hs.replayable(rng); env != nil {
					if err := fw.Envelope(env); err != nil {
						return err
					}
				}
				return fw.End()
			})
		default:
			writeFrames(s, func(fw *protocol.FrameWriter) error {
				return fw.Hello(protocol.Hello{Version: protocol.SyncVersion, Network: string(bytes.Repeat([]byte{'x'}, 100))})
			})
		}
		churnDrain(sctx, s)
		cancel()
	}
}

// churnDrain reads s until the other side ends it or ctx ends, then resets it.
func churnDrain(ctx context.Context, s network.Stream) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, s)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.Reset()
	<-done
}
