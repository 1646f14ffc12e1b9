package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestOrgReplicasModel is the property test of issue 12: random
// sequences of delegations, revocations, rotations (some signed by a
// lower-priority key, some forking the chain, some signed by a delegate
// and so broken), publications and retractions (some by keys the chain
// never delegated, some after a revocation or an expiry) are delivered to
// three replicas, each record to a random subset of them in a random
// order with duplicates, by gossip (the topic validator and the apply
// loop's batches) interleaved with sync sessions between random pairs
// over mocknet streams. After a last round of syncs every replica holds
// the same catalogue, and it equals the reference model: every operation
// whose chain links, and in each practice slot the authorised record of
// highest seq, judged by the rules of PROTOCOL.md 12.6 written out
// directly below against the final head.
//
// Before the last round every record is gossiped once more to one replica
// (as its publisher's node would offer it again): a record that was
// superseded everywhere by one that later lost its authority was deleted
// by every replica, and only a new offer can bring it back (12.11).
func TestOrgReplicasModel(t *testing.T) {
	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	stats := map[string]int{}
	for round := range rounds {
		t.Run(fmt.Sprint(round), func(t *testing.T) { modelRound(t, uint64(round), stats) })
	}
	// The generator reaches what the test is about.
	for _, k := range []string{"valid", "revoked", "unauthorised", "abandoned", "broken", "superseded-by-invalid"} {
		if stats[k] == 0 {
			t.Errorf("no round produced a %s record or operation: %v", k, stats)
		}
	}
	t.Logf("across %d rounds: %v", rounds, stats)
}

func modelRound(t *testing.T, round uint64, stats map[string]int) {
	rng := rand.New(rand.NewPCG(round, 0x5eed))
	g := newModelGen(t, rng, round)
	for range 40 {
		g.step()
	}
	tn := newTestNet(t, 300+round)
	replicas := []*Node{tn.add(), tn.add(), tn.add()}
	// Connected both ways, each replica has dialled the others: their
	// sync sessions are admitted as dialled peers', not rate-limited as
	// strangers' (the test syncs a pair many times a second). Gossip that
	// a replica publishes itself (released pending records) flows too.
	for i, a := range replicas {
		for j, b := range replicas {
			if i != j {
				tn.connect(a, b)
			}
		}
	}

	all := append(slices.Clone(g.ops), g.recs...)
	var sched []modelDelivery
	for _, sg := range all {
		copies := []int{1, 1, 1, 2, 2, 3}[rng.IntN(6)]
		for range copies {
			sched = append(sched, modelDelivery{sg, rng.IntN(len(replicas))})
		}
	}
	rng.Shuffle(len(sched), func(i, j int) { sched[i], sched[j] = sched[j], sched[i] })
	for len(sched) > 0 {
		if rng.IntN(4) == 0 {
			i := rng.IntN(len(replicas))
			modelSync(t, replicas[i], replicas[(i+1+rng.IntN(len(replicas)-1))%len(replicas)])
			continue
		}
		k := min(len(sched), 1+rng.IntN(6))
		gossipBatch(t, replicas, sched[:k])
		sched = sched[k:]
	}
	settle(t, replicas)
	// Every record once more, to one replica each.
	again := slices.Clone(g.recs)
	rng.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
	for i := 0; i < len(again); i += 4 {
		var batch []modelDelivery
		for _, sg := range again[i:min(len(again), i+4)] {
			batch = append(batch, modelDelivery{sg, rng.IntN(len(replicas))})
		}
		gossipBatch(t, replicas, batch)
	}
	settle(t, replicas)
	g.check(t, replicas, stats)
}

type modelDelivery struct {
	sg *protocol.Signed
	to int
}

// gossipBatch delivers each item to its replica as gossip does: the
// validator judges it, and the accepted ones of a replica are applied in
// one batch, as the apply loop groups them.
func gossipBatch(t *testing.T, replicas []*Node, ds []modelDelivery) {
	t.Helper()
	batches := make([][]store.Incoming, len(replicas))
	for _, d := range ds {
		n := replicas[d.to]
		from := replicas[(d.to+1)%len(replicas)].ID()
		_, v := validateFrom(n, from, d.sg, !protocol.IsV1(d.sg))
		if v == nil {
			continue
		}
		batches[d.to] = append(batches[d.to], store.Incoming{Signed: v.signed, Prior: v.prior, From: from.String()})
	}
	for i, b := range batches {
		if len(b) == 0 {
			continue
		}
		if _, err := replicas[i].apply(context.Background(), b, durable); err != nil {
			t.Fatalf("apply on replica %d: %v", i, err)
		}
	}
}

