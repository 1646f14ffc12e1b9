package store

import (
	"sync"
	"time"
)

// gate lets reads share the database while Compact's swap waits to have
// it alone. Unlike a sync.RWMutex, the swap gives up after a deadline: a
// reader may nest reads (an iterator whose consumer calls Get), and a
// nested read that waits behind the swap while its outer read holds the
// database would otherwise deadlock. Giving up costs only that the
// compaction is retried later.
type gate struct {
	mu sync.Mutex // guards the fields below
	// readers counts the reads in progress.
	readers int
	// closing is set while a swap waits for, or holds, the database; new
	// reads wait until it is cleared.
	closing bool
	// changed is closed and replaced whenever readers drops to zero or
	// closing is cleared.
	changed chan struct{}
}

func newGate() *gate { return &gate{changed: make(chan struct{})} }

func (g *gate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// enter waits for any swap to end and registers a read.
func (g *gate) enter() {
	g.mu.Lock()
	for g.closing {
		ch := g.changed
		g.mu.Unlock()
		<-ch
		g.mu.Lock()
	}
	g.readers++
	g.mu.Unlock()
}

// leave ends a read.
func (g *gate) leave() {
	g.mu.Lock()
	g.readers--
	if g.readers == 0 {
		g.broadcast()
	}
	g.mu.Unlock()
}

// close stops new reads and waits up to d for the current ones to end. It
// reports whether the caller now has the database alone; if so the caller
// must call open when done, and if not, reads have resumed.
func (g *gate) close(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	g.mu.Lock()
	g.closing = true
	for g.readers > 0 {
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			g.open()
			return false
		}
		g.mu.Lock()
	}
	g.mu.Unlock()
	return true
}

// open lets reads in again.
func (g *gate) open() {
	g.mu.Lock()
	g.closing = false
	g.broadcast()
	g.mu.Unlock()
}
