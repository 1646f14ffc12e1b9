package node

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
)

var allKinds = []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile, protocol.KindMembers}

// Two nodes of one organisation publish as the organisation, sharing its
// sequence; a third node keeps both; the node that may not retract cannot.
func TestOrgDelegatedPublishing(t *testing.T) {
	tn := newTestNet(t, 101)
	a, b, c := tn.add(), tn.add(), tn.add()
	tn.connect(a, b)
	tn.connect(b, c)
	tn.connect(a, c)
	tn.waitTopics()
	org := newTestOrg(t, "City of Test", []uint64{9001, 9002},
		delegation(a.ID(), allKinds...), delegation(b.ID(), protocol.KindPractice))
	submit(t, a, org.gen)
	tn.eventually(10*time.Second, "the genesis everywhere", allHold(tn.nodes, org.gen))
	for _, n := range []*Node{a, b} {
		if err := n.SetOrg(org.id); err != nil {
			t.Fatal(err)
		}
	}
	sheets := demoSheets(t)
	pa := publish(t, a, variant(sheets, 1))
	tn.eventually(10*time.Second, "a's practice at b", allHold([]*Node{b}, pa))
	pb := publish(t, b, variant(sheets, 2))
	for _, sg := range []*protocol.Signed{pa, pb} {
		ann := sg.Announcement()
		if ann.Publisher != org.id || ann.Auth != org.gen.Hash() {
			t.Fatalf("published as %s with auth %s, want %s and %s", ann.Publisher, ann.Auth, org.id, org.gen.Hash())
		}
	}
	if pa.Signer() != a.ID() || pb.Signer() != b.ID() || pa.Announcement().Seq != 2 {
		t.Fatalf("signers %s %s, seq %d", pa.Signer(), pb.Signer(), pa.Announcement().Seq)
	}
	tn.eventually(10*time.Second, "both practices everywhere", allHold(tn.nodes, pa, pb))
	if pb.Announcement().Seq <= pa.Announcement().Seq {
		t.Fatalf("b published seq %d after a's %d: the organisation's sequence is shared", pb.Announcement().Seq, pa.Announcement().Seq)
	}
	// b may publish practices only: it can neither retract nor profile.
	if _, err := b.Retract(context.Background(), pa.Announcement().Practice.ID, "not mine"); !errors.Is(err, ErrNotDelegated) {
		t.Fatalf("b retracting: %v, want ErrNotDelegated", err)
	}
	// a may: its retraction of b's practice reaches every node.
	rt := retractSlot(t, a, pb.Announcement().Practice.ID)
	tn.eventually(10*time.Second, "the retraction everywhere", allHold(tn.nodes, rt))
	// c is no delegate: publishing for the organisation is refused.
	if err := c.SetOrg(org.id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(context.Background(), variant(sheets, 3)); !errors.Is(err, ErrNotDelegated) {
		t.Fatalf("an undelegated node publishing for the organisation: %v", err)
	}
	if c.Config().Org != org.id.String() {
		t.Fatalf("Config().Org = %q", c.Config().Org)
	}
	if st := c.Stats(); st.Rejected[ReasonUnauthorised]+st.Rejected[ReasonWrongTopic] != 0 {
		t.Fatalf("honest traffic rejected: %+v", st.Rejected)
	}
}

// A delegate's records before its revocation stay on every node; the
// ones after it are removed everywhere when the revocation arrives, and
// later ones are refused.
func TestOrgRevocation(t *testing.T) {
	tn := newTestNet(t, 102)
	a, b, c := tn.add(func(c *Config) { c.NoSearch = false }), tn.add(), tn.add()
	tn.connect(a, b)
	tn.connect(b, c)
	tn.connect(a, c) // flood publishing reaches every node at once
	tn.waitTopics()
	staff := testKey(t, 9103)
	org := newTestOrg(t, "Leaky Town", []uint64{9101, 9102}, delegation(keyID(t, staff), protocol.KindPractice))
	submit(t, a, org.gen)
	sheets := demoSheets(t)
	early := org.record(staff, org.gen, 2, org.base.Add(time.Minute), practiceAnn(variant(sheets, 3)))
	late := org.record(staff, org.gen, 3, org.base.Add(2*time.Minute), practiceAnn(variant(sheets, 4)))
	submit(t, a, early)
	submit(t, a, late)
	tn.eventually(10*time.Second, "the staff key's records everywhere", allHold(tn.nodes, org.gen, early, late))
	indexed := func(want uint64) {
		t.Helper()
		if err := a.Search().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if k, err := a.Search().Count(); err != nil || k != want {
			t.Fatalf("the search index holds %d practices (%v), want %d", k, err, want)
		}
	}
	indexed(2)

	rev := org.by(org.keys[0])(protocol.Revoke(org.gen, 4, org.base.Add(3*time.Minute), keyID(t, staff), org.base.Add(2*time.Minute), 2))
	submit(t, c, rev)
	tn.eventually(10*time.Second, "the late record removed everywhere", noneHold(tn.nodes, late))
	if !allHold(tn.nodes, rev, early)() {
		t.Fatal("the revocation or the early record is missing")
	}
	indexed(1)
	// The leaked key goes on publishing: refused on submit, ignored by gossip.
	after := org.record(staff, rev, 5, org.base.Add(4*time.Minute), practiceAnn(variant(sheets, 5)))
	if _, err := a.Submit(context.Background(), after.Envelope()); !errors.Is(err, protocol.ErrRevoked) && !errors.Is(err, protocol.ErrUnauthorised) {
		t.Fatalf("submitting a revoked key's record: %v", err)
	}
	backdated := org.record(staff, org.gen, 5, org.base.Add(time.Minute), practiceAnn(variant(sheets, 6)))
	if r := gossipTo(b, c.ID(), backdated, true); r != pubsub.ValidationIgnore || b.Stats().Ignored[ReasonRevoked] == 0 {
		t.Fatalf("a revoked key's record above through: %v, stats %+v", r, b.Stats().Ignored)
	}
	if !noneHold(tn.nodes, after, backdated)() {
		t.Fatal("a revoked key's record was stored")
	}
}

// A rotation signed by the second rotation key, and a delegate it added,
// are overturned by a sibling signed by the first: the delegate's records
// go from every node.
func TestOrgRotationOverturned(t *testing.T) {
	tn := newTestNet(t, 103)
	a, b := tn.add(), tn.add()
	tn.connect(a, b)
	tn.waitTopics()
	org := newTestOrg(t, "Contested", []uint64{9201, 9202})
	d1, d2 := testKey(t, 9203), testKey(t, 9204)
	x1 := org.by(org.keys[1])(protocol.Delegate(org.gen, 0, org.base.Add(time.Minute), delegation(keyID(t, d1), protocol.KindPractice)))
	submit(t, a, org.gen)
	submit(t, a, x1)
	sheets := demoSheets(t)
	p1 := org.record(d1, x1, 3, org.base.Add(2*time.Minute), practiceAnn(variant(sheets, 7)))
	submit(t, a, p1)
	tn.eventually(10*time.Second, "the lower-priority branch everywhere", allHold(tn.nodes, org.gen, x1, p1))

	x2 := org.by(org.keys[0])(protocol.Delegate(org.gen, 0, org.base.Add(3*time.Minute), delegation(keyID(t, d2), protocol.KindPractice)))
	submit(t, b, x2)
	tn.eventually(10*time.Second, "the overturned delegate's record removed everywhere", noneHold(tn.nodes, p1))
	for _, n := range tn.nodes {
		c, err := n.Chain(org.id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Head().Hash() != x2.Hash() || !holds(n, x1) {
			t.Fatalf("head %s, want %s; both operations are kept", c.Head().Hash(), x2.Hash())
		}
	}
	// The new delegate publishes; the overturned one is ignored.
	p2 := org.record(d2, x2, 4, org.base.Add(4*time.Minute), practiceAnn(variant(sheets, 8)))
	submit(t, b, p2)
	tn.eventually(10*time.Second, "the new delegate's record everywhere", allHold(tn.nodes, p2))
	p3 := org.record(d1, x1, 5, org.base.Add(5*time.Minute), practiceAnn(variant(sheets, 9)))
	if r := gossipTo(a, b.ID(), p3, true); r != pubsub.ValidationIgnore || a.Stats().Ignored[ReasonRevoked] == 0 {
		t.Fatalf("the overturned delegate's new record: %v %+v", r, a.Stats().Ignored)
	}
	// Outside the window: once the first key has signed, a later
	// rotation by the second key on the genesis (taking the first key out)
	// cannot overturn it; it is kept as an abandoned branch and the
	// delegate it names publishes nothing.
	d3 := testKey(t, 9205)
	late, err := protocol.Rotate(org.gen, 6, org.base.Add(6*time.Minute), []crypto.PubKey{org.keys[1].GetPublic()})
	if err != nil {
		t.Fatal(err)
	}
	late.Org.Delegates = append(late.Org.Delegates, delegation(keyID(t, d3), protocol.KindPractice))
	x3 := org.by(org.keys[1])(late, nil)
	submit(t, a, x3)
	tn.eventually(10*time.Second, "the late rotation kept everywhere", allHold(tn.nodes, x3))
	for _, n := range tn.nodes {
		if c, err := n.Chain(org.id); err != nil || c.Head().Hash() != x2.Hash() {
			t.Fatalf("a rotation by the second key after the first signed changed the head: %v", err)
		}
	}
	p4 := org.record(d3, x3, 7, org.base.Add(7*time.Minute), practiceAnn(variant(sheets, 10)))
	before := a.Stats().Ignored[ReasonRevoked]
	if r := gossipTo(a, b.ID(), p4, true); r != pubsub.ValidationIgnore || a.Stats().Ignored[ReasonRevoked] != before+1 {
		t.Fatalf("the late rotation's delegate: %v %+v", r, a.Stats().Ignored)
	}
}

// Records that arrive before their chain wait; when the chain arrives
// they are applied and published on.
func TestOrgPendingApplied(t *testing.T) {
	tn := newTestNet(t, 104)
	a, b := tn.add(), tn.add()
	tn.connect(a, b)
	tn.waitTopics()
	staff := testKey(t, 9303)
	org := newTestOrg(t, "Late Chain", []uint64{9301}, delegation(keyID(t, staff), protocol.KindPractice))
	x := org.by(org.keys[0])(protocol.Delegate(org.gen, 0, org.base.Add(time.Minute), delegation(keyID(t, testKey(t, 9304)), protocol.KindProfile)))
	p := org.record(staff, x, 3, org.base.Add(2*time.Minute), practiceAnn(variant(demoSheets(t), 10)))
	// a hears of the practice and of the second operation before the genesis.
	for _, sg := range []*protocol.Signed{p, x} {
		if r := gossipTo(a, b.ID(), sg, true); r != pubsub.ValidationIgnore {
			t.Fatalf("a record whose chain is unknown: %v", r)
		}
	}
	if _, err := b.Submit(context.Background(), p.Envelope()); err == nil || !errors.Is(err, protocol.ErrChainPending) {
		t.Fatalf("submitting a record whose chain is unknown: %v", err)
	}
	if a.Pending() != 2 || a.Stats().Ignored[ReasonPending] != 2 || holds(a, p) {
		t.Fatalf("pending %d, stats %+v", a.Pending(), a.Stats().Ignored)
	}
	// b submits the genesis: it reaches a, which applies x, then p, and
	// publishes both on to b, which had neither.
	submit(t, b, org.gen)
	tn.eventually(10*time.Second, "the pending records applied and published on", allHold(tn.nodes, org.gen, x, p))
	if a.Pending() != 0 {
		t.Fatalf("%d records still pending", a.Pending())
	}
}

// The pending pool is bounded per organisation; records whose chain never
// arrives are dropped when it is full or their time runs out, counted,
// and never stored.
func TestOrgPendingBounds(t *testing.T) {
	tn := newTestNet(t, 105)
	a, b := tn.add(), tn.add()
	staff := testKey(t, 9403)
	org := newTestOrg(t, "Never Arrives", []uint64{9401}, delegation(keyID(t, staff), protocol.KindPractice))
	sheets := demoSheets(t)
	var sgs []*protocol.Signed
	for i := range MaxPendingPerOrg + 3 {
		sg := org.record(staff, org.gen, uint64(2+i), org.base.Add(time.Minute), practiceAnn(variant(sheets, 100+i)))
		sgs = append(sgs, sg)
		if r := gossipTo(a, b.ID(), sg, true); r != pubsub.ValidationIgnore {
			t.Fatalf("record %d: %v", i, r)
		}
	}
	st := a.Stats()
	if a.Pending() != MaxPendingPerOrg || st.Ignored[ReasonPending] != MaxPendingPerOrg || st.Ignored[ReasonChainMissing] != 3 {
		t.Fatalf("pending %d, ignored %+v", a.Pending(), st.Ignored)
	}
	// Time runs out for the rest.
	now := time.Now()
	a.pending.now = func() time.Time { return now.Add(PendingTTL + time.Second) }
	a.pending.expire()
	if a.Pending() != 0 || a.Stats().Ignored[ReasonChainMissing] != MaxPendingPerOrg+3 {
		t.Fatalf("after the deadline: pending %d, ignored %+v", a.Pending(), a.Stats().Ignored)
	}
	if sum, err := a.Store().PublisherSummary(org.id); err == nil {
		t.Fatalf("records of an unknown chain were stored: %+v", sum)
	}
	if !noneHold([]*Node{a}, sgs...)() {
		t.Fatal("a pending record was stored")
	}
}

// Hostile records: each refused for its reason, none stored.
func TestOrgHostile(t *testing.T) {
	tn := newTestNet(t, 106)
	a, b := tn.add(), tn.add()
	staff, stranger := testKey(t, 9503), testKey(t, 9504)
	org := newTestOrg(t, "Targeted", []uint64{9501, 9502}, delegation(keyID(t, staff), protocol.KindPractice))
	submit(t, a, org.gen)
	sheets := demoSheets(t)
	// A delegation signed by a key that is no rotation key.
	forgedOp := org.by(stranger)(protocol.Delegate(org.gen, 0, org.base.Add(time.Minute), delegation(keyID(t, stranger), allKinds...)))
	// A membership list signed by a delegate not allowed lists, and by a stranger.
	members := &protocol.Announcement{Kind: protocol.KindMembers, Members: &protocol.MemberList{List: "members", Title: "Our members",
		Members: []protocol.Member{{ID: keyID(t, stranger), Name: "Impostor"}}}}
	forgedList := org.record(staff, org.gen, 3, org.base.Add(time.Minute), members)
	strangerPractice := org.record(stranger, org.gen, 4, org.base.Add(time.Minute), practiceAnn(variant(sheets, 11)))
	good := org.record(staff, org.gen, 5, org.base.Add(time.Minute), practiceAnn(variant(sheets, 12)))
	plain := &protocol.Announcement{V: protocol.Version, Seq: 1, Time: org.base, Kind: protocol.KindPractice, Practice: variant(sheets, 13)}
	v1, err := protocol.Seal(plain, stranger)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		sg     *protocol.Signed
		v2     bool
		want   pubsub.ValidationResult
		reason string
	}{
		{"delegation by a non-rotation key", forgedOp, true, pubsub.ValidationReject, ReasonUnauthorised},
		{"forged membership list", forgedList, true, pubsub.ValidationReject, ReasonUnauthorised},
		{"record of an undelegated key", strangerPractice, true, pubsub.ValidationReject, ReasonUnauthorised},
		{"v2 record on the v1 topic", good, false, pubsub.ValidationReject, ReasonWrongTopic},
		{"v1 record on the v2 topic", v1, true, pubsub.ValidationReject, ReasonWrongTopic},
	} {
		before := a.Stats().Rejected[c.reason]
		if r := gossipTo(a, b.ID(), c.sg, c.v2); r != c.want || a.Stats().Rejected[c.reason] != before+1 {
			t.Errorf("%s: %v, rejected %+v", c.name, r, a.Stats().Rejected)
		}
		if c.reason != ReasonUnauthorised {
			continue
		}
		if _, err := a.Submit(context.Background(), c.sg.Envelope()); !errors.Is(err, protocol.ErrUnauthorised) {
			t.Errorf("%s submitted: %v", c.name, err)
		}
		if holds(a, c.sg) {
			t.Errorf("%s stored", c.name)
		}
	}
	// The honest record on its topic passes.
	if r := gossipTo(a, b.ID(), good, true); r != pubsub.ValidationAccept {
		t.Fatalf("a delegated record: %v", r)
	}
	eventually(t, 5*time.Second, "the delegated record stored", func() bool { return holds(a, good) })
}

// Lists mode: a node keeps a publisher while a list of an organisation it
// follows names it, and drops its records when the list no longer does.
func TestOrgListsMode(t *testing.T) {
	tn := newTestNet(t, 107)
	staff := testKey(t, 9603)
	coord := newTestOrg(t, "Network Coordinator", []uint64{9601, 9602}, delegation(keyID(t, staff), protocol.KindMembers))
	x := tn.add(func(c *Config) { c.Trust = Trust{Mode: TrustLists, Follow: []string{coord.id.String()}} })
	m := tn.add()
	tn.connect(x, m)
	tn.waitTopics()
	submit(t, x, coord.gen)
	sheets := demoSheets(t)
	list := func(seq uint64, members ...protocol.Member) *protocol.Signed {
		return coord.record(staff, coord.gen, seq, coord.base.Add(time.Duration(seq)*time.Minute), &protocol.Announcement{
			Kind: protocol.KindMembers, Members: &protocol.MemberList{List: "members", Title: "Members", Members: members}})
	}
	ignored := x.Stats().Ignored[ReasonPolicy]
	p1 := publish(t, m, variant(sheets, 20))
	eventually(t, 10*time.Second, "m's practice ignored by x", func() bool { return x.Stats().Ignored[ReasonPolicy] > ignored })
	if holds(x, p1) || x.Keeps(m.ID()) {
		t.Fatal("x keeps a publisher no list names")
	}

	l2 := list(2, protocol.Member{ID: m.ID(), Name: "Member City"})
	submit(t, x, l2)
	if !x.Keeps(m.ID()) {
		t.Fatal("the list names m, x does not keep it")
	}
	p2 := publish(t, m, variant(sheets, 21))
	eventually(t, 10*time.Second, "m's practice at x", func() bool { return holds(x, p2) })

	l3 := list(3)
	submit(t, x, l3)
	if x.Keeps(m.ID()) || holds(x, p2) {
		t.Fatal("m left the list; x still keeps it")
	}
	if !holds(x, l3) || !holds(x, coord.gen) {
		t.Fatal("the followed organisation's records were dropped")
	}
	// SetTrust to open mode keeps everyone again.
	if err := x.SetTrust(Trust{Mode: TrustOpen}); err != nil {
		t.Fatal(err)
	}
	if !x.Keeps(m.ID()) || x.Config().Trust.Mode != TrustOpen {
		t.Fatal("SetTrust did not apply")
	}
}

// A peer that gossips a v1 record on the v2 topic and a forged delegation
// loses score on that topic; nothing it sent is stored.
func TestOrgHostileGossipV2(t *testing.T) {
	tn := newTestNet(t, 108)
	a := tn.add()
	org := newTestOrg(t, "Victim", []uint64{9701})
	submit(t, a, org.gen)
	hk, htopic := tn.hostileV2(9702, a)
	sheets := demoSheets(t)
	plain, err := protocol.Seal(&protocol.Announcement{V: protocol.Version, Seq: 1, Time: org.base, Kind: protocol.KindPractice, Practice: variant(sheets, 30)}, hk)
	if err != nil {
		t.Fatal(err)
	}
	forged := org.by(hk)(protocol.Delegate(org.gen, 0, org.base.Add(time.Minute), delegation(keyID(t, hk), allKinds...)))
	ctx := context.Background()
	for _, sg := range []*protocol.Signed{plain, forged} {
		if err := htopic.Publish(ctx, sg.Envelope()); err != nil {
			t.Fatal(err)
		}
	}
	hid := keyID(t, hk)
	eventually(t, 10*time.Second, "both rejected and the peer's score negative", func() bool {
		st := a.Stats()
		return st.Rejected[ReasonWrongTopic] == 1 && st.Rejected[ReasonUnauthorised] == 1 && a.PeerScores()[hid] < 0
	})
	if holds(a, plain) || holds(a, forged) {
		t.Fatal("a hostile record was stored")
	}
}

// A node keeps at most protocol.MaxOrgOps operations of an organisation.
func TestOrgOpsQuota(t *testing.T) {
	tn := newTestNet(t, 109)
	a, b := tn.add(), tn.add()
	org := newTestOrg(t, "Busy", []uint64{9901})
	submit(t, a, org.gen)
	head := org.gen
	for i := range protocol.MaxOrgOps {
		ann, err := protocol.NextOp(head, 0, org.base.Add(time.Duration(i+1)*time.Second))
		if err == nil {
			ann.Org.Name = fmt.Sprintf("Busy %d", i)
		}
		op := org.by(org.keys[0])(ann, err)
		if i < protocol.MaxOrgOps-1 {
			submit(t, a, op)
			head = op
			continue
		}
		if _, err := a.Submit(context.Background(), op.Envelope()); !errors.Is(err, ErrOrgQuota) {
			t.Fatalf("operation %d submitted: %v", i+2, err)
		}
		if r := gossipTo(a, b.ID(), op, true); r != pubsub.ValidationIgnore || a.Stats().Ignored[ReasonQuota] != 1 {
			t.Fatalf("operation %d gossiped: %v %+v", i+2, r, a.Stats().Ignored)
		}
	}
	if c, err := a.Chain(org.id); err != nil || len(c.Ops()) != protocol.MaxOrgOps || c.Head().Hash() != head.Hash() {
		t.Fatalf("chain: %v", err)
	}
}
