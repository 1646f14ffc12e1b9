package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	mh "github.com/multiformats/go-multihash"
)

// The network's private DHT (go-libp2p-kad-dht under the protocol prefix
// /khantara/<network>, PROTOCOL.md 10): it finds the current addresses of
// a peer known by ID, and members beyond the bootstrap list through a
// rendezvous key every node provides. It holds peer routing and provider
// records only: no values, no IPFS validators, and no bootstrap peers but
// the network's own.

// rendezvousInterval is how often a node provides the rendezvous key and
// looks for other providers (jittered by ±20%). Provider records live
// 48 h on DHT servers; the interval bounds how long a newcomer may wait
// to be found by a lookup. A variable for tests.
var rendezvousInterval = 10 * time.Minute

const (
	// rendezvousRetry is the first wait before another rendezvous while
	// the routing table is empty; it doubles up to rendezvousInterval.
	rendezvousRetry = 2 * time.Second
	// rendezvousMax caps the providers one rendezvous reads.
	rendezvousMax = 32
	// rendezvousDials caps the providers one rendezvous dials: only
	// while the node has fewer than conn_low connections.
	rendezvousDials = 8
	// lookupTimeout bounds one DHT lookup (find peer, provide, find
	// providers).
	lookupTimeout = 30 * time.Second
	// findPeerBackoff is how long a node waits before it looks up the
	// same peer again.
	findPeerBackoff = 5 * time.Minute
	// maxFindPeers bounds the peer lookups running at once; more are
	// skipped (the next redial asks again).
	maxFindPeers = 4
)

// DHTProtocolPrefix is the DHT's protocol prefix for network: its one
// protocol is DHTProtocolPrefix(network) + "/kad/1.0.0".
func DHTProtocolPrefix(network string) string { return "/khantara/" + network }

// RendezvousKey is the bytes hashed into the network's rendezvous CID:
// "khantara/<network>/rendezvous".
func RendezvousKey(network string) []byte { return []byte("khantara/" + network + "/rendezvous") }

// RendezvousCID is the CID every node of network provides on the DHT and
// looks up to find other members: CIDv1, codec raw (0x55), multihash
// sha2-256 of RendezvousKey(network).
func RendezvousCID(network string) cid.Cid {
	sum := sha256.Sum256(RendezvousKey(network))
	h, err := mh.Encode(sum[:], mh.SHA2_256)
	if err != nil {
		panic(err) // sha2-256 of a 32-byte digest always encodes
	}
	return cid.NewCidV1(cid.Raw, h)
}

// DHTStatus is the DHT as a node runs it.
type DHTStatus struct {
	// Mode is "off", "server" or "client" (what it runs as now; in auto
	// mode it follows AutoNAT).
	Mode string
	// Configured is the dht setting: auto, server, client or off.
	Configured string
	// RoutingTable is the number of peers in the routing table.
	RoutingTable int
	// Lookups counts peer lookups by ID since start, Found those that
	// gave addresses.
	Lookups, Found uint64
	// Rendezvous counts rendezvous rounds since start; Providers the
	// members the last one found; LastRendezvous is when it ran.
	Rendezvous     uint64
	Providers      int
	LastRendezvous time.Time
}

// dhtService runs the DHT of a node.
type dhtService struct {
	n   *Node
	kad *dht.IpfsDHT
	key cid.Cid
	// sem bounds the peer lookups at once.
	sem                          chan struct{}
	lookups, found, rendezvouses atomic.Uint64
	providers                    atomic.Int64
	lastRendezvous               atomic.Int64 // Unix nanoseconds
	// mu guards asked: when each peer was last looked up.
	mu    sync.Mutex
	asked map[peer.ID]time.Time
}

// kadMode is the kad-dht mode of a dht setting. auto is kad-dht's
// ModeAutoServer: a server unless AutoNAT finds the node private, so a
// network whose addresses AutoNAT cannot test (private ranges only) still
// has servers.
func kadMode(s string) dht.ModeOpt {
	switch s {
	case DHTServer:
		return dht.ModeServer
	case DHTClient:
		return dht.ModeClient
	}
	return dht.ModeAutoServer
}

// newDHT starts the DHT unless cfg.DHT is off (then it returns nil).
func newDHT(n *Node, boot []peer.AddrInfo) (*dhtService, error) {
	if n.cfg.DHT == ModeOff {
		return nil, nil
	}
	kad, err := dht.New(n.host,
		dht.ProtocolPrefix(libp2pproto.ID(DHTProtocolPrefix(n.cfg.Network))),
		dht.Mode(kadMode(n.cfg.DHT)),
		// Only the network's own bootstrap peers, never the IPFS ones.
		dht.BootstrapPeers(boot...),
		// Peer routing and provider records only: no values, so no
		// validators (the default would add IPFS's pk and ipns ones).
		dht.Validator(record.NamespacedValidator{}),
		dht.DisableValues(),
	)
	if err != nil {
		return nil, fmt.Errorf("start the DHT: %w", err)
	}
	return &dhtService{n: n, kad: kad, key: RendezvousCID(n.cfg.Network),
		sem: make(chan struct{}, maxFindPeers), asked: map[peer.ID]time.Time{}}, nil
}

