package node

import (
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// What status and the metrics show of how the node is reached: the
// monitor's state read out (reach.go).

// Reservation is a relay slot this node holds: other nodes reach it
// through Relay at Addrs.
type Reservation struct {
	Relay peer.ID
	// Addrs are the circuit addresses announced through this relay:
	// none when the relay has no public address (autorelay announces
	// only public ones).
	Addrs []string
	// Since is when this node first announced the relay's addresses.
	// go-libp2p's autorelay does not expose a reservation's expiry; it
	// renews each one two minutes before it ends (Khantara relays grant
	// an hour).
	Since time.Time
}

// HolePunches counts hole punches (DCUtR) since the node started.
type HolePunches struct {
	// Attempts counts hole punches started, each of up to three tries;
	// Successes and Failures how they ended.
	Attempts, Successes, Failures uint64
	// DirectDials and DirectDialFailures count connection reversals: a
	// direct dial tried before punching, which succeeds when the other
	// side is publicly reachable.
	DirectDials, DirectDialFailures uint64
}

// ReachStatus is how the node is reached, as it knows it now.
type ReachStatus struct {
	// Reachability is "public", "private" or "unknown" (AutoNAT's
	// verdict, or the one the configuration forces).
	Reachability string
	// Forced is true when Config.Reach.Reachability set it.
	Forced bool
	// DecidedBy is where Reachability comes from: DecidedByConfig,
	// DecidedByAutoNAT (v1's dial-backs, or undecided) or
	// DecidedByAutoNATv2 (addresses v2 confirmed while v1 had no
	// verdict).
	DecidedBy string
	// NATTCP and NATUDP are the NAT's mapping behaviour, from identify's
	// observed addresses: "endpoint-independent" (hole punching works),
	// "endpoint-dependent" (it rarely does) or "unknown".
	NATTCP, NATUDP string
	// Reachable and Unreachable are the addresses AutoNAT v2 confirmed
	// reachable or unreachable from outside.
	Reachable, Unreachable []string
	// RelayService is the configured mode; Relaying says whether the
	// node offers the relay service now.
	RelayService string
	Relaying     bool
	// HolePunching says whether DCUtR runs.
	HolePunching bool
	// Reservations are the relays this node holds a slot with.
	Reservations []Reservation
	// Direct and Relayed count open connections by kind.
	Direct, Relayed int
	// HolePunches counts hole punches since start.
	HolePunches HolePunches
	// DHT is the network's DHT as this node runs it.
	DHT DHTStatus
}

// natName is the status's name of a NAT type.
func natName(t network.NATDeviceType) string {
	switch t {
	case network.NATDeviceTypeEndpointIndependent:
		return "endpoint-independent"
	case network.NATDeviceTypeEndpointDependent:
		return "endpoint-dependent"
	}
	return "unknown"
}

// reachabilityName is the status's name of a reachability.
func reachabilityName(r network.Reachability) string {
	switch r {
	case network.ReachabilityPublic:
		return ReachPublic
	case network.ReachabilityPrivate:
		return ReachPrivate
	}
	return "unknown"
}

// status reads the monitor. The caller adds the DHT.
func (r *reach) status() ReachStatus {
	st := ReachStatus{
		Forced: r.cfg.Reachability != ModeAuto, RelayService: r.cfg.RelayService, HolePunching: r.cfg.HolePunching,
		HolePunches: HolePunches{
			Attempts: r.punchStarts.Load(), Successes: r.punchSuccess.Load(), Failures: r.punchFailure.Load(),
			DirectDials: r.directOK.Load() + r.directFail.Load(), DirectDialFailures: r.directFail.Load(),
		},
		Reachable: []string{}, Unreachable: []string{}, Reservations: []Reservation{},
	}
	if r.h() != nil {
		r.refreshRelays(time.Now())
	}
	r.mu.Lock()
	reach := r.reachability
	st.Reachability = reachabilityName(reach)
	st.DecidedBy = r.decidedBy
	natTCP, natUDP := r.natTCP, r.natUDP
	if natTCP == network.NATDeviceTypeUnknown {
		natTCP = r.observed.natType(ma.P_TCP)
	}
	if natUDP == network.NATDeviceTypeUnknown {
		natUDP = r.observed.natType(ma.P_UDP)
	}
	st.NATTCP, st.NATUDP = natName(natTCP), natName(natUDP)
	for _, a := range r.reachable {
		st.Reachable = append(st.Reachable, a.String())
	}
	for _, a := range r.unreachable {
		st.Unreachable = append(st.Unreachable, a.String())
	}
	for _, res := range r.relays {
		out := Reservation{Relay: res.Relay, Addrs: []string{}, Since: res.Since}
		for _, a := range r.circuits {
			if relay, ok := circuitRelay(a); ok && relay == res.Relay {
				out.Addrs = append(out.Addrs, a.String())
			}
		}
		st.Reservations = append(st.Reservations, out)
	}
	r.mu.Unlock()
	slices.SortFunc(st.Reservations, func(a, b Reservation) int { return strings.Compare(a.Relay.String(), b.Relay.String()) })
	switch r.cfg.RelayService {
	case ModeOn:
		st.Relaying = true
	case ModeAuto:
		st.Relaying = reach == network.ReachabilityPublic
	}
	if r.h() != nil {
		for _, c := range r.h().Network().Conns() {
			if isRelayed(c) {
				st.Relayed++
			} else {
				st.Direct++
			}
		}
	}
	return st
}

// ReachStatus returns how the node is reached now, with its DHT. Safe for
// concurrent use.
func (n *Node) ReachStatus() ReachStatus {
	st := n.reach.status()
	st.DHT = n.dht.status(n.cfg.DHT)
	return st
}
