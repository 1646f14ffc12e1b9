package node

import (
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// A node in reachability auto whose AutoNAT v1 has no verdict (alone on
// loopback, it has no peer to ask) becomes public when AutoNAT v2
// confirms one of its public addresses, and everything that follows the
// verdict follows: the relay service starts and the DHT serves. When v2
// takes the confirmation back, the node is unknown again.
func TestAutoNATv2ConfirmedAddrMakesNodePublic(t *testing.T) {
	cfg := loopConfig(t.TempDir())
	cfg.Reachability, cfg.RelayService, cfg.DHT = ModeAuto, ModeAuto, ModeAuto
	n := startLoop(t, cfg)
	if st := n.ReachStatus(); st.Reachability != "unknown" || st.DecidedBy != DecidedByAutoNAT || st.Relaying {
		t.Fatalf("at start: %s by %s, relaying %v; want unknown by %s, not relaying", st.Reachability, st.DecidedBy, st.Relaying, DecidedByAutoNAT)
	}
	em, err := n.Host().EventBus().Emitter(new(event.EvtHostReachableAddrsChanged))
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	emit := func(reachable ...string) {
		t.Helper()
		var addrs []ma.Multiaddr
		for _, s := range reachable {
			addrs = append(addrs, ma.StringCast(s))
		}
		if err := em.Emit(event.EvtHostReachableAddrsChanged{Reachable: addrs}); err != nil {
			t.Fatal(err)
		}
	}
	hop := libp2pproto.ID(relayHop)

	emit("/ip4/7.7.0.10/udp/7117/quic-v1")
	eventually(t, 10*time.Second, "the node to be public by AutoNAT v2, relay and serve the DHT", func() bool {
		st := n.ReachStatus()
		return st.Reachability == ReachPublic && st.DecidedBy == DecidedByAutoNATv2 && st.Relaying &&
			st.DHT.Mode == DHTServer && slices.Contains(n.Host().Mux().Protocols(), hop)
	})

	emit()
	eventually(t, 10*time.Second, "the node to be unknown again and stop relaying", func() bool {
		st := n.ReachStatus()
		return st.Reachability == "unknown" && st.DecidedBy == DecidedByAutoNAT &&
			!slices.Contains(n.Host().Mux().Protocols(), hop)
	})
}

// Only a public address that is not a relay address confirms that the
// node is reachable.
func TestAnyPublic(t *testing.T) {
	relay := "/ip4/7.7.0.10/udp/7117/quic-v1/p2p/12D3KooWN9THqitSQci3RyWL2gnMvsk5gHp6FJbFj1KjtV8ZQE8V/p2p-circuit"
	for _, tc := range []struct {
		addrs []string
		want  bool
	}{
		{nil, false},
		{[]string{"/ip4/192.168.1.7/udp/7117/quic-v1", "/ip4/127.0.0.1/tcp/7117", "/ip4/10.0.0.2/tcp/1"}, false},
		{[]string{relay}, false},
		{[]string{"/ip4/192.168.1.7/tcp/7117", "/ip4/7.7.0.10/tcp/7117"}, true},
		{[]string{"/ip6/2001:db8::1/udp/7117/quic-v1"}, false}, // documentation range
		{[]string{"/ip6/2a01:4f8::1/udp/7117/quic-v1"}, true},
	} {
		var addrs []ma.Multiaddr
		for _, s := range tc.addrs {
			addrs = append(addrs, ma.StringCast(s))
		}
		if got := anyPublic(addrs); got != tc.want {
			t.Errorf("anyPublic(%v) = %v; want %v", tc.addrs, got, tc.want)
		}
	}
}
