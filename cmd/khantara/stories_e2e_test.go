package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	kdaemon "github.com/khantara/khantara/daemon"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestOrgStoriesEndToEnd runs the stories of issue 12 over loopback with
// real `khantara daemon` processes driven by the CLI (org init, org
// delegate, org revoke, trust follow, org members publish, retract) and
// the API (publish, to read the sequence numbers back): A and B, the
// city's two nodes, then A2, the rebuilt server; X, a node in lists mode
// following the network. The network's node O is a daemon in this
// process (daemon.New, as the demo runs them), because publishing for a
// member has no CLI command: O publishes the member's practice with
// node.PublishAs; its lists go through the CLI like the rest.
//
// Stories: two nodes of one organisation publish on one sequence, and B
// (delegated for practices only) cannot retract; a network publishes for
// a member; the coordinator's list update moves X from ignoring to
// keeping the member's practices, and back; a leaked key (B's) is
// revoked: its later record goes from every node, its earlier one stays;
// a rebuilt server with a new key continues the city's practices: same
// organisation, sequence continuing, an update and a retraction of old
// practices.
func TestOrgStoriesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs daemons")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(60 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	sheets := storySheets(t)
	keysDir := t.TempDir()
	cli := func(code int, args ...string) string { t.Helper(); return expect(t, bin, code, nil, args...) }

	// The network: O creates it with org init and is its node.
	op, homeO := startInProcess(t, "O", "")
	boot := opAddr(t, op)
	network := orgInit(t, bin, homeO, "Story Network", filepath.Join(keysDir, "network.keys"))
	// The member has no node: its genesis, made here, delegates O.
	member := newStoryOrg(t, "Member Town", protocol.Delegation{Key: op.Node().ID(), May: []protocol.Kind{protocol.KindPractice}})
	submitTo(t, op, member.head)

	// The city: A creates it; B is delegated for practices only.
	homeA, homeB, homeX := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "x")
	for _, h := range []string{homeA, homeB, homeX} {
		cli(0, "init", "--home", h)
	}
	a := startDaemon(t, bin, "A", homeA, deadline, boot)
	cityKeys := filepath.Join(keysDir, "city.keys")
	city := orgInit(t, bin, homeA, "City of Story", cityKeys)
	b := startDaemon(t, bin, "B", homeB, deadline, boot)
	cli(0, "org", "delegate", "--may", "practice", "--keys", cityKeys, "--home", homeA, b.status.PeerID)
	join(t, bin, b, city, deadline)
	x := startDaemon(t, bin, "X", homeX, deadline, boot)
	cli(0, "trust", "follow", "--home", homeX, network.String())
	all := []*daemon{a, b, x}
	list := func(members ...peer.ID) {
		t.Helper()
		f := filepath.Join(t.TempDir(), "list.yaml")
		text := "list: members\ntitle: Members of the Story Network\nmembers:\n"
		for _, m := range members {
			text += "  - id: " + m.String() + "\n    name: Member\n"
		}
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cli(0, "org", "members", "publish", "--as-node", "--home", homeO, f)
	}
	list(city)

	// Two nodes of one organisation publish on one sequence; B may not
	// retract.
	pa := apiPublish(t, a, sheets[0])
	var pb api.Published
	waitFor(t, deadline, "B delegated", all, func() bool {
		return b.do(http.MethodPost, "/api/v1/practices", string(sheetYAML(t, sheets[1])), &pb) == nil
	})
	// Concurrent delegates may share a sequence number (in different
	// slots); once A holds B's practice, A's next one is above both.
	waitFor(t, deadline, "B's practice at A", all, func() bool { return heldSeq(a, city, sheets[1].ID) == pb.Seq })
	pa2 := apiPublish(t, a, sheets[2])
	if pa.Publisher != city.String() || pb.Publisher != city.String() || pa2.Seq <= max(pa.Seq, pb.Seq) {
		t.Fatalf("A published %+v and %+v, B %+v: want the city %s on one rising sequence", pa, pa2, pb, city)
	}
	for _, d := range all {
		waitFor(t, deadline, d.name+" holds the city's three practices", all, func() bool {
			return heldSeq(d, city, sheets[0].ID) == pa.Seq && heldSeq(d, city, sheets[1].ID) == pb.Seq && heldSeq(d, city, sheets[2].ID) == pa2.Seq
		})
	}
	cli(1, "retract", "--reason", "not mine to retract", "--home", homeB, sheets[0].ID)

	// A network publishes for a member; X keeps it only while the
	// coordinator's list names the member.
	pm, err := op.Node().PublishAs(ctx, member.id, &protocol.Announcement{Kind: protocol.KindPractice, Practice: sheets[3]})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, deadline, "the member's practice at A", all, func() bool { return heldSeq(a, member.id, sheets[3].ID) == pm.Announcement().Seq })
	if heldSeq(x, member.id, sheets[3].ID) != 0 {
		t.Fatal("X keeps a member no list names")
	}
	list(city, member.id)
	waitFor(t, deadline, "X keeps the listed member", all, func() bool { return heldSeq(x, member.id, sheets[3].ID) == pm.Announcement().Seq })
	list(city)
	waitFor(t, deadline, "X drops the member taken off the list", all, func() bool { return heldSeq(x, member.id, sheets[3].ID) == 0 })

	// B's key leaks: the record signed from the leak on is dropped
	// everywhere once the city revokes B; B's earlier practice stays.
	time.Sleep(time.Until(now().Add(time.Second))) // records are dated to the second
	leak := now()
	thief := apiPublish(t, b, sheets[4])
	waitFor(t, deadline, "the thief's record at A and X", all, func() bool {
		return heldSeq(a, city, sheets[4].ID) == thief.Seq && heldSeq(x, city, sheets[4].ID) == thief.Seq
	})
	// The operator is told which records go (those to publish again).
	expect(t, bin, 0, []string{"Every node now drops 1 record that key signed", "  " + sheets[4].ID + " (seq "},
		"org", "revoke", "--from", leak.Format(time.RFC3339), "--keys", cityKeys, "--home", homeA, b.status.PeerID)
	for _, d := range all {
		waitFor(t, deadline, d.name+" drops the revoked key's later record", all, func() bool { return heldSeq(d, city, sheets[4].ID) == 0 })
		if heldSeq(d, city, sheets[1].ID) != pb.Seq {
			t.Fatalf("%s lost B's practice from before the revocation", d.name)
		}
	}
	cli(1, "publish", "--home", homeB, filepath.Join("../../demo/sheets", sheets[5].ID+".yaml"))

	// A's server is rebuilt without its key: a new node with a new key is
	// delegated (from B's daemon: the rotation keys are not on any node)
	// and continues the city's practices.
	a.kill(t)
	homeA2 := filepath.Join(t.TempDir(), "a2")
	cli(0, "init", "--home", homeA2)
	a2 := startDaemon(t, bin, "A2", homeA2, deadline, boot)
	all = []*daemon{a2, b, x}
	cli(0, "org", "delegate", "--may", "practice,retract,profile", "--keys", cityKeys, "--home", homeB, a2.status.PeerID)
	join(t, bin, a2, city, deadline)
	waitFor(t, deadline, "A2 holds the city's practices", all, func() bool { return heldSeq(a2, city, sheets[2].ID) == pa2.Seq })
	changed := *sheets[0]
	changed.Title += " (updated after the rebuild)"
	updated, err := json.Marshal(&changed)
	if err != nil {
		t.Fatal(err)
	}
	var up api.Published
	var upErr error
	defer func() {
		if t.Failed() {
			t.Logf("A2's last answer: %v", upErr)
		}
	}()
	waitFor(t, deadline, "A2 delegated", all, func() bool {
		upErr = a2.do(http.MethodPost, "/api/v1/practices", string(updated), &up)
		return upErr == nil
	})
	cli(0, "retract", "--reason", "closed", "--home", homeA2, sheets[2].ID)
	// The sequence continues above every record of the city A2 holds.
	if up.Publisher != city.String() || up.Seq <= pa2.Seq {
		t.Fatalf("after the rebuild: %+v; want the city %s above seq %d", up, city, pa2.Seq)
	}
	waitFor(t, deadline, "X holds the update and the retraction", all, func() bool {
		return heldSeq(x, city, sheets[0].ID) == up.Seq && heldSeq(x, city, sheets[2].ID) > up.Seq
	})
}