// modelSync runs one sync session from a with b. A session that fails
// for another reason than a violation (the peer may be busy: the nodes'
// own schedulers sync after a sequence gap) is retried; a violation (a
// replica served a record the other judged unauthorised, say) fails the
// test.
func modelSync(t *testing.T, a, b *Node) {
	t.Helper()
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := a.SyncWith(ctx, b.ID())
		cancel()
		if err == nil {
			return
		}
		if try == 100 || errors.Is(err, protocol.ErrSyncViolation) {
			t.Fatalf("sync %s with %s: %v", a.ID(), b.ID(), err)
		}
		time.Sleep(time.Duration(10+try) * time.Millisecond)
	}
}

// settle syncs every pair until every replica holds the same catalogue.
// (Records may still wait in the pending pools: those whose chain runs
// through an operation that is broken, which no replica stores; the
// model's check says which.)
func settle(t *testing.T, replicas []*Node) {
	t.Helper()
	for range 6 {
		for i, a := range replicas {
			for _, b := range replicas[i+1:] {
				modelSync(t, a, b)
			}
		}
		if converged(t, replicas) {
			return
		}
	}
	for i, n := range replicas {
		t.Logf("replica %d: digest %x, pending %d, stats %+v", i, digest(t, n).Fingerprint(), n.Pending(), n.Stats())
	}
	t.Fatal("replicas did not converge after six rounds of syncs")
}

// modelGen makes one organisation's history at random.
type modelGen struct {
	t      *testing.T
	rng    *rand.Rand
	rot    []crypto.PrivKey // rotation keys 0..2
	del    []crypto.PrivKey // delegate keys 0..3
	keyOf  map[peer.ID]crypto.PrivKey
	org    peer.ID
	base   time.Time
	seq    uint64
	ops    []*protocol.Signed
	tip    *protocol.Signed // the operation the next one usually follows
	recs   []*protocol.Signed
	sheets []*protocol.FactSheet
}

var modelSlots = []string{"model-a", "model-b", "model-c"}

func newModelGen(t *testing.T, rng *rand.Rand, round uint64) *modelGen {
	g := &modelGen{t: t, rng: rng, keyOf: map[peer.ID]crypto.PrivKey{}, sheets: demoSheets(t),
		base: time.Now().UTC().Add(-12 * time.Hour).Truncate(time.Second)}
	for i := range 7 {
		k := testKey(t, 7000+round*16+uint64(i))
		g.keyOf[keyID(t, k)] = k
		if i < 3 {
			g.rot = append(g.rot, k)
		} else {
			g.del = append(g.del, k)
		}
	}
	ann, err := protocol.NewGenesis(fmt.Sprintf("Model city %d", round), []crypto.PubKey{g.rot[0].GetPublic(), g.rot[1].GetPublic()},
		g.at(g.next()), delegation(keyID(t, g.del[0]), protocol.KindPractice, protocol.KindRetract))
	if err != nil {
		t.Fatal(err)
	}
	gen, err := protocol.Seal(ann, g.rot[0])
	if err != nil {
		t.Fatal(err)
	}
	g.org, g.tip, g.ops = gen.Announcement().Publisher, gen, []*protocol.Signed{gen}
	return g
}

// next takes the next sequence number: every record of the organisation
// has its own, so no two are equivocations.
func (g *modelGen) next() uint64 { g.seq++; return g.seq }

// at is the time of sequence number s: times grow with seq.
func (g *modelGen) at(s uint64) time.Time { return g.base.Add(time.Duration(s) * time.Minute) }

func (g *modelGen) step() {
	switch r := g.rng.IntN(20); {
	case r < 8:
		g.record(protocol.KindPractice)
	case r < 11:
		g.record(protocol.KindRetract)
	default:
		g.op()
	}
}

