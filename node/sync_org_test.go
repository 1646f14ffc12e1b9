package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// addWithOptions starts one more node with options, like testNet.add.
func (tn *testNet) addWithOptions(opts ...Option) *Node {
	tn.t.Helper()
	i := len(tn.nodes)
	addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.1/tcp/4001", i/250, i%250+1))
	h, err := tn.mn.AddPeer(testKey(tn.t, tn.rng.Uint64()), addr)
	if err != nil {
		tn.t.Fatal(err)
	}
	if err := tn.mn.LinkAll(); err != nil {
		tn.t.Fatal(err)
	}
	cfg := DefaultConfig(tn.t.TempDir())
	cfg.Listen, cfg.MDNS, cfg.NAT, cfg.NoSearch = nil, false, false, true
	cfg.SyncInterval = time.Hour
	opts = append([]Option{WithHost(h), WithStoreOptions(store.WithMemTableSize(2<<20), store.WithCacheSize(1<<20))}, opts...)
	n, err := New(cfg, opts...)
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { n.Close() })
	tn.nodes = append(tn.nodes, n)
	return n
}

// syncTestOrg is an organisation of one rotation key and two delegates, and
// its records: ops and delegated practices, sealed as a real one would be.
type syncTestOrg struct {
	t           testing.TB
	id          peer.ID
	rot, d1, d2 crypto.PrivKey
	t0          time.Time
	// genesis delegates d1; addD2 adds d2; revokeD1 revokes d1 from
	// t0+1h, through seq 2; p1 (d1, seq 2, t0), p2 (d2, seq 4),
	// p3 (d1, seq 6, after its revocation), bad (d1's profile under an op
	// that lets it publish practices only).
	genesis, addD2, revokeD1, p1, p2, p3 *protocol.Signed
}

func syncKeyID(t testing.TB, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func syncSeal(t testing.TB, a *protocol.Announcement, k crypto.PrivKey) *protocol.Signed {
	t.Helper()
	sg, err := protocol.Seal(a, k)
	if err != nil {
		t.Fatalf("seal %s seq %d: %v", a.Kind, a.Seq, err)
	}
	return sg
}

func newSyncTestOrg(t testing.TB, seed uint64) *syncTestOrg {
	t.Helper()
	o := &syncTestOrg{t: t, rot: testKey(t, seed), d1: testKey(t, seed+1), d2: testKey(t, seed+2), t0: time.Now().UTC().Truncate(time.Second).Add(-time.Hour)}
	rot, d1, d2 := syncKeyID(t, o.rot), syncKeyID(t, o.d1), syncKeyID(t, o.d2)
	practice := []protocol.Kind{protocol.KindPractice}
	op := func(seq uint64, prev *protocol.Signed, ds []protocol.Delegation, rs []protocol.Revocation) *protocol.Signed {
		org := &protocol.OrgOp{Name: "Ville de Roubaix", Keys: []peer.ID{rot}, Delegates: ds, Revoked: rs}
		a := &protocol.Announcement{V: protocol.Version, Seq: seq, Time: o.t0.Add(time.Duration(seq) * time.Minute), Kind: protocol.KindOrg, Org: org}
		if prev != nil {
			org.Prev, a.Publisher = prev.Hash(), o.id
		}
		return syncSeal(t, a, o.rot)
	}
	o.genesis = op(1, nil, []protocol.Delegation{{Key: d1, May: practice}}, nil)
	o.id = o.genesis.Announcement().Publisher
	o.addD2 = op(3, o.genesis, []protocol.Delegation{{Key: d1, May: practice}, {Key: d2, May: practice}}, nil)
	o.revokeD1 = op(5, o.addD2, []protocol.Delegation{{Key: d2, May: practice}},
		[]protocol.Revocation{{Key: d1, May: practice, From: o.t0.Add(time.Hour), Through: 2}})
	sheets := demoSheets(t)
	o.p1 = o.practice(2, o.genesis, o.d1, sheets[0], o.t0)
	o.p2 = o.practice(4, o.addD2, o.d2, sheets[1], o.t0.Add(10*time.Minute))
	o.p3 = o.practice(6, o.genesis, o.d1, sheets[2], o.t0.Add(2*time.Hour))
	return o
}

func (o *syncTestOrg) practice(seq uint64, auth *protocol.Signed, k crypto.PrivKey, s *protocol.FactSheet, at time.Time) *protocol.Signed {
	a := &protocol.Announcement{V: protocol.Version, Publisher: o.id, Seq: seq, Time: at, Kind: protocol.KindPractice, Auth: auth.Hash(), Practice: s}
	return syncSeal(o.t, a, k)
}

// seedStore stores records in n's store directly, in one batch, as a replica
// that received them long ago holds them (no chain check: the store holds
// what it is given).
func seedStore(t testing.TB, n *Node, recs ...*protocol.Signed) {
	t.Helper()
	in := make([]store.Incoming, len(recs))
	for i, sg := range recs {
		in[i] = store.Incoming{Signed: sg, From: "seed"}
	}
	if _, err := n.Store().Apply(context.Background(), in...); err != nil {
		t.Fatal(err)
	}
}

// syncHashes lists the hashes of the records sync reconciles on n, sorted.
func syncHashes(t testing.TB, n *Node) []protocol.Hash {
	t.Helper()
	var out []protocol.Hash
	for k, err := range n.Store().Keys() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.Hash)
	}
	slices.SortFunc(out, func(a, b protocol.Hash) int { return slices.Compare(a[:], b[:]) })
	return out
}

