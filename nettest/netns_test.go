package nettest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The testbed's network. Every namespace is named nsPrefix-<pid of the
// test process>-<random>-<role>, so parallel runs never collide and a
// namespace whose test process is gone is known to be stale. Links are
// created inside the testbed's namespaces only (never in the root one)
// and named <short tag>-<role>, at most 15 characters.
//
// The "internet" is 7.7.0.0/24 on a bridge in namespace inet: an address
// range go-libp2p takes for public (AutoNAT and hole punching only use
// public addresses; 10/8, 192.168/16, the TEST-NETs and 198.18/15 are not
// public to them). It is reachable only from the testbed's namespaces,
// which have no link to the root namespace or any real network.
const (
	nsPrefix = "knat"
	// inetNet is the "internet"'s /24; pubIP the public node's address
	// on it; routers take .11, .12, ... (routerIP).
	inetNet = "7.7.0."
	pubIP   = inetNet + "10"
	// pub2IP is a second public node's first address, pub2MovedIP the
	// one it moves to.
	pub2IP      = inetNet + "20"
	pub2MovedIP = inetNet + "21"
)

// cmdTimeout bounds every ip, iptables and sysctl command.
const cmdTimeout = 20 * time.Second

// bed is one testbed: its namespaces, removed at the end of the test.
type bed struct {
	t    testing.TB
	name string // nsPrefix-<pid>-<random>
	link string // short prefix of link names
	nss  []string
}

// newBed checks root and the tools, removes stale testbeds of earlier
// runs, and registers the removal of this one.
func newBed(t testing.TB) *bed {
	t.Helper()
	requireNetns(t)
	removeStale(t)
	var r [3]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	tag := hex.EncodeToString(r[:])
	b := &bed{t: t, name: fmt.Sprintf("%s-%d-%s", nsPrefix, os.Getpid(), tag), link: "k" + tag[:4]}
	t.Cleanup(b.remove)
	return b
}

// requireNetns skips the test, or fails it when KHANTARA_NETNS=required,
// unless the process is root and ip and iptables can make a namespace
// with a NAT table.
func requireNetns(t testing.TB) {
	t.Helper()
	if os.Getenv("KHANTARA_TESTNET") != "1" {
		t.Skip("the NAT testbed runs in make test-net (KHANTARA_TESTNET=1)")
	}
	problem := ""
	switch {
	case testing.Short():
		problem = "-short: the NAT testbed builds the binary and runs five daemons"
	case os.Geteuid() != 0:
		problem = "not root: network namespaces and iptables need root"
	default:
		for _, tool := range []string{"ip", "iptables"} {
			if _, err := exec.LookPath(tool); err != nil {
				problem = fmt.Sprintf("%s not found (apt-get install iproute2 iptables): %v", tool, err)
			}
		}
	}
	if problem == "" {
		problem = probeNetns()
	}
	if problem == "" {
		return
	}
	if os.Getenv("KHANTARA_NETNS") == "required" {
		t.Fatalf("KHANTARA_NETNS=required but the NAT testbed cannot run: %s", problem)
	}
	t.Skipf("NAT testbed skipped: %s (set KHANTARA_NETNS=required to fail instead)", problem)
}

// probeNetns makes and removes a namespace with a NAT table, returning
// what failed, or "".
func probeNetns() string {
	ns := fmt.Sprintf("%s-%d-probe", nsPrefix, os.Getpid())
	if out, err := command("ip", "netns", "add", ns); err != nil {
		return fmt.Sprintf("cannot create a network namespace: %v: %s", err, out)
	}
	defer command("ip", "netns", "del", ns)
	if out, err := command("ip", "netns", "exec", ns, "iptables", "-t", "nat", "-L", "-n"); err != nil {
		return fmt.Sprintf("iptables has no NAT table in a namespace: %v: %s", err, out)
	}
	return ""
}

