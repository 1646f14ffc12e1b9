package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestOrgStoriesEndToEnd runs the stories of issue 12 over loopback with
// real `khantara daemon` processes (A: a city's server publishing through
// the API as the city; X: a node in lists mode following the network)
// beside in-process daemons (daemon.New, as the demo runs them) that stand
// in where the CLI has no command yet: the operator, who holds the
// rotation keys and submits the operations (khantara org
// init|delegate|revoke) and is also the network's node (publishing for a
// member, and the coordinator's lists); B, the city's second node, and A2,
// the rebuilt server, whose retractions as the city go through the node
// (the API retracts the node's own key's practices only).
//
// Stories: two nodes of one organisation publish, and B (delegated for
// practices only) cannot retract; a network publishes for a member; a
// coordinator's list update moves X from ignoring to keeping the
// member's practices, and back; a leaked key (B's) is revoked: its later
// record goes from every node, its earlier one stays; a rebuilt server
// with a new key continues the city's practices: same organisation,
// sequence continuing, an update and a retraction of old practices.
func TestOrgStoriesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs daemons")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(60 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	sheets := storySheets(t)

	op := startInProcess(t, "operator", "")
	city := newStoryOrg(t, "City of Story")
	network := newStoryOrg(t, "Story Network", protocol.Delegation{Key: op.Node().ID(), May: []protocol.Kind{protocol.KindMembers, protocol.KindProfile}})
	member := newStoryOrg(t, "Member Town", protocol.Delegation{Key: op.Node().ID(), May: []protocol.Kind{protocol.KindPractice}})
	for _, o := range []*storyOrg{city, network, member} {
		submitTo(t, op, o.head)
	}
	boot := opAddr(t, op)

	homeA, homeX := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "x")
	for h, conf := range map[string]string{
		homeA: "org: " + city.id.String() + "\n",
		homeX: "trust:\n  mode: lists\n  follow:\n    - " + network.id.String() + "\n",
	} {
		expect(t, bin, 0, nil, "init", "--home", h)
		appendFile(t, filepath.Join(h, "config.yaml"), conf)
	}
	a := startDaemon(t, bin, "A", homeA, deadline, boot)
	x := startDaemon(t, bin, "X", homeX, deadline, boot)
	b := startInProcess(t, "B", city.id.String(), boot)
	keyA, _ := peer.Decode(a.status.PeerID)
	city.op(t, op, func(h *protocol.Signed) (*protocol.Announcement, error) {
		return protocol.Delegate(h, 0, now(), protocol.Delegation{Key: keyA, May: []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile}})
	})
	city.op(t, op, func(h *protocol.Signed) (*protocol.Announcement, error) {
		return protocol.Delegate(h, 0, now(), protocol.Delegation{Key: b.Node().ID(), May: []protocol.Kind{protocol.KindPractice}})
	})
	list := func(members ...*storyOrg) {
		t.Helper()
		l := &protocol.MemberList{List: "members", Title: "Members of the Story Network"}
		for _, m := range members {
			l.Members = append(l.Members, protocol.Member{ID: m.id, Name: m.name})
		}
		if _, err := op.Node().PublishAs(ctx, network.id, &protocol.Announcement{Kind: protocol.KindMembers, Members: l}); err != nil {
			t.Fatal(err)
		}
	}
	list(city)

	// Two nodes of one organisation: A (through the API) and B publish
	// as the city, on one sequence; B may not retract.
	var pa api.Published
	waitFor(t, deadline, "A delegated", []*daemon{a, x}, func() bool {
		return a.do(http.MethodPost, "/api/v1/practices", string(sheetYAML(t, sheets[0])), &pa) == nil
	})
	var pb *protocol.Signed
	waitFor(t, deadline, "B delegated", []*daemon{a, x}, func() bool {
		var err error
		pb, err = b.Node().Publish(ctx, sheets[1])
		return err == nil
	})
	// Concurrent delegates may share a sequence number (in different
	// slots); once A holds B's practice, A's next one is above both.
	waitFor(t, deadline, "B's practice at A", []*daemon{a}, func() bool { return heldSeq(a, city.id, sheets[1].ID) == pb.Announcement().Seq })
	var pa2 api.Published
	if err := a.do(http.MethodPost, "/api/v1/practices", string(sheetYAML(t, sheets[2])), &pa2); err != nil {
		t.Fatal(err)
	}
	if pa.Publisher != city.id.String() || pb.Announcement().Publisher != city.id || pa2.Seq <= max(pa.Seq, pb.Announcement().Seq) {
		t.Fatalf("A published %+v and %+v, B %s/%d: want the city %s on one rising sequence", pa, pa2, pb.Announcement().Publisher, pb.Announcement().Seq, city.id)
	}
	for _, d := range []*daemon{a, x} {
		waitFor(t, deadline, d.name+" holds the city's three practices", []*daemon{a, x}, func() bool {
			return heldSeq(d, city.id, sheets[0].ID) == pa.Seq && heldSeq(d, city.id, sheets[1].ID) == pb.Announcement().Seq && heldSeq(d, city.id, sheets[2].ID) == pa2.Seq
		})
	}
	if _, err := b.Node().Retract(ctx, sheets[0].ID, "not mine to retract"); !errors.Is(err, node.ErrNotDelegated) {
		t.Fatalf("B retracting A's practice: %v, want ErrNotDelegated", err)
	}

	// A network publishes for a member; X keeps it only while the
	// coordinator's list names the member.
	pm, err := op.Node().PublishAs(ctx, member.id, &protocol.Announcement{Kind: protocol.KindPractice, Practice: sheets[3]})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, deadline, "the member's practice at A", []*daemon{a}, func() bool { return heldSeq(a, member.id, sheets[3].ID) == pm.Announcement().Seq })
	if heldSeq(x, member.id, sheets[3].ID) != 0 {
		t.Fatal("X keeps a member no list names")
	}
	list(city, member)
	waitFor(t, deadline, "X keeps the listed member", []*daemon{x}, func() bool { return heldSeq(x, member.id, sheets[3].ID) == pm.Announcement().Seq })
	list(city)
	waitFor(t, deadline, "X drops the member taken off the list", []*daemon{x}, func() bool { return heldSeq(x, member.id, sheets[3].ID) == 0 })

	// B's key leaks: the thief's record is dropped everywhere once the
	// city revokes B; B's earlier practice stays.
	thief := publishIn(t, b, sheets[4])
	waitFor(t, deadline, "the thief's record at X", []*daemon{x}, func() bool { return heldSeq(x, city.id, sheets[4].ID) == thief.Announcement().Seq })
	city.op(t, op, func(h *protocol.Signed) (*protocol.Announcement, error) {
		return protocol.Revoke(h, 0, now(), b.Node().ID(), now().Add(time.Second), pb.Announcement().Seq)
	})
	for _, d := range []*daemon{a, x} {
		waitFor(t, deadline, d.name+" drops the revoked key's later record", []*daemon{a, x}, func() bool { return heldSeq(d, city.id, sheets[4].ID) == 0 })
		if heldSeq(d, city.id, sheets[1].ID) != pb.Announcement().Seq {
			t.Fatalf("%s lost B's practice from before the revocation", d.name)
		}
	}
	if _, err := b.Node().Publish(ctx, sheets[5]); !errors.Is(err, node.ErrNotDelegated) {
		t.Fatalf("the revoked key publishing: %v, want ErrNotDelegated", err)
	}

	// A's server is rebuilt without its key: a new node with a new key is
	// delegated and continues the city's practices.
	a.kill(t)
	a2 := startInProcess(t, "A2", city.id.String(), boot)
	city.op(t, op, func(h *protocol.Signed) (*protocol.Announcement, error) {
		return protocol.Delegate(h, 0, now(), protocol.Delegation{Key: a2.Node().ID(), May: []protocol.Kind{protocol.KindPractice, protocol.KindRetract}})
	})
	waitFor(t, deadline, "A2 holds the city's practices", []*daemon{x}, func() bool {
		got, err := a2.Node().Store().Get(city.id, sheets[2].ID)
		return err == nil && got.Announcement().Seq == pa2.Seq
	})
	updated := *sheets[0]
	updated.Title += " (updated after the rebuild)"
	var up, rt *protocol.Signed
	waitFor(t, deadline, "A2 delegated", []*daemon{x}, func() bool {
		up, err = a2.Node().Publish(ctx, &updated)
		return err == nil
	})
	if rt, err = a2.Node().Retract(ctx, sheets[2].ID, "closed"); err != nil {
		t.Fatal(err)
	}
	// The sequence continues above every record of the city A2 holds
	// (the thief's, removed before A2 started, is not among them).
	if up.Announcement().Publisher != city.id || up.Announcement().Seq <= pa2.Seq || rt.Announcement().Seq <= up.Announcement().Seq {
		t.Fatalf("after the rebuild: %s/%d, then %d; want the city %s above seq %d", up.Announcement().Publisher, up.Announcement().Seq, rt.Announcement().Seq, city.id, pa2.Seq)
	}
	waitFor(t, deadline, "X holds the update and the retraction", []*daemon{x}, func() bool {
		return heldSeq(x, city.id, sheets[0].ID) == up.Announcement().Seq && heldSeq(x, city.id, sheets[2].ID) == rt.Announcement().Seq
	})
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

