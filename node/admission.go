package node

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Inbound sync admission: who may hold one of the sessions this node
// serves (PROTOCOL.md 9.9). A slot is held only while the peer makes
// progress: the session deadlines of sync.go cut a peer that falls silent,
// and when the slots are full a newcomer takes the slot of the idlest
// session it outranks instead of being refused. So peer IDs, which cost
// nothing, cannot keep an honest late joiner from catching up.
//
// Every session has a class, from the connection it arrives on:
//
//   - allowlisted: the peer is on trust.allow (its peer ID is a publisher
//     ID this node keeps in allowlist mode);
//   - dialled: this node opened a connection to the peer (bootstrap,
//     address book, mDNS): the peer was chosen here, not by itself;
//   - scored: the peer's gossipsub score is at least syncGoodScore;
//   - general: everyone else.
//
// General sessions may hold maxGeneralSessions of the maxInboundSessions
// slots (the rest is reserved for the other classes), at most
// maxGeneralPerIP from one address (IPv4 address or IPv6 /64), and one
// address may open general sessions at generalRatePerIP a second on
// average (bursts of generalBurstPerIP). Over a limit, the newcomer evicts
// the idlest session that is "stalled" (it has not finished its first
// message yet, or nothing has moved for stalledIdle) among those it
// competes with: of a lower class any session, else a stalled one of its
// own class; if there is none it is refused. Stalled sessions that never
// finished a message go first, then the longest idle. Reserved classes are
// not limited per address or rate.
const (
	// maxInboundSessions bounds the sessions this node serves at once.
	maxInboundSessions = 16
	// maxGeneralSessions bounds the sessions of the general class; the
	// other maxInboundSessions-maxGeneralSessions slots are reserved for
	// allowlisted, dialled and well-scored peers.
	maxGeneralSessions = 8
	// maxGeneralPerIP bounds the general sessions from one address. Two
	// lets two honest nodes behind one NAT sync at once.
	maxGeneralPerIP = 2
	// generalRatePerIP is how many general sessions one address may open
	// per second on average, generalBurstPerIP at once. An honest node
	// opens one per sync_interval (60 s), a few in a row after connecting.
	generalRatePerIP  = 1.0
	generalBurstPerIP = 4
	// maxRateBuckets bounds the addresses whose opening rate is tracked;
	// over it, addresses with a full allowance are forgotten.
	maxRateBuckets = 4096
	// syncGoodScore is the gossipsub score (PROTOCOL.md 8.5) from which a
	// peer counts as well scored: about eight minutes in this node's mesh
	// with nothing invalid (time in mesh alone reaches 10 after 17
	// minutes), or recent first deliveries of new announcements. A mesh
	// holds at most a dozen peers, so identities cannot buy this class in
	// bulk.
	syncGoodScore = 5.0
	// stalledIdle is how long a session that has finished a message may go
	// without progress (a frame read, a chunk written, a message answered)
	// before a newcomer of its class may evict it. Twice the 2 s an honest
	// peer took, on a loaded two-core machine, to verify and store 4,096
	// envelopes, half of syncFrameTimeout.
	stalledIdle = 5 * time.Second
	// samePeerWait is how long a peer's new session waits for its previous
	// one to be released (the peer may end its side a moment before this
	// side does) before being refused.
	samePeerWait = 2 * time.Second
	// syncStreamHeadroom is how many inbound sync streams the resource
	// manager lets in beyond maxInboundSessions (host.go): a stream must
	// reach admission to evict anyone, so the resource manager must not
	// refuse it first.
	syncStreamHeadroom = 16
)

// admitClass ranks inbound sessions; a higher class may evict a lower one.
type admitClass uint8

const (
	classGeneral admitClass = iota
	classScored
	classDialled
	classAllowed
	numClasses
)

// classNames are the metric labels of the classes.
var classNames = [numClasses]string{"general", "scored", "dialled", "allowlisted"}

// admitOutcome is what admission did to a session other than admit it.
type admitOutcome uint8

const (
	refusedFull admitOutcome = iota
	refusedPerIP
	refusedRate
	refusedPeerBusy
	evictedLowerClass
	evictedNoMessage
	evictedIdle
	timedOutFirstMessage
	timedOutFrame
	numOutcomes
)

