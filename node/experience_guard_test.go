package node

import (
	"context"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// Until the store can keep a key publisher's experience records apart
// from its v1 records, the node stores none: gossip ignores them (policy)
// and the apply path (sync) skips them, so no sync/1 session can offer
// them to a v1 peer.
func TestExperienceNotYetKept(t *testing.T) {
	tn := newTestNet(t, 401)
	a, b := tn.add(), tn.add()
	k := testKey(t, 4011)
	lesson := &protocol.Announcement{V: protocol.Version, Seq: 1, Time: time.Now().UTC().Add(-time.Minute).Truncate(time.Second),
		Kind: protocol.KindExperience, Experience: &protocol.Experience{Type: protocol.ExperienceLesson, ID: "guard-lesson",
			About: protocol.About{Publisher: b.ID(), ID: "some-practice"}, Language: "en", Title: "A lesson", Text: "What we learned."}}
	sg, err := protocol.Seal(lesson, k)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := validateFrom(a, b.ID(), sg, true); r != pubsub.ValidationIgnore {
		t.Fatalf("gossip: %v", r)
	}
	if _, err := a.apply(context.Background(), []store.Incoming{{Signed: sg, From: b.ID().String()}}); err != nil {
		t.Fatal(err)
	}
	if holds(a, sg) {
		t.Fatal("an experience record was stored")
	}
}
