package store

import (
	"fmt"
	"sync"
	"time"
)

// SpaceMonitor watches the free space of the filesystem that holds a
// directory and says whether a write may go ahead: Check fails with
// ErrNoSpace while the free space is below the reserve. Make one with
// NewSpaceMonitor; its methods are safe for concurrent use.
//
// Every Check asks the filesystem (one statfs, about a microsecond, next
// to the fsync of a group commit's milliseconds), so a check is never
// stale. Refresh does the same for a caller that only wants the state,
// such as the node's once-a-second loop.
//
// Once short of space the monitor stays paused until the free space is at
// least the reserve plus an eighth of it, so the state does not flap
// while background work frees and takes a few pages.
type SpaceMonitor struct {
	dir     string
	reserve uint64
	statfs  func(dir string) (uint64, error)
	now     func() time.Time
	// changed receives a value (without blocking) whenever paused flips.
	changed chan struct{}

	// mu guards free, paused and since.
	mu     sync.Mutex
	free   uint64
	paused bool
	since  time.Time
}

// NewSpaceMonitor watches the filesystem of dir and keeps reserve bytes
// free on it. It reads the free space once; an error means dir's
// filesystem cannot be asked (errors.ErrUnsupported off Unix).
func NewSpaceMonitor(dir string, reserve uint64) (*SpaceMonitor, error) {
	return newSpaceMonitor(dir, reserve, statfsFree, time.Now)
}

func newSpaceMonitor(dir string, reserve uint64, statfs func(string) (uint64, error), now func() time.Time) (*SpaceMonitor, error) {
	m := &SpaceMonitor{dir: dir, reserve: reserve, statfs: statfs, now: now, changed: make(chan struct{}, 1)}
	if _, err := m.Refresh(); err != nil {
		return nil, err
	}
	return m, nil
}

// Dir is the directory whose filesystem the monitor watches.
func (m *SpaceMonitor) Dir() string { return m.dir }

// Reserve is the number of bytes kept free.
func (m *SpaceMonitor) Reserve() uint64 { return m.reserve }

// Free is the free space in bytes at the last Check or Refresh.
func (m *SpaceMonitor) Free() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.free
}

// Paused reports whether writes are paused, and since when, as of the
// last Check or Refresh.
func (m *SpaceMonitor) Paused() (bool, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.paused, m.since
}

// Changed receives a value whenever writes pause or resume. The channel
// holds at most one pending value; it is never closed.
func (m *SpaceMonitor) Changed() <-chan struct{} { return m.changed }

// Refresh reads the free space now and updates the state; it returns the
// free bytes.
func (m *SpaceMonitor) Refresh() (uint64, error) {
	free, err := m.statfs(m.dir)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	m.free = free
	wasPaused := m.paused
	m.paused = free < m.required()
	if m.paused && !wasPaused {
		m.since = m.now().UTC()
	}
	if !m.paused {
		m.since = time.Time{}
	}
	m.mu.Unlock()
	if m.paused != wasPaused {
		select {
		case m.changed <- struct{}{}:
		default:
		}
	}
	return free, nil
}

// required is the free space needed to take writes: the reserve, plus an
// eighth of it while paused. The caller holds mu.
func (m *SpaceMonitor) required() uint64 {
	if m.paused {
		return m.reserve + m.reserve/8
	}
	return m.reserve
}

// Check reads the free space and returns nil if a write may go ahead, or
// an error wrapping ErrNoSpace that names the directory, the free bytes
// and the bytes required. An error reading the free space is returned
// as is.
func (m *SpaceMonitor) Check() error {
	free, err := m.Refresh()
	if err != nil {
		return err
	}
	m.mu.Lock()
	paused, need := m.paused, m.required()
	m.mu.Unlock()
	if !paused {
		return nil
	}
	return fmt.Errorf("%w: %s has %s free, writes need %s (the reserve for the store's and index's background writes); free space on that filesystem and writes resume by themselves",
		ErrNoSpace, m.dir, FormatBytes(free), FormatBytes(need))
}

// FormatBytes writes n in binary units with one decimal, e.g. "12.3 MiB".
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for v := n / unit; v >= unit && exp < 4; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// WithSpaceMonitor makes the store's writer call m.Check before each group
// commit: while it fails, every announcement of the group is answered
// with its error (wrapping ErrNoSpace) and nothing is written. Default:
// no monitor, no check. The store does not own m.
func WithSpaceMonitor(m *SpaceMonitor) Option { return func(c *config) { c.space = m } }

// checkSpace is the writer's gate before a group commit.
func (s *Store) checkSpace() error {
	if s.cfg.space == nil {
		return nil
	}
	return s.cfg.space.Check()
}
