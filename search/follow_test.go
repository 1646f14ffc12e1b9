package search

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// waitStatus waits until cond holds of the index's status, or fails the
// test after 20 s.
func waitStatus(t testing.TB, ix *Index, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ix.stateMu.Lock()
		ch := ix.changed
		ix.stateMu.Unlock()
		if s := ix.Status(); cond(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; status %+v", what, ix.Status())
		}
	}
}

// slotLog records the slots of every batch the index writes.
type slotLog struct {
	mu    sync.Mutex
	slots []string
	fail  func() error // when set, every write calls it instead
}

func (l *slotLog) hook(keys []docKey) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail()
	}
	for _, k := range keys {
		l.slots = append(l.slots, docID(k.pub, k.slot))
	}
	return nil
}

func (l *slotLog) set(fail func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = fail
}

func (l *slotLog) written() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.slots)
	slices.Sort(out)
	return out
}

// TestReopenCatchesUp: an index reopened after changes it missed, or
// after losing the tail of its writes as in a crash (its stored position
// set back), replays exactly the missing slots from the store's feed and
// is not rebuilt.
func TestReopenCatchesUp(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 2)
	sheets := c.loadDemo()
	dir := t.TempDir()
	ix := openIndex(t, dir, st)
	name, _ := readCurrent(dir)
	epoch := st.Epoch()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	// Changes the index never saw: one new practice, one retraction.
	extra := *sheets[0]
	extra.ID, extra.Title = "behind-the-back", "Zyxwvut practice"
	c.publish(0, &extra)
	gone := sheets[1]
	gp := 0
	if c.cur[docID(c.pubs[0], gone.ID)] == nil {
		gp = 1
	}
	c.retract(gp, gone.ID)
	// And a crash that lost the tail of the index's writes: its stored
	// position is set back by three more changes.
	p := st.Position()
	setInternal(t, dir, keyFeed, encodeFeed(epoch, p-5))
	var want []string
	for ch, err := range st.Changes(p - 5) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, docID(ch.Publisher, ch.Slot))
	}
	slices.Sort(want)
	if len(want) != 5 {
		t.Fatalf("%d feed entries after %d, want 5", len(want), p-5)
	}

	log := &slotLog{}
	ix = openIndexAsync(t, dir, st, func(c *config) { c.batchHook = log.hook })
	if s := ix.Status(); s.State != StateCatchingUp || s.Ready {
		t.Fatalf("status right after Open: %+v, want catching up", s)
	}
	if _, err := ix.Search(context.Background(), Query{}); !errors.Is(err, ErrNotReady) {
		// The catch-up may already be done; only a wrong error fails.
		if err != nil {
			t.Fatalf("search while catching up: %v", err)
		}
	}
	flush(t, ix)
	if got, _ := readCurrent(dir); got != name {
		t.Fatalf("the index was rebuilt (%s, was %s)", got, name)
	}
	if got := log.written(); !slices.Equal(got, want) {
		t.Fatalf("replayed %v\nwant     %v", got, want)
	}
	if mustSearch(t, ix, Query{Text: "Zyxwvut"}).Total != 1 {
		t.Error("the practice published while the index was closed is missing")
	}
	if got, want := ids(mustSearch(t, ix, Query{}).Hits), c.scan(func(*protocol.FactSheet) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("index %v\nstore %v", got, want)
	}
	if s := ix.Status(); s.Position != st.Position() || !s.Ready {
		t.Errorf("status after catch-up: %+v", s)
	}
}

