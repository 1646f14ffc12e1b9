package node

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// Real libp2p hosts on loopback: no mDNS, no port mapping, no public
// address anywhere.

// loopConfig is a node configuration in home on loopback TCP, booting
// from boot, with mDNS, port mapping, search and periodic sync off.
func loopConfig(home string, boot ...*Node) Config {
	cfg := DefaultConfig(home)
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.MDNS, cfg.NAT, cfg.NoSearch = false, false, true
	cfg.SyncInterval = time.Hour
	for _, b := range boot {
		cfg.Bootstrap = append(cfg.Bootstrap, p2pAddr(b))
	}
	return cfg
}

// startLoop starts a node; the test closes it at the end.
func startLoop(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// p2pAddr is n's first listen address with /p2p/<ID>.
func p2pAddr(n *Node) string {
	return n.Host().Addrs()[0].String() + "/p2p/" + n.ID().String()
}

func connected(a, b *Node) bool {
	return a.Host().Network().Connectedness(b.ID()) == network.Connected
}

// checkNoPublicDHT fails if a node serves the IPFS DHT's protocol or ever
// heard of one of its default bootstrap peers.
func checkNoPublicDHT(t *testing.T, nodes ...*Node) {
	t.Helper()
	for _, n := range nodes {
		for _, p := range n.Host().Mux().Protocols() {
			if strings.HasPrefix(string(p), "/ipfs/kad") {
				t.Errorf("node serves %s", p)
			}
		}
		for _, ai := range dht.GetDefaultBootstrapPeerAddrInfos() {
			if addrs := n.Host().Peerstore().Addrs(ai.ID); len(addrs) > 0 {
				t.Errorf("node knows the IPFS bootstrap peer %s at %v", ai.ID, addrs)
			}
		}
	}
}

// C knows only A (its bootstrap peer) and B from an earlier connection;
// B restarts on a new port, so C's dial of B's remembered address fails
// and C's discovery finds B's new address by ID through the DHT that A
// and B serve, and connects there.
func TestDHTFindsRestartedPeerByID(t *testing.T) {
	// On loopback AutoNAT finds every node private (it has no public
	// address to test), so auto mode would make every DHT a client: A
	// is a server, as a network's well-connected node is told to be.
	acfg := loopConfig(t.TempDir())
	acfg.DHT = DHTServer
	a := startLoop(t, acfg)
	bHome, cHome := t.TempDir(), t.TempDir()
	// B is a DHT client, so no DHT query but a lookup by its ID leads
	// to it (a server is in every routing table and the DHT's own
	// refresh would dial it).
	bcfg := loopConfig(bHome, a)
	bcfg.DHT = DHTClient
	b := startLoop(t, bcfg)
	c := startLoop(t, loopConfig(cHome, a))
	kad := DHTProtocolPrefix(protocol.DefaultNetwork) + "/kad/1.0.0"
	if !slices.Contains(a.Host().Mux().Protocols(), libp2pproto.ID(kad)) {
		t.Fatalf("A does not serve %s: %v", kad, a.Host().Mux().Protocols())
	}
	if err := c.Host().Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "C to remember B", func() bool { return knows(c, b.ID()) })
	oldAddr := b.Host().Addrs()[0].String()
	bID := b.ID()
	c.Close()
	b.Close()

	b = startLoop(t, bcfg)
	if b.ID() != bID || b.Host().Addrs()[0].String() == oldAddr {
		t.Fatalf("B restarted as %s at %s; want %s at a new address (was %s)", b.ID(), b.Host().Addrs()[0], bID, oldAddr)
	}
	eventually(t, 10*time.Second, "A to be connected to B", func() bool { return connected(a, b) })
	// C dials the address book at start: B's remembered address is
	// dead, so the node itself looks B up by ID and dials what it finds.
	// C wants one connection (A), so its rendezvous, which would find B
	// as a provider, dials nobody: only the lookup can connect C to B.
	ccfg := loopConfig(cHome, a)
	ccfg.ConnLow = 1
	c = startLoop(t, ccfg)
	// The lookup's own query dials B: the connection may come just
	// before the lookup counts B found.
	eventually(t, 40*time.Second, "C to find B by a lookup and reach it", func() bool {
		return connected(c, b) && c.ReachStatus().DHT.Found >= 1
	})
	for _, conn := range c.Host().Network().ConnsToPeer(bID) {
		if !conn.RemoteMultiaddr().Equal(b.Host().Addrs()[0]) {
			t.Errorf("C is connected to B at %s; want B's new address %s", conn.RemoteMultiaddr(), b.Host().Addrs()[0])
		}
	}
	if st := a.ReachStatus().DHT; st.Mode != DHTServer {
		t.Errorf("A's DHT: %+v; want a server", st)
	}
	checkNoPublicDHT(t, a, b, c)
}

