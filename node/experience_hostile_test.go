package node

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// gossipBatchTo delivers sgs to n as gossip from peer from does: the
// validator judges each, and the accepted ones are applied in one batch,
// as the apply loop groups them. It returns the validator's verdicts.
func gossipBatchTo(t testing.TB, n *Node, from peer.ID, sgs ...*protocol.Signed) []pubsub.ValidationResult {
	t.Helper()
	var batch []store.Incoming
	out := make([]pubsub.ValidationResult, len(sgs))
	for i, sg := range sgs {
		r, v := validateFrom(n, from, sg, !protocol.IsV1(sg))
		out[i] = r
		if v != nil {
			batch = append(batch, store.Incoming{Signed: v.signed, Prior: v.prior, From: from.String()})
		}
	}
	if len(batch) > 0 {
		if _, err := n.apply(context.Background(), batch, durable); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// liveExperiences is what n holds of pub's live experience slots.
func liveExperiences(t testing.TB, n *Node, pub peer.ID) uint64 {
	t.Helper()
	p, err := n.Store().PublisherSummary(pub)
	if err != nil {
		t.Fatal(err)
	}
	return p.Experiences
}

// endorsementOf seals k's endorsement at seq of the practice (about, id).
func endorsementOf(t testing.TB, k crypto.PrivKey, seq uint64, about peer.ID, id string) *protocol.Signed {
	t.Helper()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	return sealAs(t, k, seq, at, expAnn(expBody(protocol.ExperienceEndorsement, "", about, id)))
}

// TestHostileExperienceForged: an experience record whose signature does
// not verify is rejected and not stored; a valid one about a practice
// this node does not hold is accepted and kept, and listed under that
// practice.
func TestHostileExperienceForged(t *testing.T) {
	tn := newTestNet(t, 1320)
	n, from := tn.add(), tn.add()
	k := testKey(t, 13200)
	lesson := sealAs(t, k, 1, time.Now().UTC().Add(-time.Hour).Truncate(time.Second),
		expAnn(expBody(protocol.ExperienceLesson, "lesson-one", from.ID(), "not-held-here")))
	forged := bytes.Clone(lesson.Envelope())
	forged[len(forged)-1] ^= 1 // the signature is the envelope's last field
	msg := &pubsub.Message{Message: &pb.Message{Data: forged}, ReceivedFrom: from.ID()}
	if r := n.validate(context.Background(), from.ID(), msg, true); r != pubsub.ValidationReject {
		t.Fatalf("a forged experience record: %v, want reject", r)
	}
	if n.Stats().Rejected[ReasonBadSignature] != 1 {
		t.Fatalf("rejections: %v", n.Stats().Rejected)
	}
	if r := gossipBatchTo(t, n, from.ID(), lesson); r[0] != pubsub.ValidationAccept || !holds(n, lesson) {
		t.Fatalf("an experience about a practice not held: %v, held %v", r[0], holds(n, lesson))
	}
	var got []*protocol.Signed
	for r, err := range n.Store().Experiences(from.ID(), "not-held-here") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Signed)
	}
	if len(got) != 1 || got[0].Hash() != lesson.Hash() {
		t.Fatalf("listed about the practice: %d records", len(got))
	}
}

