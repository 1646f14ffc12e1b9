package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/host/autonat"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// How a node in reachability auto decides it is public when AutoNAT v1
// cannot tell. v1 asks one peer at a time to dial it back, and only peers
// that announce a public address: a public node whose peers are all
// behind NATs (they announce their LAN addresses and relay addresses)
// finds nobody to ask and stays "unknown", so it would offer no relay and
// would not serve the DHT. AutoNAT v2 asks any peer that runs its server
// to dial one given address, and reports the addresses it confirmed
// (EvtHostReachableAddrsChanged, after two more successes than failures).
// While v1 has no verdict, a confirmed public address (not a relay
// address) makes the node public; v1's verdict, once it has one, wins.
// The verdict is emitted as EvtLocalReachabilityChanged, which the relay
// service, autorelay, the DHT's auto mode and the address manager follow.

// Sources of the reachability verdict (ReachStatus.DecidedBy).
const (
	// DecidedByConfig: the reachability setting forces it.
	DecidedByConfig = "config"
	// DecidedByAutoNAT: AutoNAT v1's dial-backs (or nothing decided yet).
	DecidedByAutoNAT = "autonat"
	// DecidedByAutoNATv2: addresses AutoNAT v2 confirmed, while v1 had
	// no verdict.
	DecidedByAutoNATv2 = "autonat-v2"
)

// verdictBuf is the buffer of the monitor's subscription: the monitor
// emits the v2 verdict to the bus it reads from, so the buffer must take
// the echo while the monitor is emitting.
const verdictBuf = 64

// openVerdict prepares the v2 verdict: an emitter of reachability events
// and AutoNAT v1's status, unless the configuration forces reachability
// or the host has no AutoNAT v1.
func (r *reach) openVerdict(h host.Host) error {
	if r.cfg.Reachability != ModeAuto {
		return nil
	}
	an, ok := h.(interface{ GetAutoNat() autonat.AutoNAT })
	if !ok || an.GetAutoNat() == nil {
		return nil
	}
	em, err := h.EventBus().Emitter(new(event.EvtLocalReachabilityChanged), eventbus.Stateful)
	if err != nil {
		return fmt.Errorf("emit reachability: %w", err)
	}
	r.emitter, r.v1 = em, an.GetAutoNat().Status
	return nil
}

// decide emits the v2 verdict when AutoNAT v1 has none and it differs
// from the reachability the node runs with. Called by the monitor's loop
// after each event.
func (r *reach) decide() {
	if r.emitter == nil {
		return
	}
	v1 := r.v1()
	r.mu.Lock()
	current, fromV2 := r.reachability, r.decidedBy == DecidedByAutoNATv2
	want := network.ReachabilityUnknown
	if anyPublic(r.reachable) {
		want = network.ReachabilityPublic
	}
	switch {
	case v1 != network.ReachabilityUnknown:
		// v1 decided: its own event set r.reachability.
		r.decidedBy = DecidedByAutoNAT
		r.mu.Unlock()
		return
	case want == current, want == network.ReachabilityUnknown && !fromV2:
		r.mu.Unlock()
		return
	}
	r.reachability = want
	r.decidedBy = DecidedByAutoNATv2
	if want == network.ReachabilityUnknown {
		r.decidedBy = DecidedByAutoNAT // v2 took back its confirmation
	}
	r.mu.Unlock()
	_ = r.emitter.Emit(event.EvtLocalReachabilityChanged{Reachability: want}) // fails only once the host closes
}

// anyPublic reports whether addrs holds a public address that is not a
// relay address.
func anyPublic(addrs []ma.Multiaddr) bool {
	for _, a := range addrs {
		if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
			continue
		}
		if manet.IsPublicAddr(a) {
			return true
		}
	}
	return false
}

// closeVerdict closes the emitter. Safe when there is none.
func (r *reach) closeVerdict() {
	if r.emitter != nil {
		_ = r.emitter.Close()
	}
}
