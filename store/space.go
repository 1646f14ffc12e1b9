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
// Every check asks the filesystem (one statfs: 2.9 µs measured, next to
// the fsync of a group commit's milliseconds), so a check is never
// stale. Refresh does the same for a caller that only wants the state,
// such as the node's once-a-second loop.
//
// A write may go ahead if the reserve is still free after it. Once short
// of space the monitor stays paused until the free space is at least the
// reserve plus an eighth of it plus the largest write it refused, so the
// state does not flap while background work frees and takes a few pages.
type SpaceMonitor struct {
	dir     string
	reserve uint64
	statfs  func(dir string) (uint64, error)
	now     func() time.Time
	// changed receives a value (without blocking) whenever paused flips.
	changed chan struct{}

	// mu guards free, paused, since and want (while paused, the size of
	// the largest write refused).
	mu     sync.Mutex
	free   uint64
	paused bool
	since  time.Time
	want   uint64
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
	_, free, err := m.update(0)
	return free, err
}

// Check reads the free space and returns nil if a write may go ahead, or
// an error wrapping ErrNoSpace that names the directory, the free bytes
// and the bytes required. An error reading the free space is returned
// as is. It is CheckFor(0).
func (m *SpaceMonitor) Check() error { return m.CheckFor(0) }

// CheckFor is Check for a write of about need bytes: the reserve must
// still be free after it. A write refused for its size pauses writes too,
// until there is room for it (so a large sync batch does not make the
// state flap every second).
func (m *SpaceMonitor) CheckFor(need uint64) error {
	paused, free, err := m.update(need)
	if err != nil || !paused {
		return err
	}
	m.mu.Lock()
	resumeAt, write := m.required(0), max(need, m.want)
	m.mu.Unlock()
	plus := ""
	if write > 0 {
		plus = " plus " + FormatBytes(write) + " to write"
	}
	return fmt.Errorf("%w: %s has %s free, less than the %s reserve kept for the store's and index's background writes%s; free space on that filesystem (writes resume by themselves at %s free)",
		ErrNoSpace, m.dir, FormatBytes(free), FormatBytes(m.reserve), plus, FormatBytes(resumeAt))
}

// update reads the free space and sets the state for a write of need
// bytes (0: no write, just the state). It returns whether writes are
// paused and the free bytes.
func (m *SpaceMonitor) update(need uint64) (bool, uint64, error) {
	free, err := m.statfs(m.dir)
	if err != nil {
		return false, 0, err
	}
	m.mu.Lock()
	m.free = free
	wasPaused := m.paused
	m.paused = free < m.required(need)
	switch {
	case m.paused && !wasPaused:
		m.since = m.now().UTC()
		m.want = need
	case m.paused:
		m.want = max(m.want, need)
	default:
		m.since, m.want = time.Time{}, 0
	}
	paused := m.paused
	m.mu.Unlock()
	if paused != wasPaused {
		select {
		case m.changed <- struct{}{}:
		default:
		}
	}
	return paused, free, nil
}

// required is the free space needed to take a write of need bytes: the
// reserve plus need; while paused, plus an eighth of the reserve and at
// least the size of the write that was refused. The caller holds mu.
func (m *SpaceMonitor) required(need uint64) uint64 {
	if m.paused {
		return m.reserve + m.reserve/8 + max(need, m.want)
	}
	return m.reserve + need
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

// WithSpaceMonitor makes the store's writer call m.CheckFor before each
// group commit, with twice the group's envelope bytes (once in the store,
// about once more in the search index): while it fails, every
// announcement of the group is answered with its error (wrapping
// ErrNoSpace) and nothing is written. Default: no monitor, no check. The
// store does not own m.
func WithSpaceMonitor(m *SpaceMonitor) Option { return func(c *config) { c.space = m } }

// CheckBatch is CheckFor with the bytes the store's writer asks for
// items: twice their envelopes and provenance, plus 512 bytes each for
// keys and records (once in the store, about once more in the search
// index). Callers that spend something per announcement (quotas) check
// this before they do.
func (m *SpaceMonitor) CheckBatch(items []Incoming) error { return m.CheckFor(writeCost(items)) }

func writeCost(items []Incoming) uint64 {
	var n uint64
	for _, it := range items {
		n += uint64(len(it.Signed.Envelope()) + len(it.From) + 512)
	}
	return 2 * n
}

// checkSpace is the writer's gate before a group commit.
func (s *Store) checkSpace(group []*applyReq) error {
	if s.cfg.space == nil {
		return nil
	}
	var need uint64
	for _, r := range group {
		need += writeCost(r.items)
	}
	return s.cfg.space.CheckFor(need)
}
