package node

import (
	"context"
	"fmt"
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
	reasonCascade
	reasonFollowUp
)

// followUpDelay is how long after a new outbound connection's first sync
// a second one runs. A gossip message in flight while the link came up
// can reach the node after that first session and before the two nodes
// share a gossip mesh; it would otherwise cross the new link only at the
// next periodic sync. A few gossip heartbeats (1 s each) cover it. A
// variable so tests can shorten it.
var followUpDelay = 5 * time.Second

const (
	// maxOutboundSessions bounds the sessions this node runs at once as
	// initiator (admission.go bounds those it serves).
	maxOutboundSessions = 4
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
// connection (and once more followUpDelay later), every SyncInterval (jittered) with a random connected peer,
// and when gossip reveals a sequence gap. It runs at most one session per
// peer and direction.
type scheduler struct {
	n      *Node
	reqs   chan syncRequest
	events event.Subscription
	// adm admits the sessions peers open; allowed is trust.allow, whose
	// peers it ranks first. Both are set by newScheduler.
	adm     *admission
	allowed map[peer.ID]bool

	// mu guards every field below.
	mu       sync.Mutex
	inflight map[peer.ID]bool
	again    map[peer.ID]bool
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

func newScheduler(n *Node) (*scheduler, error) {
	// Subscribe before New returns, so no connection is missed.
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return nil, fmt.Errorf("watch connections: %w", err)
	}
	allowed := map[peer.ID]bool{}
	for _, s := range n.cfg.Trust.Allow {
		if id, err := peer.Decode(s); err == nil {
			allowed[id] = true
		}
	}
	return &scheduler{events: sub,
		n: n, reqs: make(chan syncRequest, 256), adm: newAdmission(n.log), allowed: allowed,
		inflight: map[peer.ID]bool{}, again: map[peer.ID]bool{},
		last: map[peer.ID]PeerSync{}, lastGap: map[peer.ID]time.Time{}, peerLock: map[peer.ID]chan struct{}{},
	}, nil
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
	defer s.events.Close()
	events := s.events.Out()
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
				s.followUp(ctx, e.Peer)
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

// followUp asks for one more sync with p after followUpDelay, if p is
// still connected then.
func (s *scheduler) followUp(ctx context.Context, p peer.ID) {
	time.AfterFunc(followUpDelay, func() {
		if ctx.Err() == nil && s.n.host.Network().Connectedness(p) == network.Connected {
			s.request(p, reasonFollowUp)
		}
	})
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

// cascade spreads what a session brought: when it applied announcements,
// this node syncs with every other connected peer, which in turn cascades
// if it learned something. A healed partition so converges hop by hop
// without waiting for the periodic sync, and the wave stops where nothing
// is new. Announcements learned by sync are never re-gossiped: a catch-up
// of thousands would flood the topic.
func (s *scheduler) cascade(from peer.ID) {
	for _, p := range s.n.host.Network().Peers() {
		if p != from {
			s.request(p, reasonCascade)
		}
	}
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
	s.adm.close()
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