// op makes an operation: usually after the tip, sometimes after an
// earlier one (a fork); usually signed by a rotation key of its prev
// (not always the first: a recovery window opens), sometimes by a
// delegate (broken).
func (g *modelGen) op() {
	p := g.tip
	if g.rng.IntN(4) == 0 {
		p = g.ops[g.rng.IntN(len(g.ops))]
	}
	s := g.next()
	a, err := protocol.NextOp(p, s, g.at(s))
	if err != nil {
		g.t.Fatal(err)
	}
	o := a.Org
	listed := func(k peer.ID) bool {
		return slices.Contains(o.Keys, k) || slices.ContainsFunc(o.Delegates, func(d protocol.Delegation) bool { return d.Key == k }) ||
			slices.ContainsFunc(o.Revoked, func(r protocol.Revocation) bool { return r.Key == k })
	}
	switch g.rng.IntN(4) {
	case 0, 1: // delegate a key
		k := keyID(g.t, g.del[g.rng.IntN(len(g.del))])
		if listed(k) {
			return
		}
		d := protocol.Delegation{Key: k, May: [][]protocol.Kind{{protocol.KindPractice}, {protocol.KindRetract}, {protocol.KindPractice, protocol.KindRetract}}[g.rng.IntN(3)]}
		if g.rng.IntN(4) == 0 {
			d.Until = g.at(s + uint64(g.rng.IntN(20)))
		}
		o.Delegates = append(o.Delegates, d)
	case 2: // revoke one
		if len(o.Delegates) == 0 {
			return
		}
		i := g.rng.IntN(len(o.Delegates))
		d := o.Delegates[i]
		o.Delegates = slices.Delete(o.Delegates, i, i+1)
		back := uint64(g.rng.IntN(8))
		o.Revoked = append(o.Revoked, protocol.Revocation{Key: d.Key, May: d.May, From: g.at(s - min(s-1, back)), Through: s - min(s, uint64(g.rng.IntN(8)))})
	case 3: // rotate
		o.Keys = nil
		for _, i := range g.rng.Perm(len(g.rot))[:1+g.rng.IntN(len(g.rot))] {
			o.Keys = append(o.Keys, keyID(g.t, g.rot[i]))
		}
	}
	pk := p.Announcement().Org.Keys
	signer := g.keyOf[pk[g.rng.IntN(len(pk))]]
	delegateSigned := g.rng.IntN(10) == 0
	if delegateSigned {
		signer = g.del[g.rng.IntN(len(g.del))]
	}
	sg, err := protocol.Seal(a, signer)
	if err != nil {
		return // statically invalid (never gossiped): not part of the history
	}
	g.ops = append(g.ops, sg)
	if !delegateSigned && (p == g.tip || g.rng.IntN(2) == 0) {
		g.tip = sg
	}
}

// record makes a practice or a retraction in a random slot, signed by a
// random delegate key, with auth an operation that delegates it that kind
// (usually) or any operation.
func (g *modelGen) record(kind protocol.Kind) {
	k := g.del[g.rng.IntN(len(g.del))]
	id := keyID(g.t, k)
	auth := g.ops[g.rng.IntN(len(g.ops))]
	if g.rng.IntN(5) > 0 {
		var fit []*protocol.Signed
		for _, op := range g.ops {
			if delegates(op.Announcement().Org, id, kind) {
				fit = append(fit, op)
			}
		}
		if len(fit) > 0 {
			auth = fit[g.rng.IntN(len(fit))]
		}
	}
	s := g.next()
	slot := modelSlots[g.rng.IntN(len(modelSlots))]
	a := &protocol.Announcement{V: protocol.Version, Publisher: g.org, Seq: s, Time: g.at(s), Kind: kind, Auth: auth.Hash()}
	if kind == protocol.KindPractice {
		sheet := *g.sheets[int(s)%len(g.sheets)]
		sheet.ID = slot
		a.Practice = &sheet
	} else {
		a.Retract = &protocol.Retraction{ID: slot, Reason: fmt.Sprintf("withdrawn at %d", s)}
	}
	sg, err := protocol.Seal(a, k)
	if err != nil {
		g.t.Fatal(err)
	}
	g.recs = append(g.recs, sg)
}

