package node

import (
	"fmt"
	"slices"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// Resource limits for the sync protocol, on top of go-libp2p's scaled
// defaults (which bound connections, streams and memory per peer and in
// total from the machine's memory and file descriptors).
//
//   - at most 48 sync streams at once (32 inbound), 3 per peer (2 inbound):
//     a session is one stream, and one session per peer and direction is
//     all the protocol needs. Admission (admission.go) serves at most 16
//     inbound sessions; the other 16 inbound streams let a newcomer reach
//     admission, which may evict a stalled session for it, rather than be
//     refused here while stalled sessions hold every stream. The second
//     inbound stream per peer lets a session the peer opens right after
//     its last one ended reach admission, which waits for this side to
//     finish the last one (PROTOCOL.md 9.12), instead of being reset here
//     while that stream is still being closed;
//   - 64 MiB of stream buffers for sync in total, 8 MiB per peer.
var syncLimit = rcmgr.BaseLimit{Streams: 48, StreamsInbound: maxInboundSessions + syncStreamHeadroom, StreamsOutbound: 16, Memory: 64 << 20}
var syncPeerLimit = rcmgr.BaseLimit{Streams: 3, StreamsInbound: 2, StreamsOutbound: 1, Memory: 8 << 20}

// newHost builds the libp2p host from the configuration: the identity key,
// TCP and QUIC listeners (go-libp2p's default transports, Noise and TLS,
// yamux), the resource manager with the limits above, a connection manager
// with the configured watermarks and a one-minute grace period, port
// mapping when NAT is on, and the reachability options of reachOptions.
func newHost(cfg *Config, key crypto.PrivKey, r *reach) (host.Host, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	for _, id := range protocol.SyncProtocols() {
		limits.AddProtocolLimit(libp2pproto.ID(id), syncLimit, rcmgr.BaseLimitIncrease{})
		limits.AddProtocolPeerLimit(libp2pproto.ID(id), syncPeerLimit, rcmgr.BaseLimitIncrease{})
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	listen := libp2p.ListenAddrStrings(cfg.Listen...)
	if len(cfg.Listen) == 0 {
		listen = libp2p.NoListenAddrs // else libp2p listens on its defaults
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		listen,
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(agentPrefix),
	}
	if cfg.NAT {
		opts = append(opts, libp2p.NATPortMap())
	}
	opts = append(opts, reachOptions(&cfg.Reach, r)...)
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("start libp2p host on %v: %w", cfg.Listen, err)
	}
	return h, nil
}

// Limits of the circuit relay v2 service a public node offers the
// network's peers (PROTOCOL.md 10 says why). A relayed link exists to
// reach a node behind a NAT, to coordinate the hole punch that replaces
// it, and to carry what must not wait for that: gossip reaches private
// nodes over their direct links to their relays, so a circuit carries
// identify, DCUtR and sync sessions of small differences.
const (
	// relayData is what a circuit carries in each direction before the
	// relay resets it: 4 MiB, the sync session of some 800 changed
	// practices (a node away for days). A larger catch-up is cut there;
	// what it stored stays and the next session (direct, with the relay
	// itself, or relayed again) continues from the difference.
	relayData = 4 << 20
	// relayDuration is how long a circuit may last: hole punching
	// replaces it within seconds when it works.
	relayDuration = 5 * time.Minute
	// relayReservations bounds the private nodes one relay serves; a
	// network with more spreads them over several relays (each private
	// node keeps relayCount reservations).
	relayReservations = 128
	// relayPerIP bounds reservations from one address (an office NAT
	// with a few nodes).
	relayPerIP = 8
	// relayCircuits bounds the circuits open to one private node.
	relayCircuits = 16
	// relayTTL is how long a reservation lasts before its holder renews
	// it.
	relayTTL = time.Hour
	// relayCount is how many relays a private node keeps a reservation
	// with, so that losing one relay leaves it reachable.
	relayCount = 2
	// autorelayInterval is the least time between two requests of
	// autorelay for relay candidates.
	autorelayInterval = 5 * time.Second
)

// relayResources are the relay service's limits.
func relayResources() relayv2.Resources {
	rc := relayv2.DefaultResources()
	rc.Limit = &relayv2.RelayLimit{Duration: relayDuration, Data: relayData}
	rc.ReservationTTL = relayTTL
	rc.MaxReservations = relayReservations
	rc.MaxReservationsPerIP = relayPerIP
	rc.MaxCircuits = relayCircuits
	return rc
}

// relayOptions are the relay service's options: its limits, and r as the
// filter that serves only peers of the network.
func relayOptions(r *reach) []relayv2.Option {
	return []relayv2.Option{relayv2.WithResources(relayResources()), relayv2.WithACL(r)}
}

// blackHoleCounter is the swarm's black hole detector for UDP or IPv6:
// the transport counts as working while the last dial to a public
// address over it succeeded. go-libp2p's default trusts UDP only after 5
// of the last 100 such dials succeeded, and until 100 were made it is
// "probing": a node of a small network never gets there, and while it
// is not trusted the node's AutoNAT v2 server refuses every QUIC
// dial-back (it dials only over transports its detector allows), so a
// public node among private ones could not be confirmed on QUIC. After
// a failed dial each new dial still tries the transport (N is 1), so
// a host whose UDP is blocked only loses the QUIC attempt beside TCP.
func blackHoleCounter(name string) *swarm.BlackHoleSuccessCounter {
	return &swarm.BlackHoleSuccessCounter{N: 1, MinSuccesses: 1, Name: name}
}

// reachOptions turns Config.Reach into libp2p options: AutoNAT v1 (client
// and, rate-limited, server: it decides the host's reachability, which
// drives the relay service, autorelay and the DHT's auto mode) and v2
// (per-address checks, which decide while v1 cannot: reach_verdict.go),
// black-hole detectors a small network can satisfy, the relay service in
// auto mode (relay_service on starts it in startRelay instead),
// autorelay with candidates from the peers the node knows, hole punching
// traced and given its addresses by r (reach_observed.go), forced
// reachability, and the announced addresses.
func reachOptions(c *Reach, r *reach) []libp2p.Option {
	opts := []libp2p.Option{
		libp2p.EnableRelay(), // the circuit transport: libp2p's default, but not with NoListenAddrs
		libp2p.EnableAutoNATv2(),
		libp2p.EnableNATService(),
		libp2p.AutoNATServiceRateLimit(30, 3, time.Minute),
		libp2p.UDPBlackHoleSuccessCounter(blackHoleCounter("UDP")),
		libp2p.IPv6BlackHoleSuccessCounter(blackHoleCounter("IPv6")),
	}
	switch c.Reachability {
	case ReachPublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	case ReachPrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	if c.RelayService == ModeAuto {
		opts = append(opts, libp2p.EnableRelayService(relayOptions(r)...))
	}
	if c.Reachability != ReachPublic {
		opts = append(opts, libp2p.EnableAutoRelayWithPeerSource(r.peerSource,
			autorelay.WithNumRelays(relayCount),
			autorelay.WithMinCandidates(1),
			autorelay.WithMaxCandidates(8),
			autorelay.WithBootDelay(0),
			autorelay.WithBackoff(5*time.Minute),
			// The source reads only local state: ask it often.
			autorelay.WithMinInterval(autorelayInterval)))
	}
	if c.HolePunching {
		opts = append(opts, libp2p.EnableHolePunching(holepunch.WithTracer(r), holepunch.WithAddrFilter(r)))
	}
	if announce, _ := c.announceAddrs(); len(announce) > 0 { // Validate checked them
		opts = append(opts, libp2p.AddrsFactory(func(addrs []ma.Multiaddr) []ma.Multiaddr {
			out := slices.Clone(announce)
			for _, a := range addrs {
				if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
					out = append(out, a)
				}
			}
			return out
		}))
	}
	return opts
}
