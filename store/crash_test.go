package store

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

const crashAnnouncements = 10_000

// TestCrash runs a child process that applies 10,000 announcements and
// acknowledges each on stdout once Apply or ApplyCommitted has returned;
// it kills the child with SIGKILL after a random number of
// acknowledgements, reopens the store and requires every acknowledged
// announcement, a cleanly opening store and derived records that agree
// with the primary ones. A kill, unlike a power cut, leaves the page
// cache to the operating system, so what ApplyCommitted acknowledged
// (committed, perhaps not yet fsynced) must be there as whole as what
// Apply did. KHANTARA_CRASH_RUNS sets the number of rounds (default 20).
func TestCrash(t *testing.T) {
	runs := 20
	if v := os.Getenv("KHANTARA_CRASH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		runs = 2
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 7))
	for round := range runs {
		killAfter := rng.IntN(crashAnnouncements + 1)
		t.Run(fmt.Sprintf("round-%02d-kill-after-%d", round, killAfter), func(t *testing.T) {
			crashRound(t, killAfter, crashApplyOnly)
		})
	}
}

// TestCrashDuringCompact is TestCrash with the child compacting its store
// (Compact, purge.go) over and over while it applies, so that the kill
// lands in copies and swaps: the store must reopen whole, with every
// acknowledged announcement, and nothing left beside it. Each copy takes
// about a second under the race detector, so the child applies a fifth
// of TestCrash's announcements, in a tenth of its rounds.
func TestCrashDuringCompact(t *testing.T) {
	runs := 2
	if v := os.Getenv("KHANTARA_CRASH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
		runs = max(1, runs/10)
	}
	if testing.Short() {
		runs = 1
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 11))
	for round := range runs {
		killAfter := rng.IntN(crashAnnouncements/5 + 1)
		t.Run(fmt.Sprintf("round-%02d-kill-after-%d", round, killAfter), func(t *testing.T) {
			crashRound(t, killAfter, crashCompact)
		})
	}
}

// TestCrashDuringRemove is TestCrash with the child removing records
// (RemoveWhere: every practice whose ID starts with "r-") over and over
// while it applies, so that the kill lands in removals: the store must
// reopen with every acknowledged announcement that is not removable, and
// with derived records that a Rebuild leaves unchanged.
func TestCrashDuringRemove(t *testing.T) {
	runs := 2
	if v := os.Getenv("KHANTARA_CRASH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
		runs = max(1, runs/10)
	}
	if testing.Short() {
		runs = 1
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 13))
	for round := range runs {
		killAfter := rng.IntN(crashAnnouncements/5 + 1)
		t.Run(fmt.Sprintf("round-%02d-kill-after-%d", round, killAfter), func(t *testing.T) {
			crashRound(t, killAfter, crashRemove)
		})
	}
}

// What the crash child does besides applying.
const (
	crashApplyOnly = iota
	crashCompact
	crashRemove
)

// removable is the practice-ID prefix of the records TestCrashDuringRemove's
// child removes.
const removable = "r-"

// acked is what the crash child acknowledged: publisher and slot -> hash.
type acked map[[2]string]string

// Acknowledgement lines of the crash child: "ack" after Apply returned
// (fsynced), "committed" after ApplyCommitted returned.
const (
	ackDurable   = "ack"
	ackCommitted = "committed"
)

