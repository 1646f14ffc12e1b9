package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	khome "github.com/khantara/khantara/home"

	"github.com/khantara/khantara/api"
)

// TestDaemonFederation runs three real daemons on loopback: a practice
// published on one reaches the others; a daemon killed with SIGKILL comes
// back with its identity and store, finds its peers again and catches up
// with what was published while it was down; SIGTERM stops every daemon
// cleanly and removes its api file.
func TestDaemonFederation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three daemons")
	}
	bin := buildKhantara(t)
	sheets, err := filepath.Glob("../../demo/sheets/*.yaml")
	if err != nil || len(sheets) < 2 {
		t.Fatalf("need two demo sheets: %v", err)
	}
	sort.Strings(sheets)

	start := time.Now()
	deadline := start.Add(60 * time.Second)
	d1 := startDaemon(t, bin, "node1", t.TempDir(), deadline)
	d2 := startDaemon(t, bin, "node2", t.TempDir(), deadline, d1.status.Addrs...)
	boot3 := append(append([]string{}, d1.status.Addrs...), d2.status.Addrs...)
	d3 := startDaemon(t, bin, "node3", t.TempDir(), deadline, boot3...)
	all := []*daemon{d1, d2, d3}

	t.Logf("three daemons up after %v", time.Since(start).Round(time.Millisecond))

	p1 := d1.publish(t, sheets[0])
	waitFor(t, deadline, "the first practice on nodes 2 and 3", all, func() bool {
		return d2.has(p1) && d3.has(p1)
	})

	t.Logf("first practice everywhere after %v", time.Since(start).Round(time.Millisecond))

	d3.kill(t)
	p2 := d2.publish(t, sheets[1])
	id3 := d3.status.PeerID
	d3 = startDaemon(t, bin, "node3", d3.home, deadline, boot3...)
	all[2] = d3
	if d3.status.PeerID != id3 {
		t.Fatalf("node 3 came back as %s, was %s: its identity did not persist", d3.status.PeerID, id3)
	}
	waitFor(t, deadline, "node 3 to hold both practices and every digest to agree", all, func() bool {
		if !d3.has(p1) || !d3.has(p2) {
			return false
		}
		digests := map[string]bool{}
		for _, d := range all {
			st, err := d.getStatus()
			if err != nil || st.Practices != 2 {
				return false
			}
			digests[st.Digest] = true
		}
		return len(digests) == 1
	})

	t.Logf("node 3 caught up after %v", time.Since(start).Round(time.Millisecond))

	for _, d := range all {
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("%s: SIGTERM: %v", d.name, err)
		}
	}
	for _, d := range all {
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
			t.Fatalf("%s did not exit within 15s of SIGTERM", d.name)
		}
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s exited with code %d, want 0", d.name, code)
		}
		if _, err := os.Stat(filepath.Join(d.home, khome.APIFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left %s behind (stat: %v)", d.name, khome.APIFile, err)
		}
	}
}

