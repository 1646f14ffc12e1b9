package node

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	ma "github.com/multiformats/go-multiaddr"
)

// In auto mode the DHT's status says the mode it runs in now: a server
// while the node is public, a client while it is private (kad-dht's own
// Mode only repeats the configured auto mode).
func TestDHTStatusModeFollowsReachability(t *testing.T) {
	for _, tc := range []struct{ reach, want string }{{ReachPublic, DHTServer}, {ReachPrivate, DHTClient}} {
		t.Run(tc.reach, func(t *testing.T) {
			cfg := loopConfig(t.TempDir())
			cfg.Reachability, cfg.DHT = tc.reach, ModeAuto
			n := startLoop(t, cfg)
			eventually(t, 10*time.Second, "the DHT to run as a "+tc.want, func() bool {
				return n.ReachStatus().DHT.Mode == tc.want
			})
		})
	}
}

// New relay addresses bring the next rendezvous forward: the node's
// first one ran before it held a reservation, and another after
// rendezvousInterval (an hour here) would leave it unfound that long.
func TestRendezvousAgainOnRelayAddrs(t *testing.T) {
	t.Cleanup(func(d time.Duration) func() { return func() { rendezvousInterval = d } }(rendezvousInterval))
	rendezvousInterval = time.Hour
	acfg := loopConfig(t.TempDir())
	acfg.DHT = DHTServer // see TestDHTFindsRestartedPeerByID
	a := startLoop(t, acfg)
	b := startLoop(t, loopConfig(t.TempDir(), a))
	eventually(t, 20*time.Second, "B's first rendezvous", func() bool { return b.ReachStatus().DHT.Rendezvous >= 1 })
	em, err := b.Host().EventBus().Emitter(new(event.EvtAutoRelayAddrsUpdated))
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	circuit := ma.StringCast(p2pAddr(a) + "/p2p-circuit")
	if err := em.Emit(event.EvtAutoRelayAddrsUpdated{RelayAddrs: []ma.Multiaddr{circuit}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "B's rendezvous after its relay addresses changed", func() bool {
		return b.ReachStatus().DHT.Rendezvous >= 2
	})
}