func crashRound(t *testing.T, killAfter int, mode int) {
	dir := filepath.Join(t.TempDir(), "store")
	ack := runCrashChild(t, dir, killAfter, mode)
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer s.Close()
	kept := map[peer.ID]uint64{}
	for k, hash := range ack {
		pub, slot := peer.ID(k[0]), k[1]
		if mode == crashRemove && strings.HasPrefix(slot, removable) {
			continue
		}
		kept[pub]++
		r, err := s.Get(pub, slot)
		if err != nil {
			t.Fatalf("acknowledged %s/%s lost: %v", pub, slot, err)
		}
		if r.Signed.Hash().String() != hash {
			t.Fatalf("acknowledged %s/%s has hash %s, want %s", pub, slot, r.Signed.Hash(), hash)
		}
	}
	checkDerived(t, s)
	if mode == crashRemove {
		// Whatever a removal cut short left must be what a rebuild derives.
		before := dump(t, s)
		if err := s.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		if after := dump(t, s); after != before {
			t.Fatalf("Rebuild after the crash changed the store:\n%s\nbefore:\n%s", after, before)
		}
	}
	for _, left := range []string{dir + ".compact", dir + ".new", filepath.Join(dir, purgedMarker)} {
		if _, err := os.Stat(left); err == nil {
			t.Errorf("%s left after reopening", left)
		}
	}
	for pub, n := range kept {
		p, err := s.PublisherSummary(pub)
		if err != nil || p.Digest.Count < n {
			t.Fatalf("summary %+v (%v) counts fewer than the %d acknowledged", p, err, n)
		}
	}
}