// TestDaemonConfigErrors checks that bad flags stop the daemon before it
// starts, with one line naming the key and exit code 2.
func TestDaemonConfigErrors(t *testing.T) {
	home, confDir := t.TempDir(), t.TempDir()
	conf := func(name, text string) string {
		path := filepath.Join(confDir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"network", []string{"--network", "Big Net"}, `network: "Big Net" is not a network name`},
		{"listen", []string{"--listen", "127.0.0.1:7117"}, `listen: "127.0.0.1:7117" is not a multiaddr`},
		{"bootstrap", []string{"--bootstrap", "/ip4/127.0.0.1/tcp/7117"}, "bootstrap: \"/ip4/127.0.0.1/tcp/7117\" must end in /p2p/<peer ID>"},
		{"sync interval", []string{"--sync-interval", "10ms"}, "sync_interval: 10ms is below the minimum of 1s"},
		{"api", []string{"--api", "7118"}, `api: "7118" is not HOST:PORT`},
		{"home", []string{"--home", ""}, "home: no data directory given"},
		{"trust", []string{"--trust", "closed"}, `trust.mode: "closed" is not one of "open", "allowlist", "lists"`},
		{"deny", []string{"--deny", "nope"}, `trust.deny: "nope" is not a peer ID`},
		{"log level", []string{"--log-level", "verbose"}, `log.level: "verbose" is not one of debug, info, warn, error`},
		{"flag type", []string{"--sync-interval", "soon"}, `--sync-interval: "soon" is not a duration such as 30s`},
		{"config key", []string{"--config", conf("key.yaml", "network: khantara\nlistn: [/ip4/127.0.0.1/tcp/0]\n")},
			`key.yaml: line 2: unknown key "listn"; did you mean "listen"?`},
		{"config type", []string{"--config", conf("type.yaml", "sync_interval: soon\n")},
			`type.yaml: line 1: sync_interval: "soon" is not a duration such as 30s`},
		{"config value", []string{"--config", conf("value.yaml", "trust:\n  mode: closed\n")},
			`value.yaml: line 2: trust.mode: "closed" is not one of "open", "allowlist", "lists"`},
		{"config missing", []string{"--config", filepath.Join(confDir, "missing.yaml")}, `missing.yaml: no such file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, append([]string{"daemon", "--home", home}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit code %d, stderr:\n%s\nwant code 2 and one line with %q", code, errOut, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("a refused start wrote to the home directory: %v", entries)
	}
}

// buildKhantara builds the command into a temporary directory.
func buildKhantara(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "khantara")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// daemon is one khantara daemon process under test.
type daemon struct {
	name, home string
	cmd        *exec.Cmd
	stderr     *lockedBuffer
	exited     chan struct{} // closed once cmd.Wait has returned
	api        string        // HOST:PORT
	token      string
	status     api.Status // as first seen
	client     *http.Client
}

// startDaemon starts a daemon on loopback ports chosen by the kernel and
// waits until its API answers. On test failure its stderr is logged; at
// the end of the test it is killed if still running.
func startDaemon(t *testing.T, bin, name, home string, deadline time.Time, bootstrap ...string) *daemon {
	t.Helper()
	args := []string{"daemon", "--home", home,
		"--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/udp/0/quic-v1",
		"--api", "127.0.0.1:0", "--mdns=false", "--nat=false", "--sync-interval", "2s"}
	for _, b := range bootstrap {
		args = append(args, "--bootstrap", b)
	}
	d := &daemon{name: name, home: home, stderr: &lockedBuffer{}, exited: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second}}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("stderr of %s (pid %d):\n%s", d.name, d.cmd.Process.Pid, d.stderr.String())
		}
	})

	// A daemon killed earlier leaves a stale api file: wait until the
	// address in the file answers.
	waitFor(t, deadline, name+"'s API", []*daemon{d}, func() bool {
		addr, err := os.ReadFile(filepath.Join(home, khome.APIFile))
		if err != nil {
			return false
		}
		d.api = string(addr)
		d.status, err = d.getStatus()
		return err == nil
	})
	tok, err := os.ReadFile(filepath.Join(home, khome.APITokenFile))
	if err != nil {
		t.Fatal(err)
	}
	d.token = strings.TrimSpace(string(tok))
	if len(d.status.Addrs) != 2 {
		t.Fatalf("%s listens on %v, want one TCP and one QUIC address", name, d.status.Addrs)
	}
	return d
}

func (d *daemon) kill(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", d.name, err)
	}
	<-d.exited
}

func (d *daemon) do(method, path, body string, out any) error {
	req, err := http.NewRequest(method, "http://"+d.api+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

func (d *daemon) getStatus() (api.Status, error) {
	var st api.Status
	return st, d.do(http.MethodGet, "/api/v1/status", "", &st)
}

func (d *daemon) publish(t *testing.T, file string) api.Published {
	t.Helper()
	sheet, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p api.Published
	if err := d.do(http.MethodPost, "/api/v1/practices", string(sheet), &p); err != nil {
		t.Fatalf("%s: publish %s: %v", d.name, file, err)
	}
	if p.Publisher != d.status.PeerID || p.Seq == 0 {
		t.Fatalf("%s: publish %s answered %+v", d.name, file, p)
	}
	return p
}

// has reports whether the daemon holds p as published.
func (d *daemon) has(p api.Published) bool {
	var rec api.Record
	err := d.do(http.MethodGet, "/api/v1/practices/"+p.Publisher+"/"+p.ID, "", &rec)
	return err == nil && rec.Seq == p.Seq && rec.Kind == "practice"
}

// waitFor polls cond every 100 ms until it holds, failing the test at the
// deadline or as soon as one of the daemons exits.
func waitFor(t *testing.T, deadline time.Time, what string, ds []*daemon, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		for _, d := range ds {
			select {
			case <-d.exited:
				t.Fatalf("waiting for %s: %s exited (%v)", what, d.name, d.cmd.ProcessState)
			default:
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
