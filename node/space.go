package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/khantara/khantara/store"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultDiskReserveMiB is the default of Config.DiskReserveMiB: the free
// space, in MiB, below which the node pauses writes. It covers what Badger
// and bleve may still write after the last write the node accepted
// (configs/khantara.example.yaml gives the reckoning):
//
//   - 96 MiB: up to three 32 MiB memtables flushed to level-0 tables
//     (the write-ahead and value-log files are memory-mapped: a page the
//     filesystem cannot back is a SIGBUS, not an error);
//   - 96 MiB: a level-0 compaction writes its output, up to the size of its
//     three level-0 tables plus the overlap below, before deleting them;
//   - 64 MiB: bleve's segment merges, which write the merged segment
//     before removing its inputs, for an index of some 20,000 practices.
const DefaultDiskReserveMiB = 256

// spaceRefresh is how often the node reads the free space while nothing
// writes, so the state (status, metrics, resuming) is at most this old.
const spaceRefresh = time.Second

// DiskState is the free-space state of the data directory's filesystem.
type DiskState struct {
	// Watched is false when no monitor runs (disk_reserve_mib 0, or a
	// platform without statfs); the other fields are then zero.
	Watched bool
	// Dir is the data directory.
	Dir string
	// Free is the free space in bytes when Disk was called; Reserve is
	// the free space the node keeps.
	Free, Reserve uint64
	// Paused is true while writes are paused; PausedSince says since when.
	Paused      bool
	PausedSince time.Time
}

// newSpaceMonitor makes the monitor of cfg.Home's filesystem, or nil when
// the check is off or the platform cannot ask.
func newSpaceMonitor(cfg *Config, log *slog.Logger) (*store.SpaceMonitor, error) {
	if cfg.DiskReserveMiB == 0 {
		return nil, nil
	}
	m, err := store.NewSpaceMonitor(cfg.Home, uint64(cfg.DiskReserveMiB)<<20)
	if errors.Is(err, errors.ErrUnsupported) {
		log.Warn("This platform cannot report free disk space; writes are never paused for lack of it.")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("watch the free space of %q: %w", cfg.Home, err)
	}
	return m, nil
}

// Disk reads the free space now (one statfs) and returns the state.
func (n *Node) Disk() DiskState {
	m := n.space
	if m == nil {
		return DiskState{}
	}
	_, _ = m.Refresh() // on error the last reading stands; watchSpace logs it
	paused, since := m.Paused()
	return DiskState{Watched: true, Dir: n.cfg.Home, Free: m.Free(), Reserve: m.Reserve(), Paused: paused, PausedSince: since}
}

// writesPaused reports whether writes are paused for lack of disk space,
// as of the last check.
func (n *Node) writesPaused() bool {
	if n.space == nil {
		return false
	}
	paused, _ := n.space.Paused()
	return paused
}

// checkSpace reads the free space now and returns an error wrapping
// store.ErrNoSpace if writes must wait.
func (n *Node) checkSpace() error {
	if n.space == nil {
		return nil
	}
	return n.space.Check()
}

// watchSpace refreshes the free space every spaceRefresh until ctx ends,
// and logs each change of state: a WARN when writes pause, an INFO when
// they resume. Writers (the store's writer, the index) check for
// themselves before each write; this loop keeps the state current while
// none writes, so writes resume by themselves once space returns. It
// returns nil: a failed reading is logged, and the last one stands.
func (n *Node) watchSpace(ctx context.Context) error {
	m := n.space
	if m == nil {
		return nil
	}
	t := time.NewTicker(spaceRefresh)
	defer t.Stop()
	logged := false
	for {
		if _, err := m.Refresh(); err != nil {
			n.log.Error("Cannot read the free disk space.", "dir", n.cfg.Home, "err", err)
		}
		switch paused, since := m.Paused(); {
		case paused && !logged:
			n.log.Warn("The disk is nearly full; writes are paused.", "dir", n.cfg.Home,
				"free", store.FormatBytes(m.Free()), "reserve", store.FormatBytes(m.Reserve()), "since", since)
			logged = true
		case !paused && logged:
			n.log.Info("Disk space is back; writes resume.", "dir", n.cfg.Home,
				"free", store.FormatBytes(m.Free()), "reserve", store.FormatBytes(m.Reserve()))
			logged = false
		}
		select {
		case <-t.C:
		case <-m.Changed():
		case <-ctx.Done():
			return nil
		}
	}
}

// spaceCollector exposes the free-space state to Prometheus.
type spaceCollector struct {
	n                     *Node
	free, reserve, paused *prometheus.Desc
}

func newSpaceCollector(n *Node) *spaceCollector {
	return &spaceCollector{
		n:       n,
		free:    prometheus.NewDesc("khantara_disk_free_bytes", "Free space on the data directory's filesystem at the last check (at most a second old).", nil, nil),
		reserve: prometheus.NewDesc("khantara_disk_reserve_bytes", "Free space below which the node pauses writes (disk_reserve_mib).", nil, nil),
		paused:  prometheus.NewDesc("khantara_disk_writes_paused", "1 while writes are paused for lack of disk space, else 0.", nil, nil),
	}
}

// Describe sends the collector's descriptors.
func (c *spaceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.free
	ch <- c.reserve
	ch <- c.paused
}

// Collect sends the state; nothing when no monitor runs.
func (c *spaceCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.n.Disk()
	if !d.Watched {
		return
	}
	paused := 0.0
	if d.Paused {
		paused = 1
	}
	ch <- prometheus.MustNewConstMetric(c.free, prometheus.GaugeValue, float64(d.Free))
	ch <- prometheus.MustNewConstMetric(c.reserve, prometheus.GaugeValue, float64(d.Reserve))
	ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused)
}