// runCrashChild runs the crash child on dir, kills it with SIGKILL after
// killAfter acknowledgements and returns what it acknowledged.
func runCrashChild(t *testing.T, dir string, killAfter int, mode int) acked {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "KHANTARA_CRASH_DIR="+dir)
	switch mode {
	case crashCompact:
		cmd.Env = append(cmd.Env, "KHANTARA_CRASH_COMPACT=1")
	case crashRemove:
		cmd.Env = append(cmd.Env, "KHANTARA_CRASH_REMOVE=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	ack := acked{}
	chores, removed, committed := 0, 0, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && (f[0] == ackDurable || f[0] == ackCommitted):
			if f[0] == ackCommitted {
				committed++
			}
			pub, err := protocol.DecodeID(f[1])
			if err != nil {
				t.Fatal(err)
			}
			ack[[2]string{string(pub), f[2]}] = f[3]
		case len(f) == 2 && f[0] == "chore":
			chores++
			removed, _ = strconv.Atoi(f[1])
			continue
		default:
			continue
		}
		if !killed && len(ack) >= killAfter {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	cmd.Wait()
	if len(ack) == 0 {
		t.Fatal("the child acknowledged nothing")
	}
	if !killed {
		t.Logf("the child finished all %d before the kill", len(ack))
	}
	t.Logf("%d of the %d acknowledgements were ApplyCommitted's", committed, len(ack))
	switch mode {
	case crashCompact:
		t.Logf("killed after %d acknowledgements and %d completed compactions", len(ack), chores)
	case crashRemove:
		t.Logf("killed after %d acknowledgements and %d completed removals (%d records)", len(ack), chores, removed)
	}
	return ack
}

// TestMain runs the crash child instead of the tests when
// KHANTARA_CRASH_DIR names its store.
func TestMain(m *testing.M) {
	if dir := os.Getenv("KHANTARA_CRASH_DIR"); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild is the child of TestCrash. Half its workers apply one
// announcement per call (own publications), half apply batches of up to 32
// (received from peers), all concurrently, so group commits of both kinds
// are in flight when the kill comes. Every other batch worker stores with
// ApplyCommitted (gossip), the others with Apply. Each announcement is
// acknowledged on stdout after its Apply or ApplyCommitted returns. The announcements are a plain
// publisher's and an organisation's (records its delegate signs, and
// now and then an operation), mixed.
func crashChild(dir string) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format, args...)
	}
	w, err := newCrashWorkload(os.Getenv("KHANTARA_CRASH_REMOVE") != "")
	if err != nil {
		return err
	}
	if _, err := s.Apply(context.Background(), Incoming{Signed: w.genesis}); err != nil {
		return err
	}
	say("ack %s %s %s\n", w.org, w.genesis.Slot(), w.genesis.Hash())

	next := make(chan int)
	total := crashAnnouncements
	compact, remove := os.Getenv("KHANTARA_CRASH_COMPACT") != "", w.remove
	if compact || remove {
		total /= 5
	}
	go func() {
		for i := range total {
			next <- i
		}
		close(next)
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 17)
	stop := make(chan struct{})
	var chores sync.WaitGroup
	var removed atomic.Int64
	if compact || remove {
		chores.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if compact {
					_, err = s.Compact(context.Background())
				} else {
					var n int
					n, err = w.removeSome(s)
					removed.Add(int64(n))
				}
				if err != nil {
					errs <- err
					return
				}
				say("chore %d\n", removed.Load())
			}
		})
	}
	for wk := range 16 {
		batch, put, ackWord := 1, s.Apply, ackDurable
		if wk%2 == 1 {
			batch = 32
		}
		if wk%4 == 3 {
			put, ackWord = s.ApplyCommitted, ackCommitted
		}
		wg.Go(func() {
			for {
				var items []Incoming
				for len(items) < batch {
					i, ok := <-next
					if !ok {
						break
					}
					signed, err := w.record(i)
					if err != nil {
						errs <- err
						return
					}
					items = append(items, Incoming{Signed: signed})
				}
				if len(items) == 0 {
					return
				}
				if _, err := put(context.Background(), items...); err != nil {
					errs <- err
					return
				}
				for _, it := range items {
					say("%s %s %s %s\n", ackWord, it.Signed.Announcement().Publisher, it.Signed.Slot(), it.Signed.Hash())
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	chores.Wait()
	close(errs)
	return <-errs
}

// crashWorkload makes the crash child's announcements: record i is the
// plain publisher's (the node key's) for even i and the organisation's
// for odd i (signed by the node key as its delegate, or every 50th by
// the rotation key: an operation). With remove, a third of the practices
// are removable.
type crashWorkload struct {
	node, rot crypto.PrivKey
	pub, org  peer.ID
	genesis   *protocol.Signed
	remove    bool
}

func newCrashWorkload(remove bool) (*crashWorkload, error) {
	w := &crashWorkload{remove: remove}
	var err error
	if w.node, _, err = crypto.GenerateEd25519Key(rand.Reader); err != nil {
		return nil, err
	}
	if w.rot, _, err = crypto.GenerateEd25519Key(rand.Reader); err != nil {
		return nil, err
	}
	w.pub, _ = peer.IDFromPrivateKey(w.node)
	rotID, _ := peer.IDFromPrivateKey(w.rot)
	op := &protocol.OrgOp{Name: "Crash test", Keys: []peer.ID{rotID},
		Delegates: []protocol.Delegation{{Key: w.pub, May: []protocol.Kind{protocol.KindPractice}}}}
	g := &protocol.Announcement{V: 1, Seq: 1, Time: time.Now().UTC(), Kind: protocol.KindOrg, Org: op}
	if w.genesis, err = protocol.Seal(g, w.rot); err != nil {
		return nil, err
	}
	w.org = w.genesis.Announcement().Publisher
	return w, nil
}

func (w *crashWorkload) record(i int) (*protocol.Signed, error) {
	now := time.Now().UTC()
	seq := uint64(i + 2) // the genesis has 1
	if i%100 == 51 {
		op := *w.genesis.Announcement().Org
		op.Prev, op.Name = w.genesis.Hash(), "Crash test "+strconv.Itoa(i)
		return protocol.Seal(&protocol.Announcement{V: 1, Publisher: w.org, Seq: seq, Time: now, Kind: protocol.KindOrg, Org: &op}, w.rot)
	}
	id := "p-" + strconv.Itoa(i)
	if w.remove && i%3 == 0 {
		id = removable + strconv.Itoa(i)
	}
	a := &protocol.Announcement{V: 1, Seq: seq, Time: now, Kind: protocol.KindPractice, Practice: sheet(id, "Practice "+strconv.Itoa(i))}
	if i%2 == 1 {
		a.Publisher, a.Auth = w.org, w.genesis.Hash()
	}
	return protocol.Seal(a, w.node)
}

// removeSome removes the removable records of both publishers.
func (w *crashWorkload) removeSome(s *Store) (int, error) {
	drop := func(sg *protocol.Signed) bool { return strings.HasPrefix(sg.Slot(), removable) }
	n, err := s.RemoveWhere(context.Background(), w.pub, drop)
	if err != nil {
		return n, err
	}
	m, err := s.RemoveWhere(context.Background(), w.org, drop)
	return n + m, err
}
