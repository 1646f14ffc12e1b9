package node

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	ma "github.com/multiformats/go-multiaddr"
)

// How the node learns and shows how it is reached: the reach monitor
// follows the host's event bus (AutoNAT's verdict, AutoNAT v2's confirmed
// addresses, the NAT type from identify's observed addresses, the relay
// addresses autorelay announces) and counts hole punches (a holepunch
// tracer); it also chooses relay candidates for autorelay and decides
// whom this node relays for. host.go turns Config.Reach into libp2p
// options; ReachStatus is what status and the metrics show.

// agentPrefix is the identify agent of Khantara nodes (host.go sets
// "khantara"). The relay service serves only peers that identify with it.
const agentPrefix = "khantara"

// memberWait bounds how long the relay waits for a peer's identify before
// it judges a reservation or a circuit.
const memberWait = 5 * time.Second

// reach is a node's reachability monitor. Its methods are safe for
// concurrent use.
type reach struct {
	cfg Reach
	// log is the node's logger (a discarding one until the node sets it).
	log *slog.Logger
	// hp is the host, set by subscribe once libp2p.New returned (autorelay
	// may ask peerSource for candidates before); h reads it.
	hp atomic.Pointer[host.Host]
	// candidates returns the relay candidates of the address book; nil
	// until the node's store is open (setCandidates).
	candidates atomic.Pointer[func(ctx context.Context, num int) []peer.AddrInfo]

	// hole punches: attempts counts punches started (each may try up to
	// three times), success and failure their ends, direct dials the
	// connection reversals tried before punching.
	punchStarts, punchSuccess, punchFailure, directOK, directFail atomic.Uint64

	// mu guards the fields below it, which the monitor's loop writes.
	mu           sync.Mutex
	reachability network.Reachability
	natTCP       network.NATDeviceType
	natUDP       network.NATDeviceType
	reachable    []ma.Multiaddr
	unreachable  []ma.Multiaddr
	// relays are the relays this node holds a reservation with, and
	// when each was first seen (refreshRelays); circuits the relay
	// addresses autorelay announces.
	relays   map[peer.ID]*Reservation
	circuits []ma.Multiaddr
	// decidedBy is where reachability came from (DecidedBy*).
	decidedBy string

	// emitter and v1 are set by openVerdict (reach_verdict.go) in
	// reachability auto: the emitter of the v2 verdict and AutoNAT v1's
	// status. Written once before run.
	emitter event.Emitter
	v1      func() network.Reachability

	// observed are the node's addresses as public peers see them
	// (reach_observed.go).
	observed observations
}

func newReach(cfg Reach) *reach {
	r := &reach{cfg: cfg, log: slog.New(slog.DiscardHandler), relays: map[peer.ID]*Reservation{}, decidedBy: DecidedByAutoNAT}
	if cfg.Reachability != ModeAuto {
		r.decidedBy = DecidedByConfig
	}
	switch cfg.Reachability {
	case ReachPublic:
		r.reachability = network.ReachabilityPublic
	case ReachPrivate:
		r.reachability = network.ReachabilityPrivate
	}
	return r
}

// subscribe subscribes to the events the monitor follows. Call it once the
// host is built, before the node starts dialling.
func (r *reach) subscribe(h host.Host) (event.Subscription, error) {
	r.hp.Store(&h)
	sub, err := h.EventBus().Subscribe([]any{
		new(event.EvtLocalReachabilityChanged), new(event.EvtNATDeviceTypeChanged),
		new(event.EvtHostReachableAddrsChanged), new(event.EvtAutoRelayAddrsUpdated),
		new(event.EvtPeerIdentificationCompleted),
	}, eventbus.BufSize(verdictBuf))
	if err != nil {
		return nil, fmt.Errorf("watch reachability: %w", err)
	}
	if err := r.openVerdict(h); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// h returns the host, nil before subscribe.
func (r *reach) h() host.Host {
	if p := r.hp.Load(); p != nil {
		return *p
	}
	return nil
}

// run follows the events of sub until ctx ends. It returns nil when ctx
// ends, an error if the subscription ends under it.
func (r *reach) run(ctx context.Context, sub event.Subscription) error {
	defer sub.Close()
	defer r.closeVerdict()
	tick := time.NewTicker(relayCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			r.refreshRelays(time.Now())
		case ev, ok := <-sub.Out():
			if !ok {
				return errEventsEnded
			}
			r.apply(ev)
			r.decide()
		}
	}
}

// apply records one event.
func (r *reach) apply(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case event.EvtLocalReachabilityChanged:
		r.reachability = e.Reachability
	case event.EvtNATDeviceTypeChanged:
		if e.TransportProtocol == network.NATTransportUDP {
			r.natUDP = e.NatDeviceType
		} else {
			r.natTCP = e.NatDeviceType
		}
	case event.EvtHostReachableAddrsChanged:
		r.reachable, r.unreachable = slices.Clone(e.Reachable), slices.Clone(e.Unreachable)
	case event.EvtAutoRelayAddrsUpdated:
		r.circuits = slices.Clone(e.RelayAddrs)
	case event.EvtPeerIdentificationCompleted:
		r.observed.observe(e)
	}
}

