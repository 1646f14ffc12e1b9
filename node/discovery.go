package node

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	// redialInterval is how often a node short of peers dials its
	// bootstrap list and address book again.
	redialInterval = 30 * time.Second
	// dialTimeout bounds one dial.
	dialTimeout = 10 * time.Second
	// rememberedDials is how many peers of the address book are dialled,
	// most recently seen first.
	rememberedDials = 32
)

// MDNSService is the DNS-SD service name nodes announce on the LAN.
const MDNSService = "_khantara._udp"

// discovery keeps the node connected: bootstrap addresses, mDNS on the
// LAN, the address book in the store, and (through gossipsub) peer
// exchange. Peers met are written to the address book as they connect.
type discovery struct {
	n      *Node
	boot   []peer.AddrInfo
	mdns   mdns.Service
	events event.Subscription
	dials  sync.WaitGroup
}

func newDiscovery(n *Node) (*discovery, error) {
	boot, err := n.cfg.bootstrapPeers()
	if err != nil {
		return nil, err
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return nil, fmt.Errorf("watch connections: %w", err)
	}
	d := &discovery{n: n, boot: boot, events: sub}
	if n.cfg.MDNS {
		// One service for every network (DNS-SD labels are at most 15
		// characters); HELLO and the topic keep networks apart.
		d.mdns = mdns.NewMdnsService(n.host, MDNSService, d)
		if err := d.mdns.Start(); err != nil {
			n.log.Warn("mDNS did not start; LAN peers will not be found.", "err", err)
			d.mdns = nil
		}
	}
	return d, nil
}

// HandlePeerFound is called by mDNS for every peer it finds on the LAN.
func (d *discovery) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == d.n.self {
		return
	}
	d.dial(d.n.ctx, ai, false)
}

// dial connects to ai in the background, through a relay if that is the
// only way (the connection is then limited until hole punching replaces
// it). When the dial fails and lookup is set, the peer's current
// addresses are looked up by ID in the DHT and dialled.
func (d *discovery) dial(ctx context.Context, ai peer.AddrInfo, lookup bool) {
	if ctx.Err() != nil || d.n.host.Network().Connectedness(ai.ID) != network.NotConnected {
		return
	}
	d.dials.Add(1)
	go func() {
		defer d.dials.Done()
		err := d.connect(ctx, ai)
		if err == nil {
			return
		}
		d.n.log.Debug("Dial failed.", "peer", ai.ID, "err", err)
		// No lookup when the peer connected meanwhile by another path
		// (it dialled this node, or a rendezvous found it): the DHT would
		// only answer from the open connection.
		if !lookup || d.n.dht == nil || d.n.host.Network().Connectedness(ai.ID) == network.Connected {
			return
		}
		found, err := d.n.dht.findPeer(ctx, ai.ID)
		if err != nil {
			d.n.log.Debug("The DHT did not find the peer.", "peer", ai.ID, "err", err)
			return
		}
		d.n.host.Peerstore().AddAddrs(found.ID, found.Addrs, peerstore.AddressTTL)
		if err := d.connect(ctx, found); err != nil {
			d.n.log.Debug("Dial of the addresses the DHT found failed.", "peer", ai.ID, "addrs", found.Addrs, "err", err)
			return
		}
		d.n.log.Info("Found a peer at new addresses through the DHT.", "peer", ai.ID, "addrs", found.Addrs)
	}()
}

// connect dials ai once, within dialTimeout, accepting a relayed
// connection.
func (d *discovery) connect(ctx context.Context, ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(network.WithAllowLimitedConn(ctx, "khantara discovery"), dialTimeout)
	defer cancel()
	return d.n.host.Connect(ctx, ai)
}

// run dials at start and whenever the node is short of peers, and
// remembers the peers that connect. It returns nil when ctx ends, an error
// if the host's event subscription ends under it.
func (d *discovery) run(ctx context.Context) error {
	defer d.events.Close()
	events := d.events.Out()
	d.dialAll(ctx)
	tick := time.NewTicker(redialInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errEventsEnded
			}
			e := ev.(event.EvtPeerConnectednessChanged)
			if e.Connectedness == network.Connected {
				d.remember(e.Peer)
			}
		case <-tick.C:
			if len(d.n.host.Network().Peers()) < d.n.cfg.ConnLow {
				d.dialAll(ctx)
			}
		}
	}
}

// dialAll dials the bootstrap peers and the most recently seen peers of
// the address book that are not connected.
func (d *discovery) dialAll(ctx context.Context) {
	for _, ai := range d.boot {
		d.n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		d.dial(ctx, ai, true)
	}
	var known []store.KnownPeer
	for kp, err := range d.n.store.KnownPeers() {
		if err != nil {
			d.n.log.Warn("Cannot read the address book.", "err", err)
			break
		}
		if kp.ID != d.n.self {
			known = append(known, kp)
		}
	}
	sort.Slice(known, func(i, j int) bool { return known[i].LastSeen.After(known[j].LastSeen) })
	for _, kp := range known[:min(len(known), rememberedDials)] {
		ai := peer.AddrInfo{ID: kp.ID}
		for _, b := range kp.Addrs {
			if a, err := ma.NewMultiaddrBytes(b); err == nil {
				ai.Addrs = append(ai.Addrs, a)
			}
		}
		if len(ai.Addrs) > 0 {
			d.dial(ctx, ai, true)
		}
	}
}

// relayCandidates returns up to num peers of the address book that are
// not connected, most recently seen first: autorelay dials them and keeps
// those that serve the relay protocol.
func (d *discovery) relayCandidates(_ context.Context, num int) []peer.AddrInfo {
	var known []store.KnownPeer
	for kp, err := range d.n.store.KnownPeers() {
		if err != nil {
			break
		}
		if kp.ID != d.n.self && d.n.host.Network().Connectedness(kp.ID) == network.NotConnected {
			known = append(known, kp)
		}
	}
	sort.Slice(known, func(i, j int) bool { return known[i].LastSeen.After(known[j].LastSeen) })
	var out []peer.AddrInfo
	for _, kp := range known[:min(len(known), max(num, 0))] {
		ai := peer.AddrInfo{ID: kp.ID}
		for _, b := range kp.Addrs {
			if a, err := ma.NewMultiaddrBytes(b); err == nil {
				ai.Addrs = append(ai.Addrs, a)
			}
		}
		out = append(out, ai)
	}
	return out
}

func (d *discovery) remember(p peer.ID) {
	addrs := d.n.host.Peerstore().Addrs(p)
	if len(addrs) == 0 {
		return
	}
	kp := store.KnownPeer{ID: p, LastSeen: d.n.now()}
	for _, a := range addrs {
		kp.Addrs = append(kp.Addrs, a.Bytes())
	}
	if err := d.n.store.RememberPeers(kp); err != nil {
		d.n.log.Debug("Cannot remember a peer.", "peer", p, "err", err)
	}
}

// close stops mDNS and waits for dials in flight; the node's context must
// be cancelled first.
func (d *discovery) close() {
	if d.mdns != nil {
		d.mdns.Close()
	}
	d.events.Close()
	d.dials.Wait()
}