// delegates reports whether operation o delegates key k for kind.
func delegates(o *protocol.OrgOp, k peer.ID, kind protocol.Kind) bool {
	return slices.ContainsFunc(o.Delegates, func(d protocol.Delegation) bool { return d.Key == k && slices.Contains(d.May, kind) })
}

// judge is PROTOCOL.md 12.6 steps 2-4 for the model, every operation
// held: "unauthorised" (a fault of the signer), "revoked" (not authorised
// by the head), or "valid".
func judge(c *protocol.Chain, sg *protocol.Signed) string {
	a := sg.Announcement()
	op, ok := c.Op(a.Auth)
	if !ok || !op.State.Linked() || !delegates(op.Op.Announcement().Org, sg.Signer(), a.Kind) {
		return "unauthorised"
	}
	h := c.Head().Announcement().Org
	for _, d := range h.Delegates {
		if d.Key == sg.Signer() && slices.Contains(d.May, a.Kind) && (d.Until.IsZero() || a.Time.Before(d.Until)) {
			return "valid"
		}
	}
	for _, r := range h.Revoked {
		if r.Key == sg.Signer() && slices.Contains(r.May, a.Kind) && a.Time.Before(r.From) && a.Seq <= r.Through {
			return "valid"
		}
	}
	return "revoked"
}

// check compares every replica with the model.
func (g *modelGen) check(t *testing.T, replicas []*Node, stats map[string]int) {
	t.Helper()
	c := protocol.NewChain(g.org, g.ops)
	for _, op := range c.Ops() {
		stats[op.State.String()]++
		for i, n := range replicas {
			_, err := n.Store().Head(g.org, op.Op.Slot())
			if stored := err == nil; stored != op.State.Linked() {
				t.Errorf("replica %d: operation seq %d (%s: %s) stored %v", i, op.Op.Announcement().Seq, op.State, op.Reason, stored)
			}
		}
	}
	best := map[string]*protocol.Signed{}
	for _, sg := range g.recs {
		v := judge(c, sg)
		stats[v]++
		slot := sg.Announcement().Slot()
		if v != "valid" {
			if b := best[slot]; b != nil && b.Announcement().Seq < sg.Announcement().Seq {
				stats["superseded-by-invalid"]++ // some valid record below it may be lost without the re-offer
			}
			continue
		}
		if b := best[slot]; b == nil || b.Announcement().Seq < sg.Announcement().Seq {
			best[slot] = sg
		}
	}
	for _, slot := range modelSlots {
		for i, n := range replicas {
			h, err := n.Store().Head(g.org, slot)
			want := best[slot]
			switch {
			case want == nil && err == nil:
				t.Errorf("replica %d holds seq %d in %s; the model holds nothing", i, h.Seq, slot)
			case want == nil:
			case err != nil:
				t.Errorf("replica %d holds nothing in %s (%v); the model holds seq %d", i, slot, err, want.Announcement().Seq)
			case h.Hash != want.Hash():
				t.Errorf("replica %d holds seq %d in %s; the model holds seq %d", i, h.Seq, slot, want.Announcement().Seq)
			}
		}
	}
	// What waits in the pending pools is what no replica can ever store:
	// an operation that follows a broken one (which no replica holds), or
	// a record whose auth is such an operation.
	for i, n := range replicas {
		n.pending.mu.Lock()
		for _, r := range n.pending.byOrg[g.org] {
			if op, ok := c.Op(r.sg.Hash()); ok && op.State != protocol.OpBroken || !ok && judge(c, r.sg) != "unauthorised" {
				t.Errorf("replica %d holds seq %d (%s) pending", i, r.sg.Announcement().Seq, r.sg.Announcement().Kind)
			}
			stats["pending-for-good"]++
		}
		n.pending.mu.Unlock()
	}
	if t.Failed() {
		for _, sg := range g.recs {
			a := sg.Announcement()
			t.Logf("record seq %d %s %s by %s: %s", a.Seq, a.Kind, a.Slot(), sg.Signer(), judge(c, sg))
		}
	}
}
