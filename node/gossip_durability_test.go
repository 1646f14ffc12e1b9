package node

import (
	"testing"
	"time"

	"github.com/khantara/khantara/store"
)

// Gossip is stored once committed, without waiting for an fsync
// (store.ApplyCommitted), while the publisher's own record is fsynced
// before Publish returns: with a sync delay of an hour, the receiver
// holds the practice and its store has fsynced none of it.
func TestGossipStoredBeforeFsync(t *testing.T) {
	tn := newTestNet(t, 0x6055)
	tn.storeOpts = []store.Option{store.WithSyncDelay(time.Hour)}
	a, b := tn.add(), tn.add()
	tn.connect(a, b)
	tn.eventually(10*time.Second, "the first sync and a gossip mesh", func() bool {
		return a.Stats().SyncRounds > 0 && b.Stats().SyncRounds > 0 && tn.mesh[0].size() > 0 && tn.mesh[1].size() > 0
	})
	sheet := demoSheets(t)[0]
	sg := publish(t, a, sheet)
	if ws := a.Store().WriteStats(); ws.Durable != ws.Announcements || ws.Durable == 0 {
		t.Fatalf("publisher's store after Publish: %+v, want its own record fsynced", ws)
	}
	tn.eventually(10*time.Second, "the practice gossiped to b", func() bool {
		return has(b, a.ID(), sheet.ID, sg.Announcement().Seq)
	})
	if st := b.Stats(); st.Accepted == 0 {
		t.Fatalf("b took the practice by sync, not gossip: %+v", st)
	}
	if ws := b.Store().WriteStats(); ws.Announcements == 0 || ws.Durable != 0 {
		t.Fatalf("receiver's store: %+v, want the gossip committed and not yet fsynced", ws)
	}
}
