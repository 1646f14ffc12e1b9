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
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
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
// can reach either node after that first session and before the two
// nodes share a gossip mesh; it would otherwise cross the new link only
// at the next periodic sync. A few gossip heartbeats (1 s each) cover it.
// The side that accepted the connection runs its own follow-up at twice
// this delay unless a session with the peer ended since the dialler's
// was due (PROTOCOL.md 9.12): one session reconciles both ways, so two
// reference nodes run one, and a dialler that runs none is covered. A
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
// connection (and once more followUpDelay later; on an inbound one, once
// 2*followUpDelay later unless the dialler's follow-up ran), every SyncInterval
// (jittered) with a random connected peer, and when gossip reveals a
// sequence gap. It runs at most one session per peer and direction.
//
// Concurrency: run, the scheduler's loop, owns the state of the sessions
// it starts (loopState); everyone else talks to it over reqs, and those
// sessions report their end over done. The fields of scheduler are set by
// newScheduler and never change; locks and history are separate types,
// each with its own mutex.
type scheduler struct {
	n      *Node
	reqs   chan syncRequest
	done   chan peer.ID // a session run started has ended
	events event.Subscription
	// adm admits the sessions peers open; allowed is trust.allow, whose
	// peers it ranks first.
	adm     *admission
	allowed map[peer.ID]bool
	locks   peerLocks
	history syncHistory
	// followUpDelay is the package's followUpDelay when the node was made.
	followUpDelay time.Duration
	// protocols are the sync stream protocols this node serves and offers,
	// in the order it offers them (see syncProtocols).
	protocols []libp2pproto.ID
}

// followUp is a follow-up sync with one peer, due at due; when unless is
// set (the peer dialled), it is skipped if a session with the peer ended
// successfully at or after unless.
type followUp struct {
	due, unless time.Time
}

type syncRequest struct {
	peer   peer.ID
	reason syncReason
}

func newScheduler(n *Node, v1Only bool) (*scheduler, error) {
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
	return &scheduler{
		n: n, reqs: make(chan syncRequest, 256), done: make(chan peer.ID), events: sub,
		adm: newAdmission(n.log), allowed: allowed,
		locks: peerLocks{m: map[peer.ID]chan struct{}{}}, history: syncHistory{last: map[peer.ID]PeerSync{}},
		followUpDelay: followUpDelay, protocols: syncProtocols(v1Only),
	}, nil
}

// request asks for a sync with p; it never blocks (a full queue drops the
// request: the periodic sync catches up). Safe for concurrent use.
func (s *scheduler) request(p peer.ID, r syncReason) {
	if p == "" || p == s.n.self {
		return
	}
	select {
	case s.reqs <- syncRequest{p, r}:
	default:
	}
}

// loopState is what run owns. Only run reads or writes its maps and
// timer; the sessions run starts share only sem and sessions.
type loopState struct {
	// inflight holds the peers a session of run's is with; again those
	// asked for while it ran, synced once more when it ends.
	inflight, again map[peer.ID]bool
	// lastGap is when a gap last caused a sync with each peer.
	lastGap map[peer.ID]time.Time
	// followUps holds each follow-up sync due; followUp fires at the
	// earliest.
	followUps map[peer.ID]followUp
	followUp  *time.Timer
	// sem bounds the sessions run at once; sessions counts them.
	sem      chan struct{}
	sessions sync.WaitGroup
}

// run is the scheduler's loop. It returns nil when ctx ends, after every
// session it started has ended, or an error if the host's event
// subscription ends under it.
func (s *scheduler) run(ctx context.Context) error {
	defer s.events.Close()
	st := &loopState{
		inflight: map[peer.ID]bool{}, again: map[peer.ID]bool{}, lastGap: map[peer.ID]time.Time{},
		followUps: map[peer.ID]followUp{}, followUp: time.NewTimer(time.Hour),
		sem: make(chan struct{}, maxOutboundSessions),
	}
	st.followUp.Stop()
	defer st.sessions.Wait()
	defer st.followUp.Stop()
	// Sessions end with ctx, which also ends when run returns an error.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	periodic := time.NewTimer(jitter(s.n.cfg.SyncInterval))
	defer periodic.Stop()
	events := s.events.Out()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errEventsEnded
			}
			e := ev.(event.EvtPeerConnectednessChanged)
			if e.Connectedness != network.Connected {
				continue
			}
			now := time.Now()
			if s.dialed(e.Peer) {
				s.start(ctx, st, e.Peer)
				st.followUps[e.Peer] = followUp{due: now.Add(s.followUpDelay)}
			} else {
				st.followUps[e.Peer] = followUp{due: now.Add(2 * s.followUpDelay), unless: now.Add(s.followUpDelay)}
			}
			st.armFollowUp()
		case r := <-s.reqs:
			if r.reason == reasonGap {
				if time.Since(st.lastGap[r.peer]) < gapDebounce {
					continue
				}
				st.lastGap[r.peer] = time.Now()
			}
			s.start(ctx, st, r.peer)
		case p := <-s.done:
			if st.again[p] {
				delete(st.again, p)
				s.launch(ctx, st, p) // inflight[p] stays set
			} else {
				delete(st.inflight, p)
			}
		case <-periodic.C:
			if p, ok := s.randomPeer(); ok {
				s.start(ctx, st, p)
			}
			periodic.Reset(jitter(s.n.cfg.SyncInterval))
		case <-st.followUp.C:
			s.runFollowUps(ctx, st)
		}
	}
}

