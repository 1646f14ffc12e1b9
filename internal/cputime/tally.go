package cputime

import "time"

// Tally adds up the slices one side of a side-by-side measurement ran:
// how many operations, in how much wall time, using how much of the
// process's CPU (CPU), of which how much on the side's own locked threads
// (Own; zero when the side does not lock its threads), taking how many of
// the process's minor page faults (Faults). The zero Tally is empty and
// ready; a Tally is not safe for concurrent use.
type Tally struct {
	Ops    int64
	Wall   time.Duration
	CPU    time.Duration
	Own    time.Duration
	Faults int64
}

// Slice is one slice of work being timed; Start begins it.
type Slice struct {
	wall   time.Time
	cpu    time.Duration
	faults int64
}

// Start begins timing a slice: wall clock, process CPU and minor faults.
func Start() Slice { return Slice{wall: time.Now(), cpu: Process(), faults: MinorFaults()} }

// Add ends slice s, which did ops operations using own CPU time on its
// own threads, and adds it to t.
func (t *Tally) Add(s Slice, ops int64, own time.Duration) {
	t.Wall += time.Since(s.wall)
	t.CPU += Process() - s.cpu
	t.Faults += MinorFaults() - s.faults
	t.Ops += ops
	t.Own += own
}

// Rate returns operations per second of wall time, or 0 with no time.
func (t *Tally) Rate() float64 {
	if t.Wall <= 0 {
		return 0
	}
	return float64(t.Ops) / t.Wall.Seconds()
}

// CPUPerOp returns the process's CPU seconds per operation, or 0 with no
// operations.
func (t *Tally) CPUPerOp() float64 {
	if t.Ops == 0 {
		return 0
	}
	return t.CPU.Seconds() / float64(t.Ops)
}

// OwnPerOp returns the side's own threads' CPU seconds per operation, or
// 0 with no operations.
func (t *Tally) OwnPerOp() float64 {
	if t.Ops == 0 {
		return 0
	}
	return t.Own.Seconds() / float64(t.Ops)
}

// FaultsPerOp returns the process's minor page faults per operation, or
// 0 with no operations.
func (t *Tally) FaultsPerOp() float64 {
	if t.Ops == 0 {
		return 0
	}
	return float64(t.Faults) / float64(t.Ops)
}

// Spill returns the process CPU the side's slices used off its own
// threads: other goroutines, the runtime's garbage collector, background
// work another side left behind. Zero when the side does not lock its
// threads.
func (t *Tally) Spill() time.Duration {
	if t.Own == 0 {
		return 0
	}
	return max(t.CPU-t.Own, 0)
}

// Merge adds everything o counted to t.
func (t *Tally) Merge(o Tally) {
	t.Ops += o.Ops
	t.Wall += o.Wall
	t.CPU += o.CPU
	t.Own += o.Own
	t.Faults += o.Faults
}