func hashesOfRecs(recs ...*protocol.Signed) []protocol.Hash {
	out := make([]protocol.Hash, len(recs))
	for i, sg := range recs {
		out[i] = sg.Hash()
	}
	slices.SortFunc(out, func(a, b protocol.Hash) int { return slices.Compare(a[:], b[:]) })
	return out
}

func syncOnce(t testing.TB, a, b *Node) SyncResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := a.SyncWith(ctx, b.ID())
	if err != nil {
		t.Fatalf("sync %s with %s: %v", a.ID(), b.ID(), err)
	}
	return res
}

// TestSyncV1PeerGetsV1Records: a node that speaks only /khantara/sync/1
// and a v2 node that holds an organisation's records converge on the v1
// records, and the v1 node never receives a v2 record: its sessions
// succeed (a v2 record in a sync/1 session is a violation on both sides).
func TestSyncV1PeerGetsV1Records(t *testing.T) {
	tn := newTestNet(t, 41)
	v2, v1 := tn.addWithOptions(), tn.addWithOptions(WithSyncV1Only())
	o := newSyncTestOrg(t, 4100)
	seedStore(t, v2, o.genesis, o.p1, o.addD2, o.p2)
	sheets := demoSheets(t)
	mine := publish(t, v2, sheets[3])
	theirs := publish(t, v1, sheets[4])
	for _, dir := range [][2]*Node{{v1, v2}, {v2, v1}} {
		res := syncOnce(t, dir[0], dir[1])
		if res.Protocol != protocol.SyncProtocolID {
			t.Fatalf("session on %q, want %q", res.Protocol, protocol.SyncProtocolID)
		}
	}
	if got, want := syncHashes(t, v1), hashesOfRecs(mine, theirs); !slices.Equal(got, want) {
		t.Fatalf("the v1 node holds %d records, want the 2 v1 records", len(got))
	}
	if got, want := syncHashes(t, v2), hashesOfRecs(o.genesis, o.p1, o.addD2, o.p2, mine, theirs); !slices.Equal(got, want) {
		t.Fatalf("the v2 node holds %d records, want 6", len(got))
	}
	// Settled: the v1 root digests agree, so a session moves no record.
	d1, err1 := syncDigest(v2.Store(), true)
	d2, err2 := syncDigest(v1.Store(), false)
	if err1 != nil || err2 != nil || d1 != d2 {
		t.Fatalf("v1 digests differ: %+v %v / %+v %v", d1, err1, d2, err2)
	}
	if res := syncOnce(t, v2, v1); res.Fetched+res.Served != 0 || res.Messages != 1 {
		t.Fatalf("a settled sync/1 session moved records: %+v", res)
	}
}