// command runs one command within cmdTimeout and returns its combined
// output.
func command(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// must runs a command and fails the test if it fails.
func (b *bed) must(name string, args ...string) string {
	b.t.Helper()
	out, err := command(name, args...)
	if err != nil {
		b.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// in runs a command inside namespace ns.
func (b *bed) in(ns string, args ...string) string {
	b.t.Helper()
	return b.must("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// ns returns the name of the namespace of role.
func (b *bed) ns(role string) string { return b.name + "-" + role }

// lk returns the name of the link of role (at most 15 characters).
func (b *bed) lk(role string) string {
	name := b.link + "-" + role
	if len(name) > 15 {
		b.t.Fatalf("link name %q is over 15 characters", name)
	}
	return name
}

// addNS creates the namespace of role with its loopback up.
func (b *bed) addNS(role string) string {
	b.t.Helper()
	ns := b.ns(role)
	b.must("ip", "netns", "add", ns)
	b.nss = append(b.nss, ns)
	b.must("ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// veth joins namespaces nsA and nsB by a veth pair named a and b, both up.
func (b *bed) veth(nsA, a, nsB, bName string) {
	b.t.Helper()
	b.must("ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", "name", bName, "netns", nsB)
	b.must("ip", "-n", nsA, "link", "set", a, "up")
	b.must("ip", "-n", nsB, "link", "set", bName, "up")
}

// bridge creates bridge br in ns, up, with addr (CIDR) unless empty.
func (b *bed) bridge(ns, br, addr string) {
	b.t.Helper()
	b.must("ip", "-n", ns, "link", "add", br, "type", "bridge")
	b.must("ip", "-n", ns, "link", "set", br, "up")
	if addr != "" {
		b.must("ip", "-n", ns, "addr", "add", addr, "dev", br)
	}
}

// plug connects a new namespace's interface "eth" (named lk(role)+"e")
// to bridge br of namespace hub, with address addr (CIDR).
func (b *bed) plug(hub, br, ns, role, addr string) {
	b.t.Helper()
	outer, inner := b.lk(role), b.lk("eth")
	b.veth(hub, outer, ns, inner)
	b.must("ip", "-n", hub, "link", "set", outer, "master", br)
	b.must("ip", "-n", ns, "addr", "add", addr, "dev", inner)
}

// addPublic creates namespace role on the internet bridge at ip.
func (b *bed) addPublic(role, ip string) string {
	b.t.Helper()
	ns := b.addNS(role)
	b.plug(b.ns("inet"), b.lk("br"), ns, role, ip+"/24")
	return ns
}

// renumber moves namespace ns's address on its "eth" interface from old
// to ip (both on a /24): the same link, a new address.
func (b *bed) renumber(ns, old, ip string) {
	b.t.Helper()
	b.must("ip", "-n", ns, "addr", "del", old+"/24", "dev", b.lk("eth"))
	b.must("ip", "-n", ns, "addr", "add", ip+"/24", "dev", b.lk("eth"))
}

// routerIP is the internet address of home network i (1, 2, ...).
func routerIP(i int) string { return inetNet + strconv.Itoa(10+i) }

// lanIP is host h's address on home network i's LAN 192.168.i.0/24.
func lanIP(i, h int) string { return fmt.Sprintf("192.168.%d.%d", i, h) }

// buildInternet creates namespace inet with its bridge and the public
// namespace pub on it at pubIP.
func (b *bed) buildInternet() {
	b.t.Helper()
	inet := b.addNS("inet")
	b.bridge(inet, b.lk("br"), "")
	pub := b.addNS("pub")
	b.plug(inet, b.lk("br"), pub, "pub", pubIP+"/24")
}

// buildHome creates home network i: a router namespace with one leg on
// the internet and one on the LAN bridge, masquerading out of the
// internet leg, and stateful like a home router (what comes in from the
// internet passes only as part of a connection from inside: no RST or
// ICMP answers to strangers). Its nodes are added with addHost.
func (b *bed) buildHome(i int) {
	b.t.Helper()
	r := b.addNS(fmt.Sprintf("r%d", i))
	b.plug(b.ns("inet"), b.lk("br"), r, fmt.Sprintf("r%d", i), routerIP(i)+"/24")
	wan := b.lk("eth")
	b.bridge(r, b.lk("lan"), lanIP(i, 1)+"/24")
	b.in(r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	for _, rule := range [][]string{
		{"-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE"},
		{"-A", "FORWARD", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-A", "FORWARD", "-i", wan, "-j", "DROP"},
		{"-A", "INPUT", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-A", "INPUT", "-i", wan, "-j", "DROP"},
	} {
		b.in(r, append([]string{"iptables"}, rule...)...)
	}
}

// addHost creates namespace role on home network i's LAN at lanIP(i, h),
// with a default route through the router.
func (b *bed) addHost(role string, i, h int) string {
	b.t.Helper()
	ns := b.addNS(role)
	b.attach(ns, role, i, h)
	return ns
}

// attach connects existing namespace ns (by a veth named after role) to
// home network i's LAN at lanIP(i, h), routed through its router.
func (b *bed) attach(ns, role string, i, h int) {
	b.t.Helper()
	b.plug(b.ns(fmt.Sprintf("r%d", i)), b.lk("lan"), ns, role, lanIP(i, h)+"/24")
	b.must("ip", "-n", ns, "route", "add", "default", "via", lanIP(i, 1))
}

// detach removes ns's LAN interface (and so its address and route).
func (b *bed) detach(ns string) {
	b.t.Helper()
	b.must("ip", "-n", ns, "link", "del", b.lk("eth"))
}

// checkClosed fails the test unless every link of every namespace of the
// testbed is its own (or lo), and the root namespace holds none of its
// links or addresses: the testbed's traffic cannot leave it.
func (b *bed) checkClosed() {
	b.t.Helper()
	for _, ns := range b.nss {
		for _, line := range strings.Split(b.must("ip", "-n", ns, "-o", "link", "show"), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			if name != "lo" && !strings.HasPrefix(name, b.link+"-") {
				b.t.Fatalf("namespace %s has link %q, not the testbed's: traffic could leave it", ns, name)
			}
		}
	}
	root := b.must("ip", "-o", "addr", "show")
	if strings.Contains(root, b.link+"-") || strings.Contains(root, " "+inetNet) {
		b.t.Fatalf("the root namespace holds a testbed link or address:\n%s", root)
	}
}

// remove deletes the testbed's namespaces (their links go with them).
// The daemons in them must be stopped first.
func (b *bed) remove() {
	for i := len(b.nss) - 1; i >= 0; i-- {
		if out, err := command("ip", "netns", "del", b.nss[i]); err != nil {
			b.t.Errorf("remove namespace %s: %v: %s", b.nss[i], err, out)
		}
	}
}

// removeStale deletes the namespaces of testbeds whose test process is
// gone, killing what still runs in them (daemons of a test that was
// killed itself).
func removeStale(t testing.TB) {
	t.Helper()
	out, err := command("ip", "netns", "list")
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix+"-") {
			continue
		}
		ns := f[0]
		parts := strings.SplitN(ns, "-", 3)
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		pids, _ := command("ip", "netns", "pids", ns)
		for _, p := range strings.Fields(pids) {
			if n, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(n, syscall.SIGKILL)
			}
		}
		if out, err := command("ip", "netns", "del", ns); err != nil {
			t.Logf("stale namespace %s not removed: %v: %s", ns, err, out)
		} else {
			t.Logf("removed stale namespace %s of a test process gone", ns)
		}
	}
}

// processAlive reports whether process pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
