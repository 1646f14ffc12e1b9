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
// acknowledges each on stdout once Apply has returned; it kills the child
// with SIGKILL after a random number of acknowledgements, reopens the store
// and requires every acknowledged announcement, a cleanly opening store and
// derived records that agree with the primary ones. KHANTARA_CRASH_RUNS sets
// the number of rounds (default 20).
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
	runs := 3
	if v := os.Getenv("KHANTARA_CRASH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
		runs = max(1, runs/5)
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

func crashRound(t *testing.T, killAfter int, mode int) {
	dir := filepath.Join(t.TempDir(), "store")
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
	var pub peer.ID
	acked := map[string]string{} // slot -> hash
	chores, removed := 0, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "pub":
			if pub, err = peer.Decode(f[1]); err != nil {
				t.Fatal(err)
			}
		case len(f) == 3 && f[0] == "ack":
			acked[f[1]] = f[2]
		case len(f) == 2 && f[0] == "chore":
			chores++
			removed, _ = strconv.Atoi(f[1])
			continue
		default:
			continue
		}
		if !killed && pub != "" && len(acked) >= killAfter {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	cmd.Wait()
	if pub == "" {
		t.Fatal("the child never started")
	}
	if !killed {
		t.Logf("the child finished all %d before the kill", len(acked))
	}
	switch mode {
	case crashCompact:
		t.Logf("killed after %d acknowledgements and %d completed compactions", len(acked), chores)
	case crashRemove:
		t.Logf("killed after %d acknowledgements and %d completed removals (%d records)", len(acked), chores, removed)
	}

	s, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer s.Close()
	kept := 0
	for slot, hash := range acked {
		if mode == crashRemove && strings.HasPrefix(slot, removable) {
			continue
		}
		kept++
		r, err := s.Get(pub, slot)
		if err != nil {
			t.Fatalf("acknowledged %s lost: %v", slot, err)
		}
		if r.Signed.Hash().String() != hash {
			t.Fatalf("acknowledged %s has hash %s, want %s", slot, r.Signed.Hash(), hash)
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
	p, err := s.PublisherSummary(pub)
	if kept > 0 && (err != nil || p.Practices < uint64(kept)) {
		t.Fatalf("summary %+v (%v) counts fewer than the %d acknowledged", p, err, kept)
	}
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
// are in flight when the kill comes. Each announcement is acknowledged on
// stdout after its Apply returns.
func crashChild(dir string) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return err
	}
	pub, _ := peer.IDFromPrivateKey(k)
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format, args...)
	}
	say("pub %s\n", pub)

	next := make(chan int)
	total := crashAnnouncements
	compact, remove := os.Getenv("KHANTARA_CRASH_COMPACT") != "", os.Getenv("KHANTARA_CRASH_REMOVE") != ""
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
					n, err = s.RemoveWhere(context.Background(), pub, func(sg *protocol.Signed) bool {
						return strings.HasPrefix(sg.Slot(), removable)
					})
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
	for w := range 16 {
		batch := 1
		if w%2 == 1 {
			batch = 32
		}
		wg.Go(func() {
			for {
				var items []Incoming
				for len(items) < batch {
					i, ok := <-next
					if !ok {
						break
					}
					id := "p-" + strconv.Itoa(i)
					if remove && i%3 == 0 {
						id = removable + strconv.Itoa(i)
					}
					a := &protocol.Announcement{V: 1, Seq: uint64(i + 1), Time: time.Now().UTC(), Kind: protocol.KindPractice,
						Practice: sheet(id, "Practice "+strconv.Itoa(i))}
					signed, err := protocol.Seal(a, k)
					if err != nil {
						errs <- err
						return
					}
					items = append(items, Incoming{Signed: signed})
				}
				if len(items) == 0 {
					return
				}
				if _, err := s.Apply(context.Background(), items...); err != nil {
					errs <- err
					return
				}
				for _, it := range items {
					say("ack %s %s\n", it.Signed.Announcement().Slot(), it.Signed.Hash())
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
