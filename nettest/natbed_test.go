package nettest

import (
	"fmt"
	"path/filepath"
	"slices"
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
// arrives behind the other; that a node moved to the other home network
// is found again and catches up; that a second public node that moved
// to a new address is found again by ID through the DHT; and that once
// the public node is gone the home nodes still exchange a new practice
// over their direct connections.
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
	b.addPublic("pub2", pub2IP)
	home := map[string][2]int{"a1": {1, 11}, "a2": {1, 12}, "b1": {2, 11}, "b2": {2, 12}}
	for _, role := range []string{"a1", "a2", "b1", "b2"} {
		b.addHost(role, home[role][0], home[role][1])
	}
	b.checkClosed()

	start := time.Now()
	deadline := start.Add(200 * time.Second)
	newNode := func(role, ip string) *node {
		return &node{t: t, bin: bin, name: role, ns: b.ns(role), ip: ip, home: t.TempDir()}
	}
	// Every node runs reachability auto: the public node learns it is
	// public from AutoNAT v2 (its peers behind NATs dial its address
	// back), since AutoNAT v1 asks only peers that announce a public
	// address, and the home nodes announce none.
	pub := newNode("pub", pubIP)
	a1, a2 := newNode("a1", lanIP(1, 11)), newNode("a2", lanIP(1, 12))
	b1, b2 := newNode("b1", lanIP(2, 11)), newNode("b2", lanIP(2, 12))
	pub2 := newNode("pub2", pub2IP)
	all, homes := []*node{pub, a1, a2, b1, b2, pub2}, []*node{a1, a2, b1, b2}
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
	// Every node listens on TCP and QUIC. The nodes of home 1 are given
	// the public node's TCP address, those of home 2 its QUIC address:
	// each home node learns its NAT's public address from the public
	// node's observation, on the transport it came by, so the two homes
	// start out observed on different transports, and their hole
	// punches must work across them.
	for _, n := range homes {
		n.boot = onTransport(pub.addrs, "/tcp/")
		if n == b1 || n == b2 {
			n.boot = onTransport(pub.addrs, "/quic-v1/")
		}
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

	checkFoundByID(t, b, deadline, all, pub, pub2, a1)

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
			last[n.name] = fmt.Sprintf("%s forced=%v reservations=%d v2 reachable %v unreachable %v", r.Reachability, r.Forced, len(r.Reservations), r.ReachableAddrs, r.UnreachableAddrs)
			if n == pub {
				ok = ok && r.Reachability == "public" && !r.Forced && r.Relaying
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
		t.Logf("%s: reachability %s (decided by %s), NAT tcp %s udp %s, reservations %d, DHT %s, AutoNAT v2 reachable %v unreachable %v",
			n.name, st.Reach.Reachability, st.Reach.DecidedBy, st.Reach.NATTCP, st.Reach.NATUDP, len(st.Reach.Reservations), st.Reach.DHT.Mode,
			st.Reach.ReachableAddrs, st.Reach.UnreachableAddrs)
	}
}

// checkFoundByID moves pub2, a second public node that seeker dialled
// directly, to a new address while seeker is down, and checks that
// seeker, started again with only pub2's old address (in its bootstrap
// list and its address book), finds pub2 by ID through the DHT and
// connects to its new address. pub2 runs no DHT (a DHT server is in
// every routing table, and a provider of the rendezvous key is found by
// the rendezvous: either would reach it without a lookup by ID); pub,
// the DHT server it is connected to, answers for it. pub2 keeps at most
// one connection wanted (--conn-low 1), so it does not redial seeker
// itself: only the lookup can bring the two together.
func checkFoundByID(t *testing.T, b *bed, deadline time.Time, all []*node, pub, pub2, seeker *node) {
	t.Helper()
	start := time.Now()
	pub2.boot = pub.addrs
	pub2.extra = []string{"--dht", "off", "--conn-low", "1"}
	pub2.start(deadline)
	oldAddrs := pub2.addrs
	seeker.stop(syscall.SIGTERM)
	seeker.boot = append(slices.Clone(pub.addrs), oldAddrs...)
	seeker.start(deadline)
	waitFor(t, deadline, seeker.name+" to dial pub2 directly", all, func() bool {
		ps, err := seeker.peers()
		return err == nil && link(ps, pub2.id) == "direct"
	})
	seeker.stop(syscall.SIGTERM)
	pub2.stop(syscall.SIGTERM)
	b.renumber(pub2.ns, pub2IP, pub2MovedIP)
	pub2.ip = pub2MovedIP
	pub2.start(deadline)
	moved := time.Now()
	seeker.start(deadline)
	var remote []string
	waitFor(t, deadline, seeker.name+" to find pub2 at its new address", all, func() bool {
		ps, err := seeker.peers()
		remote = remoteAddrs(ps, pub2.id)
		return err == nil && link(ps, pub2.id) == "direct"
	})
	st, err := seeker.status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Reach.DHT.Lookups < 1 || st.Reach.DHT.Found < 1 {
		t.Fatalf("%s reached the moved pub2 with %d DHT lookups, %d found; want it found by a lookup", seeker.name, st.Reach.DHT.Lookups, st.Reach.DHT.Found)
	}
	for _, a := range remote {
		if !strings.HasPrefix(a, "/ip4/"+pub2MovedIP+"/") {
			t.Fatalf("%s is connected to pub2 at %v; want only its new address %s (old: %v)", seeker.name, remote, pub2MovedIP, oldAddrs)
		}
	}
	t.Logf("moved pub2 found by ID after %v (%v in all): %s lookups %d found %d, connected to %v, old %v",
		since(moved), since(start), seeker.name, st.Reach.DHT.Lookups, st.Reach.DHT.Found, remote, oldAddrs)
	pub2.stop(syscall.SIGTERM) // the last step runs with no public node
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

// collect sums the home nodes' hole punches and DHT lookups over all
// their runs and counts the links of the pairs across NATs.
func collect(t *testing.T, homes []*node, pairs [][2]*node) tally {
	t.Helper()
	var s tally
	for _, n := range homes {
		c := n.past
		if n.running() {
			st, err := n.status()
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			c.add(st.Reach)
			t.Logf("%s: connections %+v, NAT tcp %s udp %s, DHT %s table %d members %d",
				n.name, st.Reach.Connections, st.Reach.NATTCP, st.Reach.NATUDP, st.Reach.DHT.Mode, st.Reach.DHT.RoutingTable, st.Reach.DHT.Members)
		}
		s.attempts += c.punches.Attempts
		s.successes += c.punches.Successes
		s.failures += c.punches.Failures
		s.lookups += c.lookups
		s.found += c.found
		t.Logf("%s, all runs: hole punches %+v, DHT lookups %d found %d", n.name, c.punches, c.lookups, c.found)
	}
	for _, pair := range pairs {
		ps, err := pair[0].peers()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		t.Logf("%s->%s: %s %v", pair[0].name, pair[1].name, link(ps, pair[1].id), remoteAddrs(ps, pair[1].id))
		switch link(ps, pair[1].id) {
		case "direct":
			s.direct++
		case "relayed":
			s.relayed++
		}
	}
	return s
}

// onTransport returns the addresses of addrs that contain proto.
func onTransport(addrs []string, proto string) []string {
	var out []string
	for _, a := range addrs {
		if strings.Contains(a, proto) {
			out = append(out, a)
		}
	}
	return out
}

func names(ns []*node) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	return strings.Join(out, ", ")
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