// TestHostileExperienceFlood: 10,000 endorsements of distinct practices
// from one key leave exactly quota.experiences (default 1,000) live
// slots, the other 9,000 ignored as quota; at the bound an update of a
// slot held passes, a new slot does not, a retraction frees a slot; an
// honest publisher's experience record still gets through.
func TestHostileExperienceFlood(t *testing.T) {
	tn := newTestNet(t, 1321)
	// The hourly rate would stop the flood first: off, so that the bound
	// on experience slots is what stops it.
	n := tn.add(func(c *Config) { c.Quota.PerHour = 0 })
	from := tn.add()
	if n.Config().Quota.Experiences != 1000 {
		t.Fatalf("default quota.experiences %d, want 1000", n.Config().Quota.Experiences)
	}
	spam := testKey(t, 13210)
	spamID := keyID(t, spam)
	about := from.ID()
	practice := func(i int) string { return fmt.Sprintf("practice-%05d", i) }
	const flood = 10000
	var accepted, ignored int
	for start := 0; start < flood; start += 500 {
		var batch []*protocol.Signed
		for i := start; i < start+500; i++ {
			batch = append(batch, endorsementOf(t, spam, uint64(i+1), about, practice(i)))
		}
		for _, r := range gossipBatchTo(t, n, from.ID(), batch...) {
			switch r {
			case pubsub.ValidationAccept:
				accepted++
			case pubsub.ValidationIgnore:
				ignored++
			default:
				t.Fatalf("an endorsement of the flood: %v", r)
			}
		}
	}
	if got := liveExperiences(t, n, spamID); got != 1000 {
		t.Fatalf("%d live experience slots of the flooding key, want 1000", got)
	}
	if got := n.Stats().Ignored[ReasonQuota]; got != flood-1000 {
		t.Fatalf("ignored as quota: %d, want %d (validator: %d accepted, %d ignored)", got, flood-1000, accepted, ignored)
	}
	seq := uint64(flood)
	next := func() uint64 { seq++; return seq }
	// At the bound: an update of a held slot passes, a new slot does not.
	upd := endorsementOf(t, spam, next(), about, practice(0))
	if r := gossipBatchTo(t, n, from.ID(), upd); r[0] != pubsub.ValidationAccept || !holds(n, upd) {
		t.Fatalf("an update of a held slot at the bound: %v, held %v", r[0], holds(n, upd))
	}
	fresh := endorsementOf(t, spam, next(), about, "practice-new")
	if r := gossipBatchTo(t, n, from.ID(), fresh); r[0] != pubsub.ValidationIgnore || holds(n, fresh) {
		t.Fatalf("a new slot at the bound: %v, held %v", r[0], holds(n, fresh))
	}
	// The sync path (the apply path without the validator) skips it too.
	if _, err := n.apply(context.Background(), []store.Incoming{{Signed: fresh, From: from.ID().String()}}, durable); err != nil || holds(n, fresh) {
		t.Fatalf("a new slot at the bound, by sync: held %v (%v)", holds(n, fresh), err)
	}
	// A retraction frees a slot: a tombstone is no live slot.
	withdraw := sealAs(t, spam, next(), time.Now().UTC().Add(-time.Hour).Truncate(time.Second),
		&protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: upd.Slot()}})
	fresh2 := endorsementOf(t, spam, next(), about, "practice-new")
	if r := gossipBatchTo(t, n, from.ID(), withdraw); r[0] != pubsub.ValidationAccept {
		t.Fatalf("a retraction at the bound: %v", r[0])
	}
	if r := gossipBatchTo(t, n, from.ID(), fresh2); r[0] != pubsub.ValidationAccept || !holds(n, fresh2) {
		t.Fatalf("a new slot after a retraction: %v, held %v", r[0], holds(n, fresh2))
	}
	if got := liveExperiences(t, n, spamID); got != 1000 {
		t.Fatalf("%d live experience slots, want 1000", got)
	}
	// Reviving the retracted slot opens one more: ignored.
	revive := endorsementOf(t, spam, next(), about, practice(0))
	if r := gossipBatchTo(t, n, from.ID(), revive); r[0] != pubsub.ValidationIgnore {
		t.Fatalf("reviving a retracted slot at the bound: %v", r[0])
	}
	// An honest publisher's record is its own business.
	honest := testKey(t, 13211)
	lesson := sealAs(t, honest, 1, time.Now().UTC().Add(-time.Hour).Truncate(time.Second),
		expAnn(expBody(protocol.ExperienceLesson, "lesson-one", about, practice(5))))
	if r := gossipBatchTo(t, n, from.ID(), lesson); r[0] != pubsub.ValidationAccept || !holds(n, lesson) {
		t.Fatalf("an honest experience record after the flood: %v, held %v", r[0], holds(n, lesson))
	}
}

// TestExperienceQuotaExempt: the node's own experience records and those
// of a publisher on trust.allow pass the bound; another key's stop at it.
func TestExperienceQuotaExempt(t *testing.T) {
	tn := newTestNet(t, 1322)
	friend, stranger := testKey(t, 13220), testKey(t, 13221)
	n := tn.add(func(c *Config) {
		c.Quota.Experiences = 3
		c.Trust.Allow = []string{keyID(t, friend).String()}
	})
	from := tn.add()
	for i := range 5 {
		if _, err := n.PublishExperience(context.Background(), expBody(protocol.ExperienceEndorsement, "", from.ID(), fmt.Sprint("own-", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := liveExperiences(t, n, n.ID()); got != 5 {
		t.Fatalf("own: %d live slots, want 5 (exempt)", got)
	}
	for _, c := range []struct {
		name string
		k    crypto.PrivKey
		want uint64
	}{{"trust.allow", friend, 5}, {"stranger", stranger, 3}} {
		var sgs []*protocol.Signed
		for i := range 5 {
			sgs = append(sgs, endorsementOf(t, c.k, uint64(i+1), from.ID(), fmt.Sprint("p-", i)))
		}
		gossipBatchTo(t, n, from.ID(), sgs...)
		if got := liveExperiences(t, n, keyID(t, c.k)); got != c.want {
			t.Fatalf("%s: %d live slots, want %d", c.name, got, c.want)
		}
	}
}