// outcomeLabels are the metric labels (action, reason) of the outcomes.
var outcomeLabels = [numOutcomes][2]string{
	refusedFull:          {"refused", "full"},
	refusedPerIP:         {"refused", "per_ip"},
	refusedRate:          {"refused", "rate"},
	refusedPeerBusy:      {"refused", "peer_busy"},
	evictedLowerClass:    {"evicted", "lower_class"},
	evictedNoMessage:     {"evicted", "no_message"},
	evictedIdle:          {"evicted", "idle"},
	timedOutFirstMessage: {"timed_out", "first_message"},
	timedOutFrame:        {"timed_out", "frame"},
}

// inboundSession is one admitted inbound session. Its session goroutine
// reports progress; admission reads it when choosing whom to evict.
type inboundSession struct {
	peer   peer.ID
	class  admitClass
	bucket string
	since  time.Duration // admitted, on the admission's clock
	cut    func()        // resets the stream; called at most once
	done   chan struct{} // closed on release

	last   atomic.Int64 // time.Duration of the last progress
	proven atomic.Bool  // a whole message has arrived after HELLO
	a      *admission
}

// progress records that the session moved. Safe on a nil receiver (an
// outbound session has no slot).
func (in *inboundSession) progress() {
	if in != nil {
		in.last.Store(int64(in.a.clock()))
	}
}

// message records that a whole message arrived.
func (in *inboundSession) message() {
	if in != nil {
		in.proven.Store(true)
		in.progress()
	}
}

// stalled reports whether a newcomer of the same class may evict in.
func (in *inboundSession) stalled(now time.Duration) bool {
	return !in.proven.Load() || now-time.Duration(in.last.Load()) >= stalledIdle
}

// rateBucket is a token bucket of general sessions for one address.
type rateBucket struct {
	tokens float64
	at     time.Duration
}

// admission decides which inbound sync sessions run. Safe for concurrent
// use.
type admission struct {
	log   *slog.Logger
	clock func() time.Duration
	// outcomes count refusals, evictions and time-outs by admitOutcome.
	outcomes [numOutcomes]atomic.Uint64
	wg       sync.WaitGroup

	// mu guards every field below.
	mu       sync.Mutex
	sessions map[*inboundSession]struct{}
	byPeer   map[peer.ID]*inboundSession
	perIP    map[string]int
	general  int
	rates    map[string]*rateBucket
	lastWarn time.Duration
	warned   bool
	closed   bool
}

func newAdmission(log *slog.Logger) *admission {
	epoch := time.Now()
	return &admission{
		log: log, clock: func() time.Duration { return time.Since(epoch) },
		sessions: map[*inboundSession]struct{}{}, byPeer: map[peer.ID]*inboundSession{},
		perIP: map[string]int{}, rates: map[string]*rateBucket{},
	}
}

// admitInbound classifies the peer of a new inbound sync stream and asks
// admission for a slot. On success the caller must release the slot when
// the session ends; on failure it resets the stream.
func (n *Node) admitInbound(s network.Stream) (*inboundSession, bool) {
	p := s.Conn().RemotePeer()
	class := classGeneral
	switch {
	case n.sched.allowed[p]:
		class = classAllowed
	case n.sched.dialed(p):
		class = classDialled
	case n.PeerScores()[p] >= syncGoodScore:
		class = classScored
	}
	return n.sched.adm.admit(n.ctx, p, class, ipBucket(s.Conn().RemoteMultiaddr()), func() { s.Reset() })
}

