package nettest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
)

// buildKhantara builds the command into a temporary directory.
func buildKhantara(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "khantara")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/khantara").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// node is one `khantara daemon` process in a namespace of the testbed.
// The test reaches its API (on the namespace's loopback) through the CLI
// run in the same namespace.
type node struct {
	t            testing.TB
	bin, name    string
	ns, ip, home string
	extra, boot  []string
	cmd          *exec.Cmd
	stderr       *lockedBuffer
	exited       chan struct{}
	id           string
	addrs        []string
	logs         []string // stderr of earlier runs of this node
	// past sums the counters of earlier runs of this node (read by stop):
	// a daemon's counters start from zero at each start.
	past counters
}

// counters are the hole punches and DHT lookups a daemon counted.
type counters struct {
	punches        api.HolePunches
	lookups, found uint64
}

// add adds the counters of st's reach section to c.
func (c *counters) add(r *api.Reach) {
	c.punches.Attempts += r.HolePunches.Attempts
	c.punches.Successes += r.HolePunches.Successes
	c.punches.Failures += r.HolePunches.Failures
	c.punches.DirectDials += r.HolePunches.DirectDials
	c.punches.DirectDialFailures += r.HolePunches.DirectDialFailures
	c.lookups += r.DHT.Lookups
	c.found += r.DHT.Found
}

// daemonArgs are every node's flags: no mDNS and no UPnP/NAT-PMP (they
// would multicast and talk to a real gateway), the API on the
// namespace's loopback, TCP and QUIC on the namespace's address, a short
// sync interval.
func (n *node) daemonArgs() []string {
	args := []string{"daemon", "--home", n.home, "--network", "natbed",
		"--listen", "/ip4/" + n.ip + "/udp/0/quic-v1", "--listen", "/ip4/" + n.ip + "/tcp/0",
		"--api", "127.0.0.1:0", "--mdns=false", "--nat=false", "--sync-interval", "2s",
		"--log-level", "debug"}
	args = append(args, n.extra...)
	for _, b := range n.boot {
		args = append(args, "--bootstrap", b)
	}
	return args
}

// start runs the daemon in its namespace and waits until its status
// answers. On test failure the stderr of every run is logged.
func (n *node) start(deadline time.Time) {
	n.t.Helper()
	n.stderr = &lockedBuffer{}
	n.exited = make(chan struct{})
	n.cmd = exec.Command("ip", append([]string{"netns", "exec", n.ns, n.bin}, n.daemonArgs()...)...)
	n.cmd.Stderr = n.stderr
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start %s: %v", n.name, err)
	}
	exited := n.exited
	cmd := n.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	var st api.Status
	waitFor(n.t, deadline, n.name+"'s API", []*node{n}, func() bool {
		var err error
		st, err = n.status()
		return err == nil && len(st.Addrs) == 2 // TCP and QUIC
	})
	if n.id != "" && st.PeerID != n.id {
		n.t.Fatalf("%s came back as %s, was %s: its identity did not persist", n.name, st.PeerID, n.id)
	}
	n.id, n.addrs = st.PeerID, st.Addrs
}

// stop ends the daemon with sig (SIGKILL: the abrupt end of a machine or
// a link; SIGTERM: a graceful shutdown, which closes its connections) and
// waits for it, at most 20 s before SIGKILL, keeping its stderr for the
// failure log and its counters for the summary.
func (n *node) stop(sig syscall.Signal) {
	if n.cmd == nil {
		return
	}
	if st, err := n.status(); err == nil && n.running() {
		n.past.add(st.Reach)
	}
	select {
	case <-n.exited:
	default:
		_ = n.cmd.Process.Signal(sig)
		select {
		case <-n.exited:
		case <-time.After(20 * time.Second):
			_ = n.cmd.Process.Signal(syscall.SIGKILL)
			<-n.exited
		}
	}
	n.logs = append(n.logs, n.stderr.String())
	n.cmd = nil
}

// dump logs the daemon's stderr, of every run.
func (n *node) dump() {
	all := n.logs
	if n.cmd != nil {
		all = append(all, n.stderr.String())
	}
	for i, s := range all {
		n.t.Logf("stderr of %s (%s, run %d):\n%s", n.name, n.id, i+1, s)
	}
}

// running reports whether the daemon process is up.
func (n *node) running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// cli runs a khantara command in the node's namespace against its daemon
// and decodes its JSON output into out.
func (n *node) cli(out any, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	full := append([]string{"netns", "exec", n.ns, n.bin}, args...)
	full = append(full, "--home", n.home, "--json")
	cmd := exec.CommandContext(ctx, "ip", full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: khantara %s: %v: %s", n.name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("%s: khantara %s: %v in %q", n.name, strings.Join(args, " "), err, stdout.String())
	}
	return nil
}

func (n *node) status() (api.Status, error) {
	var st api.Status
	err := n.cli(&st, "status")
	if err == nil && st.Reach == nil {
		err = fmt.Errorf("%s: status has no reach section", n.name)
	}
	return st, err
}

func (n *node) peers() ([]api.Peer, error) {
	var ps []api.Peer
	return ps, n.cli(&ps, "peers")
}

// publish publishes one fact sheet.
func (n *node) publish(file string) api.Published {
	n.t.Helper()
	var ps []api.Published
	if err := n.cli(&ps, "publish", file); err != nil || len(ps) != 1 || ps[0].Publisher != n.id || ps[0].Seq == 0 {
		n.t.Fatalf("%s: publish %s: %v (answered %+v)", n.name, file, err, ps)
	}
	return ps[0]
}

// has reports whether the node holds p as published.
func (n *node) has(p api.Published) bool {
	var rec struct {
		Seq uint64 `json:"seq"`
	}
	return n.cli(&rec, "show", p.Publisher+"/"+p.ID) == nil && rec.Seq == p.Seq
}

// link is how a node is connected to a peer: "direct", "relayed", or ""
// when not connected. A peer with a direct and a relayed connection is
// direct.
func link(ps []api.Peer, id string) string {
	for _, p := range ps {
		if p.ID != id {
			continue
		}
		kind := "relayed"
		for _, a := range p.Addrs {
			if !strings.Contains(a, "/p2p-circuit") {
				kind = "direct"
			}
		}
		return kind
	}
	return ""
}

// remoteAddrs is the remote addresses of a node's connections to peer id.
func remoteAddrs(ps []api.Peer, id string) []string {
	for _, p := range ps {
		if p.ID == id {
			return p.Addrs
		}
	}
	return nil
}

// waitFor polls cond every 250 ms until it holds, failing the test at the
// deadline or as soon as one of the daemons exits.
func waitFor(t testing.TB, deadline time.Time, what string, ns []*node, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		for _, n := range ns {
			if n.cmd != nil && !n.running() {
				t.Fatalf("waiting for %s: %s exited (%v)", what, n.name, n.cmd.ProcessState)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