// run provides the rendezvous key and dials the members it finds, on a
// jittered timer, until ctx ends; it returns nil then, an error if the
// host's event subscription ends under it. New relay addresses bring the
// next rendezvous forward to rendezvousRetry: a private node's first
// rendezvous usually runs before it holds a reservation, so its provider
// record and what it found carried no address a peer behind another NAT
// could dial, and the next would come only after rendezvousInterval.
func (d *dhtService) run(ctx context.Context) error {
	relays, err := d.n.host.EventBus().Subscribe(new(event.EvtAutoRelayAddrsUpdated))
	if err != nil {
		return fmt.Errorf("watch relay addresses: %w", err)
	}
	defer relays.Close()
	if err := d.kad.Bootstrap(ctx); err != nil {
		d.n.log.Warn("The DHT did not start its refresh.", "err", err)
	}
	wait := rendezvousRetry
	t := time.NewTimer(jitter(wait))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-relays.Out():
			if !ok {
				return errEventsEnded
			}
			if len(ev.(event.EvtAutoRelayAddrsUpdated).RelayAddrs) > 0 {
				t.Reset(jitter(rendezvousRetry)) // several updates make one rendezvous
			}
			continue
		case <-t.C:
		}
		if d.kad.RoutingTable().Size() == 0 {
			wait = min(wait*2, rendezvousInterval)
			t.Reset(jitter(wait))
			continue
		}
		d.rendezvous(ctx)
		wait = rendezvousRetry
		t.Reset(jitter(rendezvousInterval))
	}
}

// rendezvous provides the network's key and dials up to rendezvousDials
// of the other providers that are not connected, while the node is short
// of peers.
func (d *dhtService) rendezvous(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	if err := d.kad.Provide(ctx, d.key, true); err != nil {
		d.n.log.Debug("Cannot provide the rendezvous key.", "err", err)
	}
	found, dialled := 0, 0
	for ai := range d.kad.FindProvidersAsync(ctx, d.key, rendezvousMax) {
		if ai.ID == d.n.self {
			continue
		}
		found++
		if dialled < rendezvousDials && len(d.n.host.Network().Peers()) < d.n.cfg.ConnLow &&
			d.n.host.Network().Connectedness(ai.ID) != network.Connected {
			dialled++
			d.n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.TempAddrTTL)
			d.n.disc.dial(d.n.ctx, ai, false)
		}
	}
	d.rendezvouses.Add(1)
	d.providers.Store(int64(found))
	d.lastRendezvous.Store(time.Now().UnixNano())
	d.n.log.Debug("Rendezvous done.", "members", found, "dialled", dialled)
}

// errLookupSkipped: a lookup of the peer ran lately, or too many run.
var errLookupSkipped = errors.New("lookup skipped")

// findPeer looks p up by ID and returns its addresses, at most once per
// findPeerBackoff per peer and maxFindPeers at once.
func (d *dhtService) findPeer(ctx context.Context, p peer.ID) (peer.AddrInfo, error) {
	d.mu.Lock()
	if time.Since(d.asked[p]) < findPeerBackoff {
		d.mu.Unlock()
		return peer.AddrInfo{}, errLookupSkipped
	}
	d.asked[p] = time.Now()
	for id, at := range d.asked {
		if time.Since(at) >= findPeerBackoff {
			delete(d.asked, id)
		}
	}
	d.mu.Unlock()
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	default:
		return peer.AddrInfo{}, errLookupSkipped
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	if err := d.waitRoutingTable(ctx); err != nil {
		d.forget(p) // not a lookup: the next redial may ask
		return peer.AddrInfo{}, err
	}
	d.lookups.Add(1)
	ai, err := d.kad.FindPeer(ctx, p)
	if err != nil || len(ai.Addrs) == 0 {
		return peer.AddrInfo{}, fmt.Errorf("find %s in the DHT: %w", p, err)
	}
	d.found.Add(1)
	return ai, nil
}

// routingWait is how often waitRoutingTable looks at the routing table.
const routingWait = 100 * time.Millisecond

// waitRoutingTable waits until the routing table holds a peer: a lookup
// right after start, when a remembered peer's dial fails before the
// bootstrap peers are identified, would otherwise find nothing.
func (d *dhtService) waitRoutingTable(ctx context.Context) error {
	tick := time.NewTicker(routingWait)
	defer tick.Stop()
	for d.kad.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the DHT's routing table is empty: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// forget clears p's lookup time.
func (d *dhtService) forget(p peer.ID) {
	d.mu.Lock()
	delete(d.asked, p)
	d.mu.Unlock()
}

// status reads the DHT's state.
func (d *dhtService) status(configured string) DHTStatus {
	st := DHTStatus{Mode: "off", Configured: configured}
	if d == nil {
		return st
	}
	st.Mode = DHTClient
	if d.serving() {
		st.Mode = DHTServer
	}
	st.RoutingTable = d.kad.RoutingTable().Size()
	st.Lookups, st.Found = d.lookups.Load(), d.found.Load()
	st.Rendezvous, st.Providers = d.rendezvouses.Load(), int(d.providers.Load())
	if ns := d.lastRendezvous.Load(); ns != 0 {
		st.LastRendezvous = time.Unix(0, ns).UTC()
	}
	return st
}

// serving reports whether the DHT answers other nodes' queries now.
// kad-dht's Mode returns the configured mode (ModeAutoServer in auto),
// not the one it switched to, so this asks the host whether it handles
// the DHT's protocol: kad-dht sets the handler in server mode only.
func (d *dhtService) serving() bool {
	kad := libp2pproto.ID(DHTProtocolPrefix(d.n.cfg.Network) + "/kad/1.0.0")
	return slices.Contains(d.n.host.Mux().Protocols(), kad)
}

// close stops the DHT. Safe on nil.
func (d *dhtService) close() error {
	if d == nil {
		return nil
	}
	return d.kad.Close()
}
