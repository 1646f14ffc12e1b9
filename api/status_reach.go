package api

import (
	"time"

	"github.com/khantara/khantara/node"
)

// Reach is how the node is reached (GET /api/v1/status, "reach"): AutoNAT's
// verdict, the NAT type, relays both ways, connections by kind, hole
// punches and the network's DHT. API.md documents every field.
type Reach struct {
	// Reachability is "public", "private" or "unknown"; Forced is true
	// when the configuration set it instead of AutoNAT.
	Reachability string `json:"reachability"`
	Forced       bool   `json:"forced"`
	// DecidedBy is where Reachability comes from: "config" (forced),
	// "autonat" (AutoNAT v1's dial-backs, or nothing decided yet) or
	// "autonat-v2" (addresses AutoNAT v2 confirmed while v1 had no
	// verdict).
	DecidedBy string `json:"decided_by"`
	// NATTCP and NATUDP are the NAT's mapping type per transport:
	// "endpoint-independent" (hole punching works), "endpoint-dependent"
	// (it rarely does) or "unknown".
	NATTCP string `json:"nat_tcp"`
	NATUDP string `json:"nat_udp"`
	// ReachableAddrs and UnreachableAddrs are the addresses AutoNAT v2
	// confirmed reachable, or unreachable, from outside.
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
	// RelayService is the relay_service setting (auto, on, off);
	// Relaying is whether this node offers the relay service now.
	RelayService string `json:"relay_service"`
	Relaying     bool   `json:"relaying"`
	// HolePunching is the hole_punching setting.
	HolePunching bool `json:"hole_punching"`
	// Reservations are the relays this node holds a slot with.
	Reservations []Reservation `json:"reservations"`
	// Connections counts open connections by kind.
	Connections Connections `json:"connections"`
	// HolePunches counts hole punches since start.
	HolePunches HolePunches `json:"hole_punches"`
	// DHT is the network's DHT as this node runs it.
	DHT DHT `json:"dht"`
}

// Reservation is a relay slot: other nodes reach this one through Relay.
type Reservation struct {
	Relay string `json:"relay"`
	// Addrs are the circuit addresses announced through the relay (none
	// when the relay has no public address).
	Addrs []string `json:"addrs"`
	// Since is when the node first held it. Its expiry is not exposed by
	// go-libp2p's autorelay, which renews it before it ends.
	Since time.Time `json:"since"`
}

// Connections counts open connections: direct ones, and relayed ones
// through a circuit relay.
type Connections struct {
	Direct  int `json:"direct"`
	Relayed int `json:"relayed"`
}

// HolePunches counts hole punches (DCUtR): attempts started, how they
// ended, and the direct dials (connection reversal) tried before.
type HolePunches struct {
	Attempts           uint64 `json:"attempts"`
	Successes          uint64 `json:"successes"`
	Failures           uint64 `json:"failures"`
	DirectDials        uint64 `json:"direct_dials"`
	DirectDialFailures uint64 `json:"direct_dial_failures"`
}

// DHT is the network's DHT: Mode is what it runs as now (server, client
// or off), Configured the dht setting.
type DHT struct {
	Mode         string `json:"mode"`
	Configured   string `json:"configured"`
	RoutingTable int    `json:"routing_table"`
	// Lookups counts peer lookups by ID, Found those that gave addresses.
	Lookups uint64 `json:"lookups"`
	Found   uint64 `json:"found"`
	// Rendezvous counts rendezvous rounds; Members is how many other
	// members the last one found, LastRendezvous when it ran.
	Rendezvous     uint64     `json:"rendezvous"`
	Members        int        `json:"members"`
	LastRendezvous *time.Time `json:"last_rendezvous,omitempty"`
}

// reachOf is the status's reach section.
func reachOf(st node.ReachStatus) *Reach {
	out := &Reach{
		Reachability: st.Reachability, Forced: st.Forced, DecidedBy: st.DecidedBy, NATTCP: st.NATTCP, NATUDP: st.NATUDP,
		ReachableAddrs: st.Reachable, UnreachableAddrs: st.Unreachable,
		RelayService: st.RelayService, Relaying: st.Relaying, HolePunching: st.HolePunching,
		Reservations: []Reservation{},
		Connections:  Connections{Direct: st.Direct, Relayed: st.Relayed},
		HolePunches: HolePunches{Attempts: st.HolePunches.Attempts, Successes: st.HolePunches.Successes,
			Failures: st.HolePunches.Failures, DirectDials: st.HolePunches.DirectDials, DirectDialFailures: st.HolePunches.DirectDialFailures},
		DHT: DHT{Mode: st.DHT.Mode, Configured: st.DHT.Configured, RoutingTable: st.DHT.RoutingTable,
			Lookups: st.DHT.Lookups, Found: st.DHT.Found, Rendezvous: st.DHT.Rendezvous, Members: st.DHT.Providers},
	}
	if !st.DHT.LastRendezvous.IsZero() {
		t := st.DHT.LastRendezvous
		out.DHT.LastRendezvous = &t
	}
	for _, r := range st.Reservations {
		out.Reservations = append(out.Reservations, Reservation{Relay: r.Relay.String(), Addrs: r.Addrs, Since: r.Since.UTC()})
	}
	return out
}