// orgInit runs khantara org init against the daemon of home and returns
// the new organisation's ID.
func orgInit(t *testing.T, bin, home, name, keys string) peer.ID {
	t.Helper()
	out := expect(t, bin, 0, nil, "org", "init", "--name", name, "--rotation-keys", "1", "--keys-out", keys, "--json", "--home", home)
	var res orgInitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("org init --json: %v\n%s", err, out)
	}
	id, err := protocol.DecodeID(res.Org)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// join runs khantara org join on d until it succeeds: d must first hold
// the operation that delegates its key.
func join(t *testing.T, bin string, d *daemon, org peer.ID, deadline time.Time) {
	t.Helper()
	waitFor(t, deadline, d.name+" joins "+org.String(), []*daemon{d}, func() bool {
		_, _, code := runBin(t, bin, "org", "join", "--home", d.home, org.String())
		return code == 0
	})
}

// apiPublish publishes s through d's API, as khantara publish does.
func apiPublish(t *testing.T, d *daemon, s *protocol.FactSheet) api.Published {
	t.Helper()
	var p api.Published
	if err := d.do(http.MethodPost, "/api/v1/practices", string(sheetYAML(t, s)), &p); err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	return p
}

// storyOrg is an organisation made in the test: its one rotation key and
// the head of its chain.
type storyOrg struct {
	name string
	id   peer.ID
	key  crypto.PrivKey
	head *protocol.Signed
}