// TestReopenRebuilds: an index of another feed epoch (the store was
// rebuilt) or another mapping is rebuilt in the background at Open.
func TestReopenRebuilds(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 2)
	c.loadDemo()
	dir := t.TempDir()
	ix := openIndex(t, dir, st)
	ix.Close()
	for _, tc := range []struct {
		name   string
		change func()
	}{
		{"epoch", func() {
			if err := st.Rebuild(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
		{"mapping", func() { setInternal(t, dir, keyMapping, []byte("0-old")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := readCurrent(dir)
			tc.change()
			ix := openIndexAsync(t, dir, st)
			flush(t, ix)
			if after, _ := readCurrent(dir); after == before {
				t.Fatal("the index was not rebuilt")
			}
			if got, want := ids(mustSearch(t, ix, Query{}).Hits), c.scan(func(*protocol.FactSheet) bool { return true }); !slices.Equal(got, want) {
				t.Errorf("index %v\nstore %v", got, want)
			}
			ix.Close()
		})
	}
}

// TestNotReadyWhileRebuilding: a new index answers ErrNotReady, with its
// progress, until the background rebuild is done; the write gate holds
// the rebuild back meanwhile.
func TestNotReadyWhileRebuilding(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 3)
	c.loadDemo()
	var mu sync.Mutex
	closed := errors.New("disk nearly full")
	gateErr := closed
	gate := func() error { mu.Lock(); defer mu.Unlock(); return gateErr }
	ix := openIndexAsync(t, t.TempDir(), st, WithWriteGate(gate), WithBatchSize(10))
	s := waitStatus(t, ix, "a paused rebuild", func(s Status) bool { return s.Paused })
	if s.State != StateRebuilding || s.Total != uint64(len(c.cur)) || s.Done != 0 || s.Error != closed.Error() {
		t.Fatalf("status %+v, want rebuilding 0 of %d, paused by the gate", s, len(c.cur))
	}
	_, err := ix.Search(context.Background(), Query{})
	var nr *NotReadyError
	if !errors.As(err, &nr) || !errors.Is(err, ErrNotReady) || nr.Status.State != StateRebuilding {
		t.Fatalf("search during rebuild: %v", err)
	}
	if _, err := ix.Stats(context.Background(), Query{}, "country"); !errors.Is(err, ErrNotReady) {
		t.Fatalf("stats during rebuild: %v", err)
	}
	t.Logf("search during rebuild: %v", err)

	mu.Lock()
	gateErr = nil
	mu.Unlock()
	ix.Notify("", "")
	flush(t, ix)
	if got := mustSearch(t, ix, Query{}).Total; got != len(c.cur) {
		t.Fatalf("%d practices after the rebuild, want %d", got, len(c.cur))
	}
}

// TestFailedWriteDoesNotAdvance: a batch that fails, or panics inside
// bleve (as zapx did after ENOSPC), leaves the index's position where it
// was and the process alive; the follower retries until a write succeeds.
func TestFailedWriteDoesNotAdvance(t *testing.T) {
	for _, mode := range []string{"error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			st := openStore(t, t.TempDir())
			c := newCatalogue(t, st, 1)
			sheets := c.loadDemo()
			log := &slotLog{}
			dir := t.TempDir()
			ix := openIndex(t, dir, st, func(c *config) { c.batchHook = log.hook })
			pos := ix.Status().Position
			failures := 0
			log.set(func() error {
				failures++
				if mode == "panic" {
					var m map[string]int
					m["x"]++ //nolint:staticcheck // SA5000: the panic is the point: bleve can panic like this
				}
				return errors.New("no space left on device")
			})
			extra := *sheets[0]
			extra.ID, extra.Title = "written-later", "Quuxbaz practice"
			c.publish(0, &extra)
			ix.Notify("", "")
			s := waitStatus(t, ix, "a failed write", func(s Status) bool { return s.Error != "" })
			if s.Position != pos {
				t.Fatalf("position moved from %d to %d after a failed write", pos, s.Position)
			}
			if mode == "panic" && !strings.Contains(s.Error, "panicked") {
				t.Fatalf("error %q does not say bleve panicked", s.Error)
			}
			if mustSearch(t, ix, Query{Text: "Quuxbaz"}).Total != 0 {
				t.Fatal("a failed write reached the index")
			}
			// The stored position has not moved either: reopened, the
			// index replays the change.
			log.set(nil)
			flush(t, ix)
			if mustSearch(t, ix, Query{Text: "Quuxbaz"}).Total != 1 {
				t.Fatal("the retried write is missing")
			}
			if s := ix.Status(); s.Error != "" || s.Position != st.Position() {
				t.Fatalf("after the retry: %+v", s)
			}
			t.Logf("%d failed attempts before the retry succeeded", failures)
		})
	}
}

// TestWriteGatePauses: while the gate refuses, the index writes nothing
// and reports itself paused; once the gate opens it catches up.
func TestWriteGatePauses(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := newCatalogue(t, st, 1)
	sheets := c.loadDemo()
	var mu sync.Mutex
	var gateErr error
	asked := 0
	gate := func() error { mu.Lock(); defer mu.Unlock(); asked++; return gateErr }
	log := &slotLog{}
	ix := openIndex(t, t.TempDir(), st, WithWriteGate(gate), func(c *config) { c.batchHook = log.hook })
	mu.Lock()
	gateErr = errors.New("free space below the threshold")
	mu.Unlock()
	writes := len(log.written())
	pos := ix.Status().Position

	extra := *sheets[0]
	extra.ID, extra.Title = "gated", "Gatekept practice"
	c.publish(0, &extra)
	ix.Notify("", "")
	s := waitStatus(t, ix, "paused", func(s Status) bool { return s.Paused })
	if s.Position != pos || len(log.written()) != writes {
		t.Fatalf("the index wrote while the gate was closed: %+v", s)
	}
	// Notify wakes it to ask again, and it still does not write.
	mu.Lock()
	n := asked
	mu.Unlock()
	ix.Notify("", "")
	waitFor(t, "the gate asked again", func() bool { mu.Lock(); defer mu.Unlock(); return asked > n })
	if mustSearch(t, ix, Query{Text: "Gatekept"}).Total != 0 || len(log.written()) != writes {
		t.Fatal("the index wrote while the gate was closed")
	}
	mu.Lock()
	gateErr = nil
	mu.Unlock()
	ix.Notify("", "")
	flush(t, ix)
	if mustSearch(t, ix, Query{Text: "Gatekept"}).Total != 1 {
		t.Fatal("the gated practice is missing once the gate opened")
	}
	if s := ix.Status(); s.Paused || s.Error != "" {
		t.Fatalf("still paused: %+v", s)
	}
}

// waitFor polls cond every 5 ms for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
