package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/khantara/khantara/api"
)

// addReach writes status's lines on how the node is reached.
func addReach(f fields, r *api.Reach, now time.Time) {
	f.add("Reachability", reachabilityText(r))
	f.add("NAT type", fmt.Sprintf("TCP %s, UDP %s", r.NATTCP, r.NATUDP))
	relay := "off"
	switch {
	case r.Relaying:
		relay = "offered to the network's peers"
	case r.RelayService == "auto":
		relay = "not offered (auto: only while public)"
	}
	f.add("Relay service", relay)
	if len(r.Reservations) == 0 {
		f.add("Relayed through", "no relay (none needed while public; else none found yet)")
	}
	for _, res := range r.Reservations {
		where := "no circuit address announced: the relay has no public address"
		if len(res.Addrs) > 0 {
			where = res.Addrs[0]
		}
		f.add("Relayed through", fmt.Sprintf("%s, reserved %s (%s)", res.Relay, agoShort(res.Since, now), where))
	}
	f.add("Connections", fmt.Sprintf("%d direct, %d relayed", r.Connections.Direct, r.Connections.Relayed))
	hp := r.HolePunches
	punch := "off"
	if r.HolePunching {
		punch = fmt.Sprintf("%d attempted, %d succeeded, %d failed; %d direct dials (%d failed)",
			hp.Attempts, hp.Successes, hp.Failures, hp.DirectDials, hp.DirectDialFailures)
	}
	f.add("Hole punching", punch)
	f.add("DHT", dhtText(r.DHT, now))
}

// reachabilityText is "private (AutoNAT)" or "public (set in the config)",
// with the addresses AutoNAT v2 confirmed.
func reachabilityText(r *api.Reach) string {
	how := "AutoNAT"
	switch {
	case r.Forced:
		how = "set by the reachability setting"
	case r.DecidedBy == "autonat-v2":
		how = "AutoNAT v2: an address was dialled back"
	}
	s := fmt.Sprintf("%s (%s)", r.Reachability, how)
	if len(r.ReachableAddrs) > 0 {
		s += "; reachable at " + strings.Join(r.ReachableAddrs, ", ")
	}
	if r.Reachability == "private" && len(r.Reservations) == 0 {
		s += "; peers cannot dial in until a relay reservation is held (README: Reachability)"
	}
	return s
}

// dhtText is status's line on the DHT.
func dhtText(d api.DHT, now time.Time) string {
	if d.Mode == "off" {
		return "off (dht: off): no lookup by peer ID, no rendezvous"
	}
	s := fmt.Sprintf("%s (dht: %s), %d peers in the routing table, %d lookups by ID (%d found)",
		d.Mode, d.Configured, d.RoutingTable, d.Lookups, d.Found)
	if d.LastRendezvous != nil {
		s += fmt.Sprintf("; rendezvous %s found %d members", agoShort(*d.LastRendezvous, now), d.Members)
	}
	return s
}
