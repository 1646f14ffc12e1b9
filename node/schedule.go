package node

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Why a sync was requested.
type syncReason uint8

const (
	reasonConnect syncReason = iota
	reasonPeriodic
	reasonGap
)

const (
	// maxOutboundSessions bounds the sessions this node runs at once as
	// initiator, maxInboundSessions those it serves.
	maxOutboundSessions = 4
	maxInboundSessions  = 16
	// gapDebounce: a sequence gap triggers at most one sync per peer in
	// this time (superseded announcements leave gaps that sync cannot fill).
	gapDebounce = 30 * time.Second
)

// PeerSync is what this node knows of its last sync with one peer.
type PeerSync struct {
	Peer   peer.ID
	At     time.Time
	Result SyncResult
	// Err is the failure, empty on success.
	Err string
}

// scheduler decides when to sync with whom: on every new outbound
// connection, every SyncInterval (jittered) with a random connected peer,
// and when gossip reveals a sequence gap. It runs at most one session per
// peer and direction.
type scheduler struct {
	n    *Node
	reqs chan syncRequest

	// mu guards every field below.
	mu       sync.Mutex
	inflight map[peer.ID]bool
	again    map[peer.ID]bool
	inbound  map[peer.ID]bool
	last     map[peer.ID]PeerSync
	lastGap  map[peer.ID]time.Time
	peerLock map[peer.ID]chan struct{}
	closed   bool
	sessions sync.WaitGroup
}

type syncRequest struct {
	peer   peer.ID
	reason syncReason
}

func newScheduler(n *Node) *scheduler {
	return &scheduler{
		n: n, reqs: make(chan syncRequest, 256),
		inflight: map[peer.ID]bool{}, again: map[peer.ID]bool{}, inbound: map[peer.ID]bool{},
		last: map[peer.ID]PeerSync{}, lastGap: map[peer.ID]time.Time{}, peerLock: map[peer.ID]chan struct{}{},
	}
}

// request asks for a sync with p; it never blocks (a full queue drops the
// request: the periodic sync catches up).
func (s *scheduler) request(p peer.ID, r syncReason) {
	if p == "" || p == s.n.self {
		return
	}
	if r == reasonGap {
		s.mu.Lock()
		if time.Since(s.lastGap[p]) < gapDebounce {
			s.mu.Unlock()
			return
		}
		s.lastGap[p] = time.Now()
		s.mu.Unlock()
	}
	select {
	case s.reqs <- syncRequest{p, r}:
	default:
	}
}

func (s *scheduler) run(ctx context.Context) {
	sub, err := s.n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		s.n.log.Error("Cannot watch connections; sync runs on the timer only.", "err", err)
	} else {
		defer sub.Close()
	}
	var events <-chan any
	if sub != nil {
		events = sub.Out()
	}
	sem := make(chan struct{}, maxOutboundSessions)
	timer := time.NewTimer(jitter(s.n.cfg.SyncInterval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
			return
		case ev := <-events:
			e := ev.(event.EvtPeerConnectednessChanged)
			if e.Connectedness == network.Connected && s.dialed(e.Peer) {
				s.start(ctx, sem, e.Peer)
			}
		case r := <-s.reqs:
			s.start(ctx, sem, r.peer)
		case <-timer.C:
			if p, ok := s.randomPeer(); ok {
				s.start(ctx, sem, p)
			}
			timer.Reset(jitter(s.n.cfg.SyncInterval))
		}
	}
}

// dialed reports whether this node opened a connection to p: the dialer
// starts the sync on connect, so two nodes do not both start one.
func (s *scheduler) dialed(p peer.ID) bool {
	for _, c := range s.n.host.Network().ConnsToPeer(p) {
		if c.Stat().Direction == network.DirOutbound {
			return true
		}
	}
	return false
}

func (s *scheduler) randomPeer() (peer.ID, bool) {
	var ps []peer.ID
	for _, p := range s.n.host.Network().Peers() {
		if ok, _ := s.n.host.Peerstore().SupportsProtocols(p, protocol.SyncProtocolID); len(ok) > 0 {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return "", false
	}
	return ps[rand.IntN(len(ps))], true
}

func (s *scheduler) start(ctx context.Context, sem chan struct{}, p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.inflight[p] {
		s.again[p] = true
		return
	}
	s.inflight[p] = true
	s.sessions.Add(1)
	go func() {
		defer s.sessions.Done()
		for {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				s.finish(p)
				return
			}
			s.n.SyncWith(ctx, p)
			<-sem
			if !s.finish(p) {
				return
			}
		}
	}()
}

// finish marks p's session done and reports whether another was asked for
// meanwhile (then the caller runs it).
func (s *scheduler) finish(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.again[p] && !s.closed {
		delete(s.again, p)
		return true
	}
	delete(s.inflight, p)
	return false
}

// lockPeer waits until no other outbound session with p runs.
func (s *scheduler) lockPeer(ctx context.Context, p peer.ID) (release func(), err error) {
	s.mu.Lock()
	ch, ok := s.peerLock[p]
	if !ok {
		ch = make(chan struct{}, 1)
		s.peerLock[p] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// admitInbound lets one session per peer, maxInboundSessions in all, be
// served; release must be called when it ends.
func (s *scheduler) admitInbound(p peer.ID) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.inbound[p] || len(s.inbound) >= maxInboundSessions {
		return nil, false
	}
	s.inbound[p] = true
	s.sessions.Add(1)
	return func() {
		s.mu.Lock()
		delete(s.inbound, p)
		s.mu.Unlock()
		s.sessions.Done()
	}, true
}

func (s *scheduler) record(p peer.ID, res SyncResult, err error) {
	ps := PeerSync{Peer: p, At: time.Now(), Result: res}
	if err != nil {
		ps.Err = err.Error()
	}
	s.mu.Lock()
	s.last[p] = ps
	s.mu.Unlock()
}

// wait blocks until every session has ended; the node's context must be
// cancelled first.
func (s *scheduler) wait() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.sessions.Wait()
}

// SyncStatus returns the last sync with each peer, in peer order.
func (n *Node) SyncStatus() []PeerSync {
	s := n.sched
	s.mu.Lock()
	out := make([]PeerSync, 0, len(s.last))
	for _, ps := range s.last {
		out = append(out, ps)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b PeerSync) int { return protocol.ComparePublishers(a.Peer, b.Peer) })
	return out
}

// jitter spreads d by ±20%, so nodes started together do not sync in step.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + rand.N(d*2/5+1)
}