// ipBucket names the address a connection comes from: the IPv4 address,
// or the /64 of an IPv6 address (one host or LAN usually holds a whole
// /64). Addresses without an IP share the bucket "unknown".
func ipBucket(a ma.Multiaddr) string {
	ip, err := manet.ToIP(a)
	if err != nil {
		return "unknown"
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// admit finds p a slot, evicting a stalled session if need be, and returns
// it. cut resets the new session's stream if it is evicted later.
func (a *admission) admit(ctx context.Context, p peer.ID, class admitClass, bucket string, cut func()) (*inboundSession, bool) {
	var wait *time.Timer
	defer func() {
		if wait != nil {
			wait.Stop()
		}
	}()
	for {
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			return nil, false
		}
		if prev := a.byPeer[p]; prev != nil {
			a.mu.Unlock()
			if wait == nil {
				wait = time.NewTimer(samePeerWait)
			}
			select {
			case <-prev.done:
				continue
			case <-wait.C:
				a.refuse(p, class, bucket, refusedPeerBusy)
			case <-ctx.Done():
			}
			return nil, false
		}
		now := a.clock()
		victim, outcome, ok := a.choose(now, class, bucket)
		if !ok {
			a.mu.Unlock()
			a.refuse(p, class, bucket, outcome)
			return nil, false
		}
		if victim != nil {
			a.remove(victim)
			a.outcomes[outcome].Add(1)
			a.warn(now)
		}
		in := &inboundSession{peer: p, class: class, bucket: bucket, since: now, cut: cut, done: make(chan struct{}), a: a}
		in.last.Store(int64(now))
		a.sessions[in] = struct{}{}
		a.byPeer[p] = in
		if class == classGeneral {
			a.general++
			a.perIP[bucket]++
		}
		a.wg.Add(1)
		a.mu.Unlock()
		if victim != nil {
			a.log.Debug("Evicted an inbound sync session for a newcomer.", "peer", victim.peer, "class", classNames[victim.class],
				"address", victim.bucket, "reason", outcomeLabels[outcome][1], "newcomer", p, "newcomer_class", classNames[class])
			victim.cut()
		}
		return in, true
	}
}

// remove takes in out of the accounting. a.mu is held.
func (a *admission) remove(in *inboundSession) {
	if _, ok := a.sessions[in]; !ok {
		return
	}
	delete(a.sessions, in)
	if a.byPeer[in.peer] == in {
		delete(a.byPeer, in.peer)
	}
	if in.class == classGeneral {
		a.general--
		if a.perIP[in.bucket]--; a.perIP[in.bucket] == 0 {
			delete(a.perIP, in.bucket)
		}
	}
}

// release frees in's slot (if it was not evicted) when its session ends.
func (a *admission) release(in *inboundSession) {
	a.mu.Lock()
	a.remove(in)
	a.mu.Unlock()
	close(in.done)
	a.wg.Done()
}

// timedOut counts a session cut by a deadline.
func (a *admission) timedOut(in *inboundSession) {
	o := timedOutFrame
	if !in.proven.Load() {
		o = timedOutFirstMessage
	}
	a.outcomes[o].Add(1)
	a.log.Debug("Cut an inbound sync session that stopped sending.", "peer", in.peer, "class", classNames[in.class], "reason", outcomeLabels[o][1])
}

func (a *admission) refuse(p peer.ID, class admitClass, bucket string, o admitOutcome) {
	a.outcomes[o].Add(1)
	a.log.Debug("Refused an inbound sync session.", "peer", p, "class", classNames[class], "address", bucket, "reason", outcomeLabels[o][1])
	a.mu.Lock()
	a.warn(a.clock())
	a.mu.Unlock()
}

// warn logs, at most once a minute, that slots are contested. a.mu is held.
func (a *admission) warn(now time.Duration) {
	if a.warned && now-a.lastWarn < time.Minute {
		return
	}
	a.warned, a.lastWarn = true, now
	var counts []any
	for o := range numOutcomes {
		if v := a.outcomes[o].Load(); v > 0 {
			counts = append(counts, outcomeLabels[o][0]+"_"+outcomeLabels[o][1], v)
		}
	}
	a.log.Warn("Inbound sync slots are contested: refusing or evicting sessions that make no progress.",
		append([]any{"sessions", len(a.sessions), "general", a.general}, counts...)...)
}

// inboundByClass counts the sessions being served, by class.
func (a *admission) inboundByClass() [numClasses]int {
	var out [numClasses]int
	a.mu.Lock()
	for s := range a.sessions {
		out[s.class]++
	}
	a.mu.Unlock()
	return out
}

// close refuses new sessions and waits for the admitted ones to end; the
// node's context must be cancelled first.
func (a *admission) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.wg.Wait()
}

// counts lists the non-zero outcome counters, for logs and tests.
func (a *admission) counts() map[string]uint64 {
	out := map[string]uint64{}
	for o := range numOutcomes {
		if v := a.outcomes[o].Load(); v > 0 {
			out[outcomeLabels[o][0]+"_"+outcomeLabels[o][1]] = v
		}
	}
	return out
}