// TestSyncV1Digest: the v1 root digest of a replica holding organisations
// equals the digest of its v1 keys, from the running digests and from a
// snapshot alike.
func TestSyncV1Digest(t *testing.T) {
	tn := newTestNet(t, 42)
	n := tn.addWithOptions()
	o := newSyncTestOrg(t, 4200)
	seedStore(t, n, o.genesis, o.p1)
	plain := publish(t, n, demoSheets(t)[5])
	snap, err := loadSnapshot(n.Store(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.keys) != 1 || snap.keys[0].Hash != plain.Hash() {
		t.Fatalf("v1 snapshot holds %d keys, want the plain record", len(snap.keys))
	}
	d, err := syncDigest(n.Store(), true)
	if err != nil || d.Fingerprint() != digestOf(snap.keys).Fingerprint() || d.Count != 1 {
		t.Fatalf("v1 root %+v %v, want the snapshot's", d, err)
	}
	all, _ := syncDigest(n.Store(), false)
	if all.Count != 3 {
		t.Fatalf("sync/2 root counts %d, want 3", all.Count)
	}
}

// TestSyncOrgRecordsAnyOrder: two v2 nodes converge on an organisation's
// operations, delegated practices and a revocation whatever sync delivers
// first; a record whose chain has not arrived is held, not stored, and
// fetched again once it has; the revoked key's later record is not kept.
func TestSyncOrgRecordsAnyOrder(t *testing.T) {
	o := newSyncTestOrg(t, 4300)
	want := hashesOfRecs(o.genesis, o.addD2, o.revokeD1, o.p1, o.p2)
	for _, tc := range []struct {
		name    string
		steps   [][]*protocol.Signed // what the source holds, step by step
		pending []int                // records pending after each step
	}{
		{"all at once", [][]*protocol.Signed{{o.genesis, o.addD2, o.revokeD1, o.p1, o.p2, o.p3}}, []int{0}},
		{"records first", [][]*protocol.Signed{{o.p1, o.p2, o.p3}, {o.genesis, o.addD2, o.revokeD1}}, []int{3, 0}},
		{"genesis first", [][]*protocol.Signed{{o.genesis, o.p1, o.p2}, {o.addD2, o.revokeD1, o.p3}}, []int{1, 0}},
		{"revocation last", [][]*protocol.Signed{{o.addD2, o.p2, o.revokeD1}, {o.genesis, o.p1}}, []int{3, 0}},
		{"revocation after the record", [][]*protocol.Signed{{o.genesis, o.p1, o.p3}, {o.addD2, o.revokeD1, o.p2}}, []int{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTestNet(t, 43)
			a, b := tn.addWithOptions(), tn.addWithOptions()
			for i, step := range tc.steps {
				seedStore(t, b, step...)
				if res := syncOnce(t, a, b); res.Pending != tc.pending[i] {
					t.Fatalf("step %d: %d records pending, want %d (%+v)", i, res.Pending, tc.pending[i], res)
				}
			}
			if got := syncHashes(t, a); !slices.Equal(got, want) {
				t.Fatalf("a holds %d records, want %d", len(got), len(want))
			}
		})
	}
}

// TestSyncUnauthorisedIsViolation: a peer serving a record the chain
// proves unauthorised (its auth does not delegate the signer) commits a
// violation: the session fails and the record is not stored. A record
// whose chain never arrives is never stored.
func TestSyncUnauthorisedIsViolation(t *testing.T) {
	o := newSyncTestOrg(t, 4400)
	tn := newTestNet(t, 44)
	a, b := tn.addWithOptions(), tn.addWithOptions()
	// d2 is not delegated by the genesis.
	forged := o.practice(7, o.genesis, o.d2, demoSheets(t)[6], o.t0)
	seedStore(t, b, o.genesis, forged)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := a.SyncWith(ctx, b.ID()); !errors.Is(err, protocol.ErrSyncViolation) {
		t.Fatalf("sync with a peer serving an unauthorised record: %v, want a violation", err)
	}
	if _, err := a.Store().PublisherSummary(o.id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a stored part of the message that held an unauthorised record: %v", err)
	}

	orphan := newSyncTestOrg(t, 4500)
	c := tn.addWithOptions()
	seedStore(t, c, orphan.p1) // its genesis never arrives
	for range 2 {
		if res := syncOnce(t, a, c); res.Pending != 1 || res.Applied != 0 {
			t.Fatalf("a record without its chain: %+v, want held and not stored", res)
		}
	}
	if _, err := a.Store().PublisherSummary(orphan.id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a stored a record whose chain never arrived: %v", err)
	}
}

// TestSyncV1PeerOfferingV2Record: a peer that answers on /khantara/sync/1
// and lists a v2 record (an organisation's) commits a violation: it cannot
// hold one honestly. The node never asks for it.
func TestSyncV1PeerOfferingV2Record(t *testing.T) {
	tn := newTestNet(t, 46)
	a := tn.addWithOptions()
	h, _, _ := tn.hostile(999)
	o := newSyncTestOrg(t, 4600)
	hello := protocol.Hello{Version: protocol.SyncVersion, Network: protocol.DefaultNetwork}
	wanted := make(chan bool, 1)
	h.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolID), func(s network.Stream) {
		defer s.Close()
		fr := protocol.NewFrameReader(s)
		if _, err := fr.Next(); err != nil { // HELLO
			return
		}
		writeFrames(s, func(fw *protocol.FrameWriter) error { return fw.Hello(hello) })
		for f, err := fr.Next(); err == nil && f.Type != protocol.FrameEnd; f, err = fr.Next() {
		}
		id := protocol.ItemID{Publisher: o.id, Seq: 1}
		hh := o.genesis.Hash()
		copy(id.Prefix[:], hh[:protocol.HashPrefixLen])
		writeFrames(s, func(fw *protocol.FrameWriter) error {
			fw.Range(&protocol.Range{Upper: protocol.Bound{Inf: true}, Mode: protocol.ModeHave, Items: []protocol.ItemID{id}})
			return fw.End()
		})
		got := false
		for f, err := fr.Next(); err == nil && f.Type != protocol.FrameEnd; f, err = fr.Next() {
			got = got || f.Type == protocol.FrameWant
		}
		wanted <- got
		io.Copy(io.Discard, s)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := a.SyncWith(ctx, h.ID())
	if !errors.Is(err, protocol.ErrSyncViolation) || res.Protocol != protocol.SyncProtocolID {
		t.Fatalf("a sync/1 peer offering a v2 record: %v on %q, want a violation on sync/1", err, res.Protocol)
	}
	select {
	case got := <-wanted:
		if got {
			t.Fatal("the node asked a sync/1 peer for a v2 record")
		}
	case <-ctx.Done():
	}
}