// runFollowUps runs the follow-up syncs that are due, with the peers still
// connected. A gossip message in flight while a link came up can reach
// the node after the first session and before the two nodes share a
// gossip mesh; this second session carries it.
func (s *scheduler) runFollowUps(ctx context.Context, st *loopState) {
	now := time.Now()
	for p, f := range st.followUps {
		if f.due.After(now) {
			continue
		}
		delete(st.followUps, p)
		if !f.unless.IsZero() && s.history.succeededSince(p, f.unless) {
			continue // the dialler's follow-up ran: nothing left to carry
		}
		if s.n.host.Network().Connectedness(p) == network.Connected {
			s.start(ctx, st, p)
		}
	}
	st.armFollowUp()
}

// armFollowUp sets the follow-up timer to the earliest due follow-up.
func (st *loopState) armFollowUp() {
	var next time.Time
	for _, f := range st.followUps {
		if next.IsZero() || f.due.Before(next) {
			next = f.due
		}
	}
	st.followUp.Stop()
	if !next.IsZero() {
		st.followUp.Reset(time.Until(next))
	}
}

// start runs a session with p, or, if one runs, has it run once more when
// it ends. The session waits for one of the maxOutboundSessions slots.
func (s *scheduler) start(ctx context.Context, st *loopState, p peer.ID) {
	if st.inflight[p] {
		st.again[p] = true
		return
	}
	st.inflight[p] = true
	s.launch(ctx, st, p)
}

// launch starts the goroutine of one session with p, which reports its end
// on s.done.
func (s *scheduler) launch(ctx context.Context, st *loopState, p peer.ID) {
	st.sessions.Add(1)
	go func() {
		defer st.sessions.Done()
		select {
		case st.sem <- struct{}{}:
			_, _ = s.n.SyncWith(ctx, p) // the session records its outcome in the history
			<-st.sem
		case <-ctx.Done():
			return
		}
		select {
		case s.done <- p:
		case <-ctx.Done():
		}
	}()
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
		if ok, _ := s.n.host.Peerstore().SupportsProtocols(p, s.protocols...); len(ok) > 0 {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return "", false
	}
	return ps[rand.IntN(len(ps))], true
}

// peerLocks lets one outbound session per peer run at a time. Safe for
// concurrent use.
type peerLocks struct {
	// mu guards m, a one-slot channel per peer, full while a session runs.
	mu sync.Mutex
	m  map[peer.ID]chan struct{}
}

// lock waits until no other outbound session with p runs, or ctx ends.
func (l *peerLocks) lock(ctx context.Context, p peer.ID) (release func(), err error) {
	l.mu.Lock()
	ch, ok := l.m[p]
	if !ok {
		ch = make(chan struct{}, 1)
		l.m[p] = ch
	}
	l.mu.Unlock()
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

// syncHistory is the last sync with each peer, for SyncStatus. Safe for
// concurrent use.
type syncHistory struct {
	// mu guards last.
	mu   sync.Mutex
	last map[peer.ID]PeerSync
}

func (h *syncHistory) record(p peer.ID, res SyncResult, err error) {
	ps := PeerSync{Peer: p, At: time.Now(), Result: res}
	if err != nil {
		ps.Err = err.Error()
	}
	h.mu.Lock()
	h.last[p] = ps
	h.mu.Unlock()
}

// succeededSince reports whether a session with p (either role) ended
// successfully at or after t.
func (h *syncHistory) succeededSince(p peer.ID, t time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps, ok := h.last[p]
	return ok && ps.Err == "" && !ps.At.Before(t)
}

// SyncStatus returns the last sync with each peer, in peer order.
func (n *Node) SyncStatus() []PeerSync {
	h := &n.sched.history
	h.mu.Lock()
	out := make([]PeerSync, 0, len(h.last))
	for _, ps := range h.last {
		out = append(out, ps)
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b PeerSync) int { return protocol.ComparePublishers(a.Peer, b.Peer) })
	return out
}

// jitter spreads d by ±20%, so nodes started together do not sync in step.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + rand.N(d*2/5+1)
}
