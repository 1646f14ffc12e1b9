package cputime

import (
	"crypto/sha256"
	"runtime"
	"testing"
	"time"
)

// spin hashes for d of wall time and returns how many hashes it did.
func spin(d time.Duration) int64 {
	var n int64
	buf := make([]byte, 4096)
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
	}
	return n
}

// Busy work on a locked thread moves both clocks by about its wall time,
// the thread's by no more than the process's; a thread that sleeps moves
// its own clock by almost nothing.
func TestClocks(t *testing.T) {
	if !Supported {
		t.Skip("no CPU clocks on this system")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tl Tally
	s, th := Start(), Thread()
	ops := spin(50 * time.Millisecond)
	tl.Add(s, ops, Thread()-th)
	if tl.Own <= 0 || tl.CPU < tl.Own {
		t.Fatalf("busy slice: thread CPU %v, process CPU %v; want 0 < thread <= process", tl.Own, tl.CPU)
	}
	// On a loaded machine the thread may get less than its wall time,
	// never more.
	if tl.Own > tl.Wall+5*time.Millisecond {
		t.Fatalf("busy slice: thread CPU %v over wall %v", tl.Own, tl.Wall)
	}
	if tl.Rate() <= 0 || tl.OwnPerOp() <= 0 || tl.CPUPerOp() < tl.OwnPerOp() {
		t.Fatalf("tally %+v: rate %v, own %v, cpu %v per op", tl, tl.Rate(), tl.OwnPerOp(), tl.CPUPerOp())
	}
	th = Thread()
	time.Sleep(50 * time.Millisecond)
	if idle := Thread() - th; idle > 10*time.Millisecond {
		t.Fatalf("sleeping thread used %v of CPU", idle)
	}
}

// An empty tally reports zero rates, not a division by zero.
func TestEmptyTally(t *testing.T) {
	var tl Tally
	if tl.Rate() != 0 || tl.CPUPerOp() != 0 || tl.OwnPerOp() != 0 || tl.Spill() != 0 {
		t.Fatalf("empty tally: %v %v %v %v", tl.Rate(), tl.CPUPerOp(), tl.OwnPerOp(), tl.Spill())
	}
}
