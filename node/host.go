package node

import (
	"fmt"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
)

// Resource limits for the sync protocol, on top of go-libp2p's scaled
// defaults (which bound connections, streams and memory per peer and in
// total from the machine's memory and file descriptors).
//
//   - at most 48 sync streams at once (32 inbound), 2 per peer (1 inbound):
//     a session is one stream, and one session per peer and direction is
//     all the protocol needs. Admission (admission.go) serves at most 16
//     inbound sessions; the other 16 inbound streams let a newcomer reach
//     admission, which may evict a stalled session for it, rather than be
//     refused here while stalled sessions hold every stream;
//   - 64 MiB of stream buffers for sync in total, 8 MiB per peer.
var syncLimit = rcmgr.BaseLimit{Streams: 48, StreamsInbound: maxInboundSessions + syncStreamHeadroom, StreamsOutbound: 16, Memory: 64 << 20}
var syncPeerLimit = rcmgr.BaseLimit{Streams: 2, StreamsInbound: 1, StreamsOutbound: 1, Memory: 8 << 20}

// newHost builds the libp2p host from the configuration: the identity key,
// TCP and QUIC listeners (go-libp2p's default transports, Noise and TLS,
// yamux), the resource manager with the limits above, a connection manager
// with the configured watermarks and a one-minute grace period, and, when
// NAT is on, port mapping and hole punching.
func newHost(cfg *Config, key crypto.PrivKey) (host.Host, error) {
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
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(cfg.Listen...),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent("khantara"),
	}
	if cfg.NAT {
		opts = append(opts, libp2p.NATPortMap(), libp2p.EnableHolePunching())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("start libp2p host on %v: %w", cfg.Listen, err)
	}
	return h, nil
}