func newStoryOrg(t *testing.T, name string, dels ...protocol.Delegation) *storyOrg {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := protocol.NewGenesis(name, []crypto.PubKey{k.GetPublic()}, time.Now().Add(-time.Minute), dels...)
	if err != nil {
		t.Fatal(err)
	}
	o := &storyOrg{name: name, key: k}
	if o.head, err = protocol.Seal(ann, k); err != nil {
		t.Fatal(err)
	}
	o.id = o.head.Announcement().Publisher
	return o
}

func submitTo(t *testing.T, d *kdaemon.Daemon, sg *protocol.Signed) {
	t.Helper()
	if _, err := d.Node().Submit(context.Background(), sg.Envelope()); err != nil {
		t.Fatalf("submit %s/%d: %v", sg.Announcement().Publisher, sg.Announcement().Seq, err)
	}
}

// startInProcess starts a daemon in this process on loopback, with a new
// home, publishing for org when it is not empty, bootstrapping from boot.
func startInProcess(t *testing.T, name, org string, boot ...string) (*kdaemon.Daemon, string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), name)
	cfg := kdaemon.DefaultConfig(home)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg.Node.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Node.Bootstrap = boot
	cfg.Node.MDNS, cfg.Node.NAT = false, false
	cfg.Node.SyncInterval = 2 * time.Second
	cfg.Node.Org = org
	cfg.API = "127.0.0.1:0"
	log := slog.New(slog.NewTextHandler(testWriter{t, name}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := kdaemon.New(cfg, kdaemon.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d, home
}

type testWriter struct {
	t    *testing.T
	name string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, p)
	return len(p), nil
}

// opAddr is d's TCP address ending in /p2p/<peer ID>.
func opAddr(t *testing.T, d *kdaemon.Daemon) string {
	t.Helper()
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: d.Node().ID(), Addrs: d.Node().Host().Addrs()})
	if err != nil || len(addrs) == 0 {
		t.Fatalf("%v %v", addrs, err)
	}
	return addrs[0].String()
}

// heldSeq is the sequence number of the record d holds in (pub, id),
// practice or retraction, 0 when it holds none (or cannot tell).
func heldSeq(d *daemon, pub peer.ID, id string) uint64 {
	var l api.PracticeList
	if err := d.do(http.MethodGet, "/api/v1/practices?retracted=1&id="+url.QueryEscape(id), "", &l); err != nil {
		return 0
	}
	for _, p := range l.Practices {
		if p.Publisher == pub.String() {
			return p.Seq
		}
	}
	return 0
}

// storySheets are six demo sheets, sorted by ID.
func storySheets(t *testing.T) []*protocol.FactSheet {
	t.Helper()
	files, _ := filepath.Glob("../../demo/sheets/*.yaml")
	slices.Sort(files)
	if len(files) < 6 {
		t.Fatalf("need 6 demo sheets, found %d", len(files))
	}
	var out []*protocol.FactSheet
	for _, f := range files[:6] {
		s, err := protocol.ParseSheet(mustRead(t, f))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// sheetYAML is the YAML of s as the demo holds it.
func sheetYAML(t *testing.T, s *protocol.FactSheet) []byte {
	t.Helper()
	return mustRead(t, filepath.Join("../../demo/sheets", s.ID+".yaml"))
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// now is the time, to the second, as records carry it.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
