package node

import (
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// What peers with public addresses see this node's addresses as
// (identify's observed address of each connection), and two things
// learnt from it:
//
//   - Hole punching on both transports. A node behind a NAT knows its
//     public address per transport only from peers that saw it on that
//     transport; a home node that reached its only public peer over
//     QUIC offers DCUtR only a QUIC address, and two nodes that offer
//     only different transports never punch through (each NAT drops
//     what the other sends). When the NAT kept the port of a
//     connection from the node's listen port (port-preserving, as
//     Linux's MASQUERADE and most home routers do when the port is
//     free), the node's other listen ports are most likely mapped to
//     the same ports of the same public address: those inferred
//     addresses are offered to DCUtR too (only to DCUtR: they are not
//     announced).
//   - The NAT's mapping type, when go-libp2p has not decided it (it
//     needs observations from several peers in distinct networks):
//     one local address seen as the same public address by two
//     observers at distinct IP addresses is an endpoint-independent
//     mapping; seen as different addresses, endpoint-dependent.

// Bounds of what the monitor keeps of observations.
const (
	// maxObservedLocal bounds the local addresses kept.
	maxObservedLocal = 16
	// maxObservers bounds the observers kept per local address.
	maxObservers = 16
)

// observations are the observed addresses of this node, by local
// address and observer IP. Safe for concurrent use.
type observations struct {
	// mu guards byLocal: what was seen of each local address (by its
	// thin waist's text); and offers: what the last hole punch with a
	// peer offered it (FilterLocal), at most maxOffers peers.
	mu      sync.Mutex
	byLocal map[string]*observed
	offers  map[peer.ID][]ma.Multiaddr
}

// observed is what observers saw one local address (a thin waist) as.
type observed struct {
	local ma.Multiaddr
	seen  map[string]ma.Multiaddr // observer IP -> the public address it saw
}

// maxOffers bounds the hole-punch offers kept: a punch exchanges both
// offers within a round trip, so only the latest punches matter.
const maxOffers = 64

// offered keeps what a hole punch offered p.
func (o *observations) offered(p peer.ID, addrs []ma.Multiaddr) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.offers == nil || len(o.offers) >= maxOffers {
		o.offers = map[peer.ID][]ma.Multiaddr{}
	}
	o.offers[p] = addrs
}

// offer returns what the last hole punch with p offered it.
func (o *observations) offer(p peer.ID) []ma.Multiaddr {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.offers[p]
}

// thinWaist is a's IP, transport and port (/ip4/x/udp/p/quic-v1,
// /ip4/x/tcp/p), or nil for another kind of address.
func thinWaist(a ma.Multiaddr) ma.Multiaddr {
	var out ma.Multiaddr
	for i, c := range a {
		switch {
		case i == 0 && (c.Code() == ma.P_IP4 || c.Code() == ma.P_IP6):
		case i == 1 && (c.Code() == ma.P_TCP || c.Code() == ma.P_UDP):
		case i == 2 && c.Code() == ma.P_QUIC_V1 && a[1].Code() == ma.P_UDP:
		default:
			return finishWaist(out)
		}
		out = append(out, c)
	}
	return finishWaist(out)
}

// finishWaist returns w if it is a TCP address or a QUIC one, else nil.
func finishWaist(w ma.Multiaddr) ma.Multiaddr {
	switch {
	case len(w) == 2 && w[1].Code() == ma.P_TCP, len(w) == 3:
		return w
	}
	return nil
}

// observe records what a peer saw: e is identify's result on one of
// its connections. Only direct connections to a public peer address
// count.
func (o *observations) observe(e event.EvtPeerIdentificationCompleted) {
	if e.Conn == nil || e.ObservedAddr == nil || isRelayed(e.Conn) || !manet.IsPublicAddr(e.Conn.RemoteMultiaddr()) {
		return
	}
	local, seen := thinWaist(e.Conn.LocalMultiaddr()), thinWaist(e.ObservedAddr)
	observer, err := manet.ToIP(e.Conn.RemoteMultiaddr())
	if local == nil || seen == nil || err != nil || !manet.IsPublicAddr(seen) {
		return
	}
	o.record(local, observer.String(), seen)
}

// record keeps that the peer at IP observer saw local (a thin waist) as
// seen.
func (o *observations) record(local ma.Multiaddr, observer string, seen ma.Multiaddr) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byLocal == nil {
		o.byLocal = map[string]*observed{}
	}
	ob := o.byLocal[local.String()]
	if ob == nil {
		if len(o.byLocal) >= maxObservedLocal {
			return
		}
		ob = &observed{local: local, seen: map[string]ma.Multiaddr{}}
		o.byLocal[local.String()] = ob
	}
	if _, ok := ob.seen[observer]; ok || len(ob.seen) < maxObservers {
		ob.seen[observer] = seen
	}
}