// op seals the operation next makes from the head and submits it to d.
func (o *storyOrg) op(t *testing.T, d *kdaemon.Daemon, next func(head *protocol.Signed) (*protocol.Announcement, error)) {
	t.Helper()
	ann, err := next(o.head)
	if err != nil {
		t.Fatal(err)
	}
	if o.head, err = protocol.Seal(ann, o.key); err != nil {
		t.Fatal(err)
	}
	submitTo(t, d, o.head)
}

func submitTo(t *testing.T, d *kdaemon.Daemon, sg *protocol.Signed) {
	t.Helper()
	if _, err := d.Node().Submit(context.Background(), sg.Envelope()); err != nil {
		t.Fatalf("submit %s/%d: %v", sg.Announcement().Publisher, sg.Announcement().Seq, err)
	}
}

// startInProcess starts a daemon in this process on loopback, with a new
// home, publishing for org when it is not empty, bootstrapping from boot.
func startInProcess(t *testing.T, name, org string, boot ...string) *kdaemon.Daemon {
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
	return d
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

func publishIn(t *testing.T, d *kdaemon.Daemon, s *protocol.FactSheet) *protocol.Signed {
	t.Helper()
	sg, err := d.Node().Publish(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return sg
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

func appendFile(t *testing.T, f, s string) {
	t.Helper()
	fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprint(fh, s); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

// now is the time, to the second, as records carry it.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
