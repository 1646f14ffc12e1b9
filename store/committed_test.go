package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/khantara/khantara/internal/cputime"
	"github.com/khantara/khantara/protocol"
)

// withBeforeSync makes the syncer run f before each fsync.
func withBeforeSync(f func()) Option { return func(c *config) { c.beforeSync = f } }

// ApplyCommitted returns while the fsync of its group is held up, with
// its records readable; Apply returns only after an fsync that covered
// it; Durable counts a group once its fsync is done.
func TestApplyCommittedDoesNotWaitForFsync(t *testing.T) {
	hold, entered := make(chan struct{}), make(chan struct{}, 64)
	s, err := Open(t.TempDir(), WithMemTableSize(8<<20), WithCacheSize(8<<20), withBeforeSync(func() {
		entered <- struct{}{}
		<-hold
	}))
	if err != nil {
		t.Fatal(err)
	}
	holding := true
	release := func() {
		if holding {
			holding = false
			close(hold)
		}
	}
	t.Cleanup(func() { release(); s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, pub := key(t, 1)
	first := []Incoming{
		{Signed: practice(t, k, 1, "language-cafe", "Language café"), From: "test"},
		{Signed: practice(t, k, 2, "job-desk", "Job desk"), From: "test"},
	}
	res, err := s.ApplyCommitted(ctx, first...)
	if err != nil {
		t.Fatalf("ApplyCommitted with its fsync held up: %v", err)
	}
	for i, r := range res {
		if r.Outcome != Applied {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	select {
	case <-entered: // the syncer now waits in the hook, before its fsync
	case <-ctx.Done():
		t.Fatal("the syncer never started the fsync of a committed group")
	}
	for _, in := range first {
		r, err := s.Get(pub, in.Signed.Slot())
		if err != nil || r.Signed.Hash() != in.Signed.Hash() {
			t.Fatalf("committed %s is not readable: %v", in.Signed.Slot(), err)
		}
	}
	if ws := s.WriteStats(); ws.Announcements != 2 || ws.Durable != 0 || !ws.SyncedAt.IsZero() {
		t.Fatalf("before the fsync: %+v, want 2 committed and none durable", ws)
	}

	// A durable Apply behind it returns only once an fsync covered it.
	durable, prof := make(chan error, 1), profile(t, k, 3, "Comune di Prova")
	go func() {
		_, err := s.Apply(ctx, Incoming{Signed: prof, From: "test"})
		durable <- err
	}()
	released := time.Now()
	release()
	if err := <-durable; err != nil {
		t.Fatal(err)
	}
	if ws := s.WriteStats(); ws.Durable != 3 || ws.Announcements != 3 || ws.SyncedAt.Before(released) || ws.SyncedAt.After(time.Now()) {
		t.Fatalf("after Apply returned: %+v, want all 3 committed and durable, synced after %v", ws, released)
	}
	if r, err := s.Get(pub, protocol.ProfileSlot); err != nil || r.Announcement().Seq != 3 {
		t.Fatalf("profile after Apply: %v", err)
	}
}

// Close fsyncs what ApplyCommitted left committed, and a reopened store
// holds it.
func TestApplyCommittedDurableAtClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithMemTableSize(8<<20), WithCacheSize(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	k, pub := key(t, 2)
	var items []Incoming
	for i := range 5 {
		items = append(items, Incoming{Signed: practice(t, k, uint64(i+1), "p-"+string(rune('a'+i)), "Practice"), From: "test"})
	}
	for _, in := range items {
		if _, err := s.ApplyCommitted(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ws := s.WriteStats(); ws.Announcements != 5 || ws.Durable != 5 {
		t.Fatalf("after Close: %+v, want 5 committed and 5 durable", ws)
	}
	s = openStore(t, dir)
	for _, in := range items {
		if r, err := s.Get(pub, in.Signed.Slot()); err != nil || r.Signed.Hash() != in.Signed.Hash() {
			t.Fatalf("%s after reopening: %v", in.Signed.Slot(), err)
		}
	}
}

// Gossip stored with ApplyCommitted waits for the sync delay to be
// fsynced, many commits under one fsync; an Apply meanwhile ends the wait
// and its fsync covers what waited; with a short delay the fsync comes
// without any Apply.
func TestSyncDelayGroupsCommittedFsyncs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(t.TempDir(), WithMemTableSize(8<<20), WithCacheSize(8<<20), WithSyncDelay(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	k, _ := key(t, 1)
	for i := range 3 {
		if _, err := s.ApplyCommitted(ctx, Incoming{Signed: practice(t, k, uint64(i+1), "cafe", "Language café"), From: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // the syncer had time to sync, if it were to
	if ws := s.WriteStats(); ws.Durable != 0 || ws.Announcements != 3 {
		t.Fatalf("within the sync delay: %+v, want 3 committed and none synced", ws)
	}
	if _, err := s.Apply(ctx, Incoming{Signed: practice(t, k, 4, "desk", "Job desk"), From: "test"}); err != nil {
		t.Fatal(err)
	}
	if ws := s.WriteStats(); ws.Durable != 4 || ws.Syncs != 1 {
		t.Fatalf("after an Apply: %+v, want one fsync covering all 4", ws)
	}

	short, err := Open(t.TempDir(), WithMemTableSize(8<<20), WithCacheSize(8<<20), WithSyncDelay(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { short.Close() })
	if _, err := short.ApplyCommitted(ctx, Incoming{Signed: practice(t, k, 1, "cafe", "Language café"), From: "test"}); err != nil {
		t.Fatal(err)
	}
	for short.WriteStats().Durable != 1 {
		if ctx.Err() != nil {
			t.Fatalf("no fsync within 10 s of a 20 ms sync delay: %+v", short.WriteStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With a sync clock, WriteStats.SyncCPU counts the CPU of the fsyncs
// (the goroutine holds its thread only for each one); without, it stays
// zero. Where cputime reads no clock, the clock reads zero and so does
// SyncCPU.
func TestSyncCPU(t *testing.T) {
	for _, clocked := range []bool{false, true} {
		opts := []Option{WithMemTableSize(8 << 20), WithCacheSize(8 << 20)}
		if clocked {
			opts = append(opts, WithSyncClock(cputime.Thread))
		}
		s, err := Open(t.TempDir(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := key(t, 1)
		for i := range 5 {
			apply(t, s, practice(t, k, uint64(i+1), fmt.Sprintf("practice-%d", i), "Practice"))
		}
		ws := s.WriteStats()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		switch {
		case ws.Syncs == 0:
			t.Fatalf("clocked %v: no fsync counted", clocked)
		case clocked && cputime.Supported && ws.SyncCPU <= 0:
			t.Fatalf("clocked: %d fsyncs took no CPU (SyncCPU %v)", ws.Syncs, ws.SyncCPU)
		case (!clocked || !cputime.Supported) && ws.SyncCPU != 0:
			t.Fatalf("without a clock SyncCPU is %v, want 0", ws.SyncCPU)
		}
	}
}