// inferred returns, for each of listen whose port no peer observed, the
// address it most likely has behind a port-preserving NAT: the public
// IP a peer saw on another listen port that the NAT kept, with
// the listen address's own transport and port. Empty when no
// observation shows a kept port.
func (o *observations) inferred(listen []ma.Multiaddr) []ma.Multiaddr {
	o.mu.Lock()
	defer o.mu.Unlock()
	var public ma.Component
	kept := false
	observedPorts := map[string]bool{} // transport/port of listen addresses observed
	for _, ob := range o.byLocal {
		local := ob.local
		if len(ob.seen) > 0 {
			observedPorts[local[1:].String()] = true
		}
		for _, seen := range ob.seen {
			if seen[1:].Equal(local[1:]) { // the NAT kept transport and port
				public, kept = seen[0], true
			}
		}
	}
	if !kept {
		return nil
	}
	var out []ma.Multiaddr
	for _, l := range listen {
		w := thinWaist(l)
		if w == nil || w[0].Code() != public.Code() || observedPorts[w[1:].String()] || manet.IsIPLoopback(w) {
			continue
		}
		a := append(ma.Multiaddr{public}, w[1:]...)
		if !slices.ContainsFunc(out, a.Equal) {
			out = append(out, a)
		}
	}
	return out
}

// natType is the mapping type of the NAT on transport proto (ma.P_TCP or
// ma.P_UDP) from the observations: endpoint-dependent when one local
// address was seen as different public addresses by observers at
// distinct IPs, endpoint-independent when seen as the same one by at
// least two, else unknown.
func (o *observations) natType(proto int) network.NATDeviceType {
	o.mu.Lock()
	defer o.mu.Unlock()
	result := network.NATDeviceTypeUnknown
	for _, ob := range o.byLocal {
		if ob.local[1].Code() != proto || len(ob.seen) < 2 {
			continue
		}
		var first ma.Multiaddr
		for _, seen := range ob.seen {
			if first == nil {
				first = seen
			} else if !seen.Equal(first) {
				return network.NATDeviceTypeEndpointDependent
			}
		}
		result = network.NATDeviceTypeEndpointIndependent
	}
	return result
}

// FilterLocal adds to the addresses a hole punch offers the peer those
// inferred for the node's other listen ports (holepunch.AddrFilter), and
// remembers the offer for FilterRemote.
func (r *reach) FilterLocal(p peer.ID, addrs []ma.Multiaddr) []ma.Multiaddr {
	h := r.h()
	if h == nil {
		return addrs
	}
	out := slices.Clone(addrs)
	for _, a := range r.observed.inferred(h.Network().ListenAddresses()) {
		if !slices.ContainsFunc(out, func(b ma.Multiaddr) bool { return thinWaist(b).Equal(a) }) {
			out = append(out, a)
		}
	}
	if len(out) > len(addrs) {
		r.log.Debug("Hole punch offers inferred addresses.", "observed", addrs, "inferred", out[len(addrs):])
	}
	r.observed.offered(p, out)
	return out
}

// FilterRemote keeps of the peer's addresses those of one transport that
// both sides offered, QUIC before TCP (holepunch.AddrFilter). Both
// sides of a punch between two Khantara nodes see the same two offers
// and so dial the same transport: punching TCP and QUIC at once made
// two direct connections, and a side could close the one the other kept
// (seen in the NAT testbed). With no common transport every address is
// kept.
func (r *reach) FilterRemote(p peer.ID, addrs []ma.Multiaddr) []ma.Multiaddr {
	ours := r.observed.offer(p)
	for _, proto := range []int{ma.P_QUIC_V1, ma.P_TCP} {
		has := func(a ma.Multiaddr) bool { return transportOf(a) == proto }
		if slices.ContainsFunc(ours, has) && slices.ContainsFunc(addrs, has) {
			return slices.DeleteFunc(slices.Clone(addrs), func(a ma.Multiaddr) bool { return !has(a) })
		}
	}
	return addrs
}

// transportOf is ma.P_QUIC_V1 or ma.P_TCP for a QUIC or TCP address, else
// 0.
func transportOf(a ma.Multiaddr) int {
	w := thinWaist(a)
	switch {
	case len(w) == 3:
		return ma.P_QUIC_V1
	case len(w) == 2:
		return ma.P_TCP
	}
	return 0
}
