package node

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

func addrs(ss ...string) []ma.Multiaddr {
	out := make([]ma.Multiaddr, 0, len(ss))
	for _, s := range ss {
		out = append(out, ma.StringCast(s))
	}
	return out
}

func TestThinWaist(t *testing.T) {
	for in, want := range map[string]string{
		"/ip4/7.7.0.11/udp/4001/quic-v1/p2p/12D3KooWN9THqitSQci3RyWL2gnMvsk5gHp6FJbFj1KjtV8ZQE8V": "/ip4/7.7.0.11/udp/4001/quic-v1",
		"/ip4/7.7.0.11/tcp/4001":                      "/ip4/7.7.0.11/tcp/4001",
		"/ip6/2a01:4f8::1/tcp/4001/tls/ws":            "/ip6/2a01:4f8::1/tcp/4001",
		"/ip4/7.7.0.11/udp/4001/quic-v1/webtransport": "/ip4/7.7.0.11/udp/4001/quic-v1",
		"/ip4/7.7.0.11/udp/4001":                      "",
		"/dns4/example.org/tcp/4001":                  "",
	} {
		got := thinWaist(ma.StringCast(in))
		if (want == "" && got != nil) || (want != "" && (got == nil || got.String() != want)) {
			t.Errorf("thinWaist(%s) = %v; want %q", in, got, want)
		}
	}
}

// Behind a port-preserving NAT, a node observed only on QUIC offers its
// TCP listen port at the same public address for hole punching, and the
// other way round; a NAT that changed the port gives nothing to infer.
func TestInferredHolePunchAddrs(t *testing.T) {
	listen := addrs("/ip4/192.168.1.11/udp/4001/quic-v1", "/ip4/192.168.1.11/tcp/4002", "/ip4/127.0.0.1/tcp/4003")
	for _, tc := range []struct {
		name        string
		local, seen string
		want        []string
	}{
		{"QUIC kept its port", "/ip4/192.168.1.11/udp/4001/quic-v1", "/ip4/7.7.0.11/udp/4001/quic-v1", []string{"/ip4/7.7.0.11/tcp/4002"}},
		{"TCP kept its port", "/ip4/192.168.1.11/tcp/4002", "/ip4/7.7.0.11/tcp/4002", []string{"/ip4/7.7.0.11/udp/4001/quic-v1"}},
		{"the port changed", "/ip4/192.168.1.11/udp/4001/quic-v1", "/ip4/7.7.0.11/udp/50123/quic-v1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o observations
			o.record(ma.StringCast(tc.local), "7.7.0.10", ma.StringCast(tc.seen))
			var got []string
			for _, a := range o.inferred(listen) {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("inferred %v; want %v", got, tc.want)
			}
		})
	}
}

// One local address seen as one public address by two observers is an
// endpoint-independent mapping, as two addresses endpoint-dependent; one
// observer tells nothing.
func TestObservedNATType(t *testing.T) {
	local := ma.StringCast("/ip4/192.168.1.11/udp/4001/quic-v1")
	var o observations
	o.record(local, "7.7.0.10", ma.StringCast("/ip4/7.7.0.11/udp/4001/quic-v1"))
	if got := o.natType(ma.P_UDP); got != network.NATDeviceTypeUnknown {
		t.Errorf("one observer: %v; want unknown", got)
	}
	o.record(local, "7.7.0.12", ma.StringCast("/ip4/7.7.0.11/udp/4001/quic-v1"))
	if got := o.natType(ma.P_UDP); got != network.NATDeviceTypeEndpointIndependent {
		t.Errorf("two observers, one mapping: %v; want endpoint-independent", got)
	}
	if got := o.natType(ma.P_TCP); got != network.NATDeviceTypeUnknown {
		t.Errorf("TCP, never observed: %v; want unknown", got)
	}
	o.record(local, "7.7.0.13", ma.StringCast("/ip4/7.7.0.11/udp/61000/quic-v1"))
	if got := o.natType(ma.P_UDP); got != network.NATDeviceTypeEndpointDependent {
		t.Errorf("a third observer saw another port: %v; want endpoint-dependent", got)
	}
}

// Both sides of a punch dial one transport they both offered, QUIC
// before TCP; with none in common, every address.
func TestHolePunchCommonTransport(t *testing.T) {
	const p = "peer"
	quic, tcp := "/ip4/7.7.0.12/udp/4001/quic-v1", "/ip4/7.7.0.12/tcp/4002"
	for _, tc := range []struct {
		name         string
		ours, theirs []string
		want         []string
	}{
		{"both offer both", []string{"/ip4/7.7.0.11/tcp/1", "/ip4/7.7.0.11/udp/2/quic-v1"}, []string{tcp, quic}, []string{quic}},
		{"TCP in common", []string{"/ip4/7.7.0.11/tcp/1"}, []string{tcp, quic}, []string{tcp}},
		{"QUIC in common", []string{"/ip4/7.7.0.11/udp/2/quic-v1"}, []string{quic, tcp}, []string{quic}},
		{"nothing in common", []string{"/ip4/7.7.0.11/udp/2/quic-v1"}, []string{tcp}, []string{tcp}},
		{"no offer of ours", nil, []string{tcp, quic}, []string{tcp, quic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReach(DefaultReach())
			r.observed.offered(p, addrs(tc.ours...))
			var got []string
			for _, a := range r.FilterRemote(p, addrs(tc.theirs...)) {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("dials %v; want %v", got, tc.want)
			}
		})
	}
}