// knows reports whether n's address book holds p.
func knows(n *Node, p peer.ID) bool {
	for kp, err := range n.Store().KnownPeers() {
		if err == nil && kp.ID == p {
			return true
		}
	}
	return false
}

// A newcomer that bootstraps from A alone finds B, another member, by
// the network's rendezvous key.
func TestRendezvousFindsMemberBeyondBootstrap(t *testing.T) {
	// Restored after the nodes close (cleanups run last first).
	t.Cleanup(func(d time.Duration) func() { return func() { rendezvousInterval = d } }(rendezvousInterval))
	rendezvousInterval = 500 * time.Millisecond
	acfg := loopConfig(t.TempDir())
	acfg.DHT = DHTServer // see TestDHTFindsRestartedPeerByID
	a := startLoop(t, acfg)
	b := startLoop(t, loopConfig(t.TempDir(), a))
	d := startLoop(t, loopConfig(t.TempDir(), a))
	eventually(t, 30*time.Second, "the newcomer's rendezvous to find A and B", func() bool {
		return d.ReachStatus().DHT.Providers >= 2
	})
	eventually(t, 20*time.Second, "the newcomer to connect to B", func() bool { return connected(d, b) })
	checkNoPublicDHT(t, a, b, d)
}

// The rendezvous CID of a network is fixed by PROTOCOL.md 10's test vector.
func TestRendezvousKeyVector(t *testing.T) {
	if got := string(RendezvousKey("khantara")); got != "khantara/khantara/rendezvous" {
		t.Errorf("key = %q", got)
	}
	c := RendezvousCID("khantara")
	// The multihash is 0x12 (sha2-256), 0x20 (32 bytes), then
	// sha256("khantara/khantara/rendezvous") as sha256sum prints it.
	const wantHash = "1220a876ba18bb2fe7c1f315b8b8465ca362ddd2c580aa35c72b0bba253098a9b865"
	if got := hex.EncodeToString(c.Hash()); got != wantHash {
		t.Errorf("multihash = %s, want %s", got, wantHash)
	}
	const want = "bafkreifio25brozp47a7gfnyxbdfzi3c3xjmlafkgxdswc52euyjrknymu"
	if c.String() != want {
		t.Errorf("CID = %s (multihash %s); PROTOCOL.md 10 says %s", c, hex.EncodeToString(c.Hash()), want)
	}
	if DHTProtocolPrefix("demo-net") != "/khantara/demo-net" {
		t.Errorf("prefix = %q", DHTProtocolPrefix("demo-net"))
	}
}

// bareRelay is a plain libp2p host on loopback that offers circuit relay
// v2 and nothing else: no gossip, no sync.
func bareRelay(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	r, err := relayv2.New(h, relayv2.WithResources(relayResources()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); h.Close() })
	return h
}

// circuitTo is the address of target through relay.
func circuitTo(t *testing.T, relay host.Host, target peer.ID) peer.AddrInfo {
	t.Helper()
	a, err := ma.NewMultiaddr(relay.Addrs()[0].String() + "/p2p/" + relay.ID().String() + "/p2p-circuit")
	if err != nil {
		t.Fatal(err)
	}
	return peer.AddrInfo{ID: target, Addrs: []ma.Multiaddr{a}}
}

// onlyRelayed reports whether a has connections to b, all through a relay.
func onlyRelayed(a, b *Node) bool {
	conns := a.Host().Network().ConnsToPeer(b.ID())
	return len(conns) > 0 && !slices.ContainsFunc(conns, func(c network.Conn) bool { return !isRelayed(c) })
}

// privateConfig is a node that listens nowhere and knows it is private:
// others reach it only through the relay it holds a reservation with.
func privateConfig(home string, relay string) Config {
	cfg := loopConfig(home)
	cfg.Listen, cfg.Reachability, cfg.Bootstrap = nil, ReachPrivate, []string{relay}
	return cfg
}