// autorelayTag is the tag go-libp2p's autorelay protects the connection
// to each relay it holds a reservation with by (relay_finder.go): the
// reservations are read from the connection manager, since autorelay
// announces circuit addresses only through relays with public addresses.
const autorelayTag = "autorelay"

// relayCheck is how often the monitor reads the reservations, so Since is
// right within it.
const relayCheck = 10 * time.Second

// refreshRelays records the relays autorelay holds a reservation with,
// keeping the time each was first seen.
func (r *reach) refreshRelays(now time.Time) {
	current := map[peer.ID]bool{}
	cm := r.h().ConnManager()
	for _, p := range r.h().Network().Peers() {
		if cm.IsProtected(p, autorelayTag) {
			current[p] = true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range current {
		if r.relays[p] == nil {
			r.relays[p] = &Reservation{Relay: p, Since: now}
		}
	}
	for p := range r.relays {
		if !current[p] {
			delete(r.relays, p)
		}
	}
}

// circuitRelay returns the relay of a circuit address
// (.../p2p/RELAY/p2p-circuit[/p2p/TARGET]).
func circuitRelay(a ma.Multiaddr) (peer.ID, bool) {
	var relay peer.ID
	found := false
	for _, c := range a {
		switch c.Code() {
		case ma.P_P2P:
			if !found {
				id, err := peer.Decode(c.Value())
				if err != nil {
					return "", false
				}
				relay = id
			}
		case ma.P_CIRCUIT:
			found = true
		}
	}
	return relay, found && relay != ""
}

// isRelayed reports whether c runs through a relay.
func isRelayed(c network.Conn) bool {
	_, err := c.RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// Trace counts the hole punches the holepunch service reports. It
// implements holepunch.EventTracer.
func (r *reach) Trace(evt *holepunch.Event) {
	switch e := evt.Evt.(type) {
	case *holepunch.StartHolePunchEvt:
		r.punchStarts.Add(1)
		r.log.Debug("Hole punch started.", "peer", evt.Remote, "addrs", e.RemoteAddrs)
	case *holepunch.EndHolePunchEvt:
		if e.Success {
			r.punchSuccess.Add(1)
		} else {
			r.punchFailure.Add(1)
		}
		r.log.Debug("Hole punch ended.", "peer", evt.Remote, "success", e.Success, "err", e.Error)
	case *holepunch.DirectDialEvt:
		if e.Success {
			r.directOK.Add(1)
		} else {
			r.directFail.Add(1)
		}
	}
}

// member reports whether p identified as a Khantara node, waiting up to
// memberWait for identify on its connections. The relay serves only such
// peers: a relay is offered to the network, not to every libp2p node.
func (r *reach) member(p peer.ID) bool {
	if r.isKhantara(p) {
		return true
	}
	ids, ok := r.h().(interface{ IDService() identify.IDService })
	if !ok {
		return false
	}
	timeout := time.NewTimer(memberWait)
	defer timeout.Stop()
	for _, c := range r.h().Network().ConnsToPeer(p) {
		select {
		case <-ids.IDService().IdentifyWait(c):
		case <-timeout.C:
			return false
		}
		if r.isKhantara(p) {
			return true
		}
	}
	return false
}

func (r *reach) isKhantara(p peer.ID) bool {
	v, err := r.h().Peerstore().Get(p, "AgentVersion")
	s, _ := v.(string)
	return err == nil && strings.HasPrefix(s, agentPrefix)
}

// AllowReserve lets a peer of the network reserve a relay slot
// (relay.ACLFilter).
func (r *reach) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return r.member(p) }

// AllowConnect lets a peer of the network open a circuit to one that
// holds a reservation (relay.ACLFilter).
func (r *reach) AllowConnect(src peer.ID, _ ma.Multiaddr, _ peer.ID) bool { return r.member(src) }

// relayHop is the circuit relay v2 hop protocol, which relays serve.
const relayHop = "/libp2p/circuit/relay/0.2.0/hop"

// peerSource gives autorelay up to num relay candidates: first the
// connected peers that serve the hop protocol, then the most recently
// seen peers of the address book. Candidates are members of the network
// the node already knows: the public IPFS network is never asked.
func (r *reach) peerSource(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, max(num, 0))
	defer close(out)
	if r.h() == nil {
		return out // autorelay asks again after autorelayInterval
	}
	seen := map[peer.ID]bool{r.h().ID(): true}
	add := func(ai peer.AddrInfo) {
		if len(out) < cap(out) && !seen[ai.ID] {
			seen[ai.ID] = true
			out <- ai
		}
	}
	for _, p := range r.h().Network().Peers() {
		if ok, _ := r.h().Peerstore().SupportsProtocols(p, relayHop); len(ok) > 0 {
			add(peer.AddrInfo{ID: p, Addrs: r.h().Peerstore().Addrs(p)})
		}
	}
	if f := r.candidates.Load(); f != nil {
		for _, ai := range (*f)(ctx, num) {
			add(ai)
		}
	}
	return out
}
