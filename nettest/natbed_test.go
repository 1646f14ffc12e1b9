package nettest

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRealNATTestbed runs five real daemons on a real NAT testbed (issue
// 14): a public node on "the internet" and two home networks, each behind
// its own masquerading router, with two nodes each that are given only
// the public node's address. It checks that the home nodes learn they
// are private and hold reservations on the public node, find the other
// home's nodes through the DHT, connect through the relay and punch
// holes to direct connections; that a practice published behind one NAT
// arrives behind the other; that a node whose address changed is found
// again and catches up; and that once the public node is gone the home
// nodes still exchange a new practice over their direct connections.
func TestRealNATTestbed(t *testing.T) {
	b := newBed(t)
	bin := buildKhantara(t)
	sheets, err := filepath.Glob("../demo/sheets/*.yaml")
	if err != nil || len(sheets) < 3 {
		t.Fatalf("need three demo sheets: %v", err)
	}
	sort.Strings(sheets)

	b.buildInternet()
	b.buildHome(1)
	b.buildHome(2)
	home := map[string][2]int{"a1": {1, 11}, "a2": {1, 12}, "b1": {2, 11}, "b2": {2, 12}}
	for _, role := range []string{"a1", "a2", "b1", "b2"} {
		b.addHost(role, home[role][0], home[role][1])
	}
	b.checkClosed()

	start := time.Now()
	deadline := start.Add(150 * time.Second)
	newNode := func(role, ip string) *node {
		return &node{t: t, bin: bin, name: role, ns: b.ns(role), ip: ip, home: t.TempDir()}
	}
	pub := newNode("pub", pubIP)
	// AutoNAT v1 decides "public" only after a dial-back by a peer that
	// runs the AutoNAT service, and go-libp2p turns that service off on
	// nodes it finds private: with one public node among private ones,
	// nobody can confirm it, so it would stay "unknown" (and offer no
	// relay in auto mode). The home nodes stay on auto.
	pub.extra = []string{"--reachability", "public"}
	// A home node learns its NAT's public address from its peers'
	// observations, per transport, and its only observer across the NAT
	// is the public node: it offers for hole punching only the transport
	// it reached the public node by. Two nodes that reached it by
	// different transports exchange a TCP address for a QUIC one and
	// the punch cannot succeed (each NAT drops the other's packets). The
	// public node listens on QUIC only, so every home node is observed,
	// and punches, on QUIC; the home nodes listen on TCP and QUIC.
	pub.quicOnly = true
	a1, a2 := newNode("a1", lanIP(1, 11)), newNode("a2", lanIP(1, 12))
	b1, b2 := newNode("b1", lanIP(2, 11)), newNode("b2", lanIP(2, 12))
	all, homes := []*node{pub, a1, a2, b1, b2}, []*node{a1, a2, b1, b2}
	t.Cleanup(func() {
		for _, n := range all {
			n.stop(syscall.SIGKILL)
		}
		if t.Failed() {
			for _, n := range all {
				n.dump()
			}
		}
	})

	pub.start(deadline)
	// Each home node starts once the one before has done its first
	// rendezvous (provided the network's key and looked for others), so
	// every later node finds every earlier one.
	for _, n := range homes {
		n.boot = pub.addrs
		n.start(deadline)
		waitFor(t, deadline, n.name+"'s first rendezvous", all, func() bool {
			st, err := n.status()
			return err == nil && st.Reach.DHT.Rendezvous >= 1
		})
	}
	t.Logf("five daemons up after %v", since(start))

	checkReachability(t, deadline, pub, homes)
	t.Logf("reachability decided, reservations held after %v", since(start))

	cross := [][2]*node{{a1, b1}, {a1, b2}, {a2, b1}, {a2, b2}}
	t.Cleanup(func() {
		if t.Failed() {
			collect(t, homes, cross)
		}
	})
	checkDirect(t, deadline, all, cross)
	t.Logf("every pair across the NATs connected directly after %v", since(start))

	delivered, sent := 0, 0
	deliver := func(from *node, sheet string, to ...*node) {
		t.Helper()
		p := from.publish(sheet)
		sent += len(to)
		waitFor(t, deadline, fmt.Sprintf("%s's practice %s on %s", from.name, p.ID, names(to)), all, func() bool {
			for _, n := range to {
				if !n.has(p) {
					return false
				}
			}
			return true
		})
		delivered += len(to)
	}
	deliver(a1, sheets[0], b1, b2)
	t.Logf("a practice published behind NAT 1 arrived behind NAT 2 after %v", since(start))

	// 5. a2 moves from home network 1 to home network 2 (new LAN and
	// NAT): it restarts with its identity and the new listen address,
	// is found again, and receives a practice published afterwards.
	// A graceful stop: a peer killed outright leaves its peers a direct
	// connection that looks open until QUIC's idle timeout, and DCUtR
	// skips a peer it believes connected, so the relayed link of the
	// restarted node would wait for the relay's circuit limit.
	a2.stop(syscall.SIGTERM)
	b.detach(a2.ns)
	b.attach(a2.ns, "a2", 2, 13)
	a2.ip = lanIP(2, 13)
	a2.start(deadline)
	moved := time.Now()
	var seen []string
	waitFor(t, deadline, "a1, b1 and b2 to find the moved a2 again", all, func() bool {
		seen = seen[:0]
		for _, n := range []*node{a1, b1, b2} {
			ps, err := n.peers()
			if err != nil || link(ps, a2.id) == "" {
				return false
			}
			seen = append(seen, fmt.Sprintf("%s %s %v", n.name, link(ps, a2.id), remoteAddrs(ps, a2.id)))
		}
		return true
	})
	t.Logf("moved a2 found again after %v: %s", since(moved), strings.Join(seen, "; "))
	deliver(b2, sheets[1], a2, a1)
	t.Logf("a practice published after the move reached a2 after %v", since(moved))

	// 4. The public node (relay, DHT server, bootstrap) goes; the homes
	// still exchange a new practice over their direct links.
	cross = [][2]*node{{a1, b1}, {a1, b2}, {a1, a2}}
	checkDirect(t, deadline, all, cross)
	summary := collect(t, homes, cross)
	pub.stop(syscall.SIGKILL)
	deliver(b1, sheets[2], a1)
	if ps, err := a1.peers(); err != nil || link(ps, b1.id) != "direct" {
		t.Fatalf("a1's link to b1 after the public node went: %q (%v); want direct", link(ps, b1.id), err)
	}
	t.Logf("with the public node gone, a practice from behind NAT 2 reached NAT 1 directly")

	t.Logf("natbed: hole punches attempted %d, succeeded %d, failed %d (counted on both sides); across NATs %d direct, %d relayed; practices delivered %d/%d; DHT lookups %d found %d; in %v",
		summary.attempts, summary.successes, summary.failures, summary.direct, summary.relayed, delivered, sent, summary.lookups, summary.found, since(start))
}

// checkReachability waits until the public node says public and every
// home node says private and holds a reservation on the public node.
func checkReachability(t *testing.T, deadline time.Time, pub *node, homes []*node) {
	t.Helper()
	all := append([]*node{pub}, homes...)
	var last = map[string]string{}
	defer func() {
		if t.Failed() {
			t.Logf("last reachability seen: %v", last)
		}
	}()
	waitFor(t, deadline, "the public node to say public and every home node private with a reservation on it", all, func() bool {
		ok := true
		for _, n := range all {
			st, err := n.status()
			if err != nil {
				last[n.name] = err.Error()
				ok = false
				continue
			}
			r := st.Reach
			last[n.name] = fmt.Sprintf("%s forced=%v reservations=%d", r.Reachability, r.Forced, len(r.Reservations))
			if n == pub {
				ok = ok && r.Reachability == "public" && r.Relaying
				continue
			}
			held := false
			for _, res := range r.Reservations {
				held = held || res.Relay == pub.id
			}
			ok = ok && r.Reachability == "private" && held
		}
		return ok
	})
	for _, n := range all {
		st, _ := n.status()
		t.Logf("%s: reachability %s (forced %v), NAT tcp %s udp %s, reservations %d, DHT %s, AutoNAT v2 reachable %v unreachable %v",
			n.name, st.Reach.Reachability, st.Reach.Forced, st.Reach.NATTCP, st.Reach.NATUDP, len(st.Reach.Reservations), st.Reach.DHT.Mode,
			st.Reach.ReachableAddrs, st.Reach.UnreachableAddrs)
	}
}

// checkDirect waits until both nodes of every pair are connected to each
// other directly (not through the relay).
func checkDirect(t *testing.T, deadline time.Time, all []*node, pairs [][2]*node) {
	t.Helper()
	state := map[string]string{}
	defer func() {
		if t.Failed() {
			t.Logf("last links seen: %v", state)
		}
	}()
	waitFor(t, deadline, "direct connections between the home networks", all, func() bool {
		ok := true
		for _, pair := range pairs {
			for _, n := range []*node{pair[0], pair[1]} {
				other := pair[0]
				if n == other {
					other = pair[1]
				}
				ps, err := n.peers()
				kind := link(ps, other.id)
				if err != nil {
					kind = err.Error()
				}
				state[n.name+"->"+other.name] = kind
				ok = ok && kind == "direct"
			}
		}
		return ok
	})
}

// tally is what a run did: hole punches and connections across the NATs.
type tally struct {
	attempts, successes, failures uint64
	direct, relayed               int
	lookups, found                uint64
}

// collect sums the home nodes' hole punches and counts the links of the
// pairs across NATs.
func collect(t *testing.T, homes []*node, pairs [][2]*node) tally {
	t.Helper()
	var s tally
	for _, n := range homes {
		if !n.running() {
			continue
		}
		st, err := n.status()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		hp := st.Reach.HolePunches
		s.attempts += hp.Attempts
		s.successes += hp.Successes
		s.failures += hp.Failures
		s.lookups += st.Reach.DHT.Lookups
		s.found += st.Reach.DHT.Found
		t.Logf("%s: hole punches %+v, connections %+v, DHT %s table %d lookups %d found %d members %d",
			n.name, hp, st.Reach.Connections, st.Reach.DHT.Mode, st.Reach.DHT.RoutingTable, st.Reach.DHT.Lookups, st.Reach.DHT.Found, st.Reach.DHT.Members)
	}
	for _, pair := range pairs {
		ps, err := pair[0].peers()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		switch link(ps, pair[1].id) {
		case "direct":
			s.direct++
		case "relayed":
			s.relayed++
		}
	}
	return s
}

func names(ns []*node) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	return strings.Join(out, ", ")
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
