package node

import (
	"fmt"
	"strings"

	ma "github.com/multiformats/go-multiaddr"
)

// Values of the Reach settings.
const (
	// ModeAuto lets the node decide: reachability and relay_service
	// follow AutoNAT, dht is a server unless AutoNAT says private.
	ModeAuto = "auto"
	// ModeOn offers the relay service whatever AutoNAT says.
	ModeOn = "on"
	// ModeOff turns the relay service, or the DHT, off.
	ModeOff = "off"
	// ReachPublic tells the node it is publicly reachable, without asking.
	ReachPublic = "public"
	// ReachPrivate tells the node it is not reachable from outside (behind
	// a NAT or a firewall), without asking.
	ReachPrivate = "private"
	// DHTServer answers other nodes' DHT queries and holds records.
	DHTServer = "server"
	// DHTClient queries the DHT but answers nobody's queries.
	DHTClient = "client"
)

// Reach configures how the node is reached and how it finds peers beyond
// its bootstrap list (reach.go, dht.go, PROTOCOL.md 10). DefaultReach
// documents every default.
type Reach struct {
	// Reachability is ModeAuto (default: AutoNAT finds out), ReachPublic
	// or ReachPrivate (the operator knows: AutoNAT is not asked). AutoNAT
	// only tests public addresses, so a node whose network uses only
	// private address ranges stays "unknown" unless told.
	Reachability string `yaml:"reachability"`
	// RelayService is ModeAuto (default: offer circuit relay v2 to the
	// network's peers while AutoNAT says the node is public), ModeOn
	// (always) or ModeOff (never).
	RelayService string `yaml:"relay_service"`
	// HolePunching turns DCUtR on (default true): a relayed connection
	// is upgraded to a direct one when both NATs allow it.
	HolePunching bool `yaml:"hole_punching"`
	// DHT is the mode of the network's private DHT: ModeAuto (default:
	// server unless AutoNAT says the node is private), DHTServer,
	// DHTClient or ModeOff (no DHT: no lookup by peer ID, no
	// rendezvous).
	DHT string `yaml:"dht"`
	// Announce, when not empty, replaces the direct addresses the node
	// announces (identify, the DHT, mDNS) with these multiaddrs (without
	// /p2p/): for a node behind a port forward or a load balancer whose
	// public address the node cannot see. Relay addresses are announced
	// as well. Default empty: announce what the node listens on and what
	// peers observe.
	Announce []string `yaml:"announce"`
}

// DefaultReach returns the reachability defaults: AutoNAT decides the
// reachability, a public node relays, hole punching on, the DHT in auto
// mode, no announce override.
func DefaultReach() Reach {
	return Reach{Reachability: ModeAuto, RelayService: ModeAuto, HolePunching: true, DHT: ModeAuto}
}

// validate checks the reachability keys and returns the first problem,
// naming the key and the values it takes.
func (r *Reach) validate() error {
	oneOf := func(key, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("%s: %q is not one of %s", key, v, strings.Join(allowed, ", "))
	}
	if err := oneOf("reachability", r.Reachability, ModeAuto, ReachPublic, ReachPrivate); err != nil {
		return err
	}
	if err := oneOf("relay_service", r.RelayService, ModeAuto, ModeOn, ModeOff); err != nil {
		return err
	}
	if err := oneOf("dht", r.DHT, ModeAuto, DHTServer, DHTClient, ModeOff); err != nil {
		return err
	}
	_, err := r.announceAddrs()
	return err
}

// announceAddrs parses Announce.
func (r *Reach) announceAddrs() ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(r.Announce))
	for _, s := range r.Announce {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("announce: %q is not a multiaddr (%v); write e.g. /ip4/203.0.113.7/tcp/%d", s, err, DefaultPort)
		}
		if _, err := a.ValueForProtocol(ma.P_P2P); err == nil {
			return nil, fmt.Errorf("announce: %q ends in /p2p/<peer ID>; give the address without it", s)
		}
		if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
			return nil, fmt.Errorf("announce: %q is a relay address; relay addresses are announced by themselves", s)
		}
		out = append(out, a)
	}
	return out, nil
}
