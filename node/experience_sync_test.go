package node

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
)

// v1Hashes lists the hashes of n's v1 records (V1Keys), sorted.
func v1Hashes(t testing.TB, n *Node) []protocol.Hash {
	t.Helper()
	var out []protocol.Hash
	for k, err := range n.Store().V1Keys() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.Hash)
	}
	return sortedHashes(out)
}

// TestSyncV1PeerGetsNoExperience: a node that speaks only sync/1 and a v2
// node holding a key publisher's practices, experience records (one of
// them retracted), and equivocations of both (evidence that is a v1
// record, and evidence that is not) sync both ways: the v1 node gets the
// practices and the v1 evidence, never an experience record or the
// retraction of an experience slot; every session ends clean; the v1 root
// digests agree, and a settled session moves nothing.
func TestSyncV1PeerGetsNoExperience(t *testing.T) {
	tn := newTestNet(t, 1310)
	full, v1 := tn.addWithOptions(), tn.addWithOptions(WithSyncV1Only())
	k := testKey(t, 13100)
	pub := keyID(t, k)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	sheets := demoSheets(t)
	p1 := sealAs(t, k, 1, at, practiceAnn(sheets[0]))
	p2 := sealAs(t, k, 2, at, practiceAnn(sheets[1]))
	lesson := sealAs(t, k, 3, at, expAnn(expBody(protocol.ExperienceLesson, "lesson-one", pub, sheets[0].ID)))
	endorse := sealAs(t, k, 4, at, expAnn(expBody(protocol.ExperienceEndorsement, "", full.ID(), "elsewhere")))
	question := sealAs(t, k, 5, at, expAnn(expBody(protocol.ExperienceQuestion, "ask", pub, sheets[1].ID)))
	unask := sealAs(t, k, 6, at, &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: protocol.ExperienceSlotPrefix + "ask"}})
	// Equivocations at 7 (two experience records in one slot) and 8 (two
	// versions of a practice): the losers are kept as evidence.
	twinA := sealAs(t, k, 7, at, expAnn(expBody(protocol.ExperienceAdaptation, "twin", pub, sheets[0].ID)))
	twinB := sealAs(t, k, 7, at.Add(time.Second), expAnn(expBody(protocol.ExperienceAdaptation, "twin", pub, sheets[1].ID)))
	s3 := *sheets[2]
	s3b := s3
	s3b.Title = "Another title"
	p3a, p3b := sealAs(t, k, 8, at, practiceAnn(&s3)), sealAs(t, k, 8, at, practiceAnn(&s3b))
	seedStore(t, full, p1, p2, lesson, endorse, question, unask, twinA, twinB, p3a, p3b)
	theirs := publish(t, v1, sheets[4])

	for _, dir := range [][2]*Node{{v1, full}, {full, v1}, {v1, full}} {
		res := syncOnce(t, dir[0], dir[1])
		if res.Protocol != protocol.SyncProtocolID {
			t.Fatalf("session on %q, want %q", res.Protocol, protocol.SyncProtocolID)
		}
	}
	if got, want := syncHashes(t, v1), v1Hashes(t, full); !slices.Equal(got, want) || len(got) != 5 {
		t.Fatalf("the v1 node holds %d records, want the 5 v1 records (2 practices, the state and evidence at 8, its own)", len(got))
	}
	for _, sg := range []*protocol.Signed{lesson, endorse, question, unask, twinA, twinB} {
		if holds(v1, sg) {
			t.Fatalf("the v1 node holds a v2 record: %s seq %d", sg.Slot(), sg.Announcement().Seq)
		}
	}
	if !holds(full, theirs) {
		t.Fatal("the v2 node did not get the v1 node's practice")
	}
	if s1, s2 := full.Stats(), v1.Stats(); s1.SyncFailures+s2.SyncFailures != 0 {
		t.Fatalf("failed sessions: %d and %d", s1.SyncFailures, s2.SyncFailures)
	}
	d1, err1 := syncDigest(full.Store(), true)
	d2, err2 := syncDigest(v1.Store(), false)
	if err1 != nil || err2 != nil || d1.Fingerprint() != d2.Fingerprint() || d1.Count != 5 {
		t.Fatalf("v1 digests differ: %+v %v / %+v %v", d1, err1, d2, err2)
	}
	snap, err := loadSnapshot(full.Store(), true)
	if err != nil || digestOf(snap.keys) != d1 {
		t.Fatalf("the v1 root %+v is not the v1 snapshot's %+v (%v)", d1, digestOf(snap.keys), err)
	}
	if res := syncOnce(t, full, v1); res.Fetched+res.Served != 0 || res.Messages != 1 {
		t.Fatalf("a settled sync/1 session moved records: %+v", res)
	}
}

// TestSyncV1WantOfExperienceServedNothing: a sync/1 peer that asks for a
// key publisher's experience record by its ID (it is never listed to it)
// gets no envelope.
func TestSyncV1WantOfExperienceServedNothing(t *testing.T) {
	tn := newTestNet(t, 1311)
	full := tn.addWithOptions()
	h, _, _ := tn.hostile(13110)
	if _, err := tn.mn.ConnectPeers(h.ID(), full.ID()); err != nil {
		t.Fatal(err)
	}
	k := testKey(t, 13111)
	pub := keyID(t, k)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	p := sealAs(t, k, 1, at, practiceAnn(demoSheets(t)[0]))
	lesson := sealAs(t, k, 2, at, expAnn(expBody(protocol.ExperienceLesson, "lesson-one", pub, "some-practice")))
	seedStore(t, full, p, lesson)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, full.ID(), libp2pproto.ID(protocol.SyncProtocolID))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(20 * time.Second))
	want := func(sg *protocol.Signed) protocol.ItemID {
		id := protocol.ItemID{Publisher: sg.Announcement().Publisher, Seq: sg.Announcement().Seq}
		hh := sg.Hash()
		copy(id.Prefix[:], hh[:protocol.HashPrefixLen])
		return id
	}
	hello := protocol.Hello{Version: protocol.SyncVersion, Network: protocol.DefaultNetwork}
	if err := writeFrames(s, func(fw *protocol.FrameWriter) error {
		if err := fw.Hello(hello); err != nil {
			return err
		}
		if err := fw.Range(&protocol.Range{Upper: protocol.Bound{Inf: true}, Mode: protocol.ModeSkip}); err != nil {
			return err
		}
		if err := fw.Want([]protocol.ItemID{want(lesson), want(p)}); err != nil {
			return err
		}
		return fw.End()
	}); err != nil {
		t.Fatal(err)
	}
	fr := protocol.NewFrameReader(s)
	var envelopes [][]byte
	for f, err := fr.Next(); err == nil; f, err = fr.Next() {
		if f.Type == protocol.FrameEnvelope {
			envelopes = append(envelopes, f.Envelope)
		}
		if f.Type == protocol.FrameEnd {
			break
		}
	}
	s.CloseWrite()
	io.Copy(io.Discard, s)
	// The practice asked for alongside shows that wants are answered.
	if len(envelopes) != 1 {
		t.Fatalf("served %d envelopes, want the practice alone", len(envelopes))
	}
	sg, err := protocol.DecodeStored(envelopes[0])
	if err != nil || sg.Hash() != p.Hash() {
		t.Fatalf("served %v (%v), want the practice", sg, err)
	}
}
