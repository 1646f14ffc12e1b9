package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
)

// status tells a private node how it is connected: through which relay,
// how many links are relayed, what hole punching did, and the DHT.
func TestStatusShowsReachability(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	last := now.Add(-2 * time.Minute)
	r := &api.Reach{Reachability: "private", NATTCP: "endpoint-independent", NATUDP: "unknown", RelayService: "auto", HolePunching: true,
		Reservations: []api.Reservation{{Relay: "12D3KooWRelayAbcdefgh", Addrs: []string{"/ip4/198.51.100.9/tcp/7117/p2p/12D3KooWRelayAbcdefgh/p2p-circuit"}, Since: now.Add(-time.Hour)}},
		Connections:  api.Connections{Direct: 3, Relayed: 1},
		HolePunches:  api.HolePunches{Attempts: 4, Successes: 3, Failures: 1, DirectDials: 2, DirectDialFailures: 2},
		DHT:          api.DHT{Mode: "client", Configured: "auto", RoutingTable: 5, Lookups: 2, Found: 1, LastRendezvous: &last, Members: 6}}
	var b bytes.Buffer
	printStatus(&b, api.Status{PeerID: "12D3KooWSelf", Reach: r}, now, 200)
	for _, want := range []string{
		"Reachability:      private (AutoNAT)\n",
		"NAT type:          TCP endpoint-independent, UDP unknown\n",
		"Relay service:     not offered (auto: only while public)\n",
		"Relayed through:   12D3KooWRelayAbcdefgh, reserved 1 hour ago (/ip4/198.51.100.9/tcp/7117/p2p/12D3KooWRelayAbcdefgh/p2p-circuit)\n",
		"Connections:       3 direct, 1 relayed\n",
		"Hole punching:     4 attempted, 3 succeeded, 1 failed; 2 direct dials (2 failed)\n",
		"DHT:               client (dht: auto), 5 peers in the routing table, 2 lookups by ID (1 found); rendezvous 2 minutes ago found 6 members\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	r.Reservations, r.Forced = nil, true
	b.Reset()
	printStatus(&b, api.Status{PeerID: "12D3KooWSelf", Reach: r}, now, 200)
	if want := "private (set by the reachability setting); peers cannot dial in until a relay reservation is held"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
	r.Reachability, r.Forced, r.DecidedBy = "public", false, "autonat-v2"
	r.ReachableAddrs = []string{"/ip4/198.51.100.20/udp/7117/quic-v1"}
	b.Reset()
	printStatus(&b, api.Status{PeerID: "12D3KooWSelf", Reach: r}, now, 200)
	if want := "public (AutoNAT v2: an address was dialled back); reachable at /ip4/198.51.100.20/udp/7117/quic-v1"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
}