// A node that listens nowhere reserves a slot on a relay; another node
// reaches it only through the relay, and sync carries a practice over
// that relayed link (a bare relay: no other path exists). Gossip does not
// use limited connections (go-libp2p-pubsub opens streams only on direct
// ones), so the practice cannot arrive another way.
func TestRelayedLinkCarriesSync(t *testing.T) {
	relay := bareRelay(t)
	relayAddr := relay.Addrs()[0].String() + "/p2p/" + relay.ID().String()
	b := startLoop(t, privateConfig(t.TempDir(), relayAddr))
	eventually(t, 30*time.Second, "B to reserve a slot on the relay", func() bool {
		rs := b.ReachStatus().Reservations
		return len(rs) == 1 && rs[0].Relay == relay.ID()
	})
	if st := b.ReachStatus(); st.Reachability != ReachPrivate || !st.Forced || len(b.Host().Addrs()) != 0 {
		t.Fatalf("B: reachability %q forced %v, addresses %v; want private, forced, none", st.Reachability, st.Forced, b.Host().Addrs())
	}
	// A listens nowhere either, so B cannot replace the relayed link by
	// dialling A back (DCUtR's connection reversal).
	a := startLoop(t, privateConfig(t.TempDir(), relayAddr))
	sg := publish(t, a, variant(demoSheets(t), 0))
	ctx := network.WithAllowLimitedConn(context.Background(), "test")
	if err := a.Host().Connect(ctx, circuitTo(t, relay, b.ID())); err != nil {
		t.Fatalf("connect through the relay: %v", err)
	}
	if !onlyRelayed(a, b) {
		t.Fatalf("A's connections to B: %v; want relayed ones only", a.Host().Network().ConnsToPeer(b.ID()))
	}
	if st := a.ReachStatus(); st.Relayed < 1 {
		t.Errorf("A counts %d relayed connections", st.Relayed)
	}
	res, err := b.SyncWith(context.Background(), a.ID())
	if err != nil {
		t.Fatalf("sync over the relayed link: %v", err)
	}
	if res.Applied != 1 || !has(b, a.ID(), sg.Announcement().Practice.ID, sg.Announcement().Seq) {
		t.Fatalf("sync over the relay applied %d; B has the practice: %v", res.Applied,
			has(b, a.ID(), sg.Announcement().Practice.ID, sg.Announcement().Seq))
	}
	if !onlyRelayed(a, b) {
		t.Errorf("the session ran while a direct connection existed")
	}
}

// A public Khantara node relays for the network: a private node holds a
// reservation with it, a third node reaches the private one through it,
// and a practice published on the third reaches the private node by
// gossip (through the relay, a member of the mesh).
func TestPrivateNodeReachedThroughKhantaraRelay(t *testing.T) {
	rcfg := loopConfig(t.TempDir())
	rcfg.RelayService, rcfg.Reachability = ModeOn, ReachPublic
	r := startLoop(t, rcfg)
	b := startLoop(t, privateConfig(t.TempDir(), p2pAddr(r)))
	a := startLoop(t, privateConfig(t.TempDir(), p2pAddr(r))) // see TestRelayedLinkCarriesSync
	eventually(t, 30*time.Second, "B to reserve a slot on R", func() bool {
		rs := b.ReachStatus().Reservations
		return len(rs) == 1 && rs[0].Relay == r.ID()
	})
	if st := r.ReachStatus(); !st.Relaying || st.Reachability != ReachPublic {
		t.Errorf("R: relaying %v, reachability %q", st.Relaying, st.Reachability)
	}
	rh := r.Host()
	ctx := network.WithAllowLimitedConn(context.Background(), "test")
	if err := a.Host().Connect(ctx, circuitTo(t, rh, b.ID())); err != nil {
		t.Fatalf("connect through R: %v", err)
	}
	if !onlyRelayed(a, b) {
		t.Fatalf("A's connections to B are not all relayed")
	}
	eventually(t, 20*time.Second, "A and B to share R's gossip mesh", func() bool {
		return len(r.ps.ListPeers(r.topic.String())) >= 2
	})
	sg := publish(t, a, variant(demoSheets(t), 1))
	id, seq := sg.Announcement().Practice.ID, sg.Announcement().Seq
	eventually(t, 20*time.Second, "the practice to reach B", func() bool { return has(b, a.ID(), id, seq) })
}

// Each bad reachability setting gives one line naming its key.
func TestReachConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.Reachability = "maybe" }, `reachability: "maybe" is not one of auto, public, private`},
		{func(c *Config) { c.RelayService = "yes" }, `relay_service: "yes" is not one of auto, on, off`},
		{func(c *Config) { c.DHT = "full" }, `dht: "full" is not one of auto, server, client, off`},
		{func(c *Config) { c.Announce = []string{"1.2.3.4:7117"} }, `announce: "1.2.3.4:7117" is not a multiaddr`},
		{func(c *Config) { c.Announce = []string{"/ip4/203.0.113.7/tcp/7117/p2p/" + testPeerID(t)} }, "ends in /p2p/<peer ID>"},
	} {
		cfg := DefaultConfig(t.TempDir())
		tc.set(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want[:strings.IndexByte(tc.want, ':')+1]) ||
			!strings.Contains(err.Error(), tc.want[strings.IndexByte(tc.want, ':')+2:]) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate = %v; want one line like %q", err, tc.want)
		}
	}
	cfg := DefaultConfig(t.TempDir())
	cfg.Announce = []string{"/ip4/203.0.113.7/tcp/7117"}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a valid announce address: %v", err)
	}
}

func testPeerID(t *testing.T) string {
	id, err := peer.IDFromPrivateKey(testKey(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}
