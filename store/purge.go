package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Purging. Badger never overwrites in place: a superseded or retracted
// announcement stays in the write-ahead log, in older LSM tables and in
// the value log until compaction and value-log GC happen to reach it, and
// neither guarantees when (the value-log GC never touches the file being
// written). So the store purges by copying: Compact streams the live
// records (the latest version of every key that is not deleted) into a
// fresh Badger directory beside the store, makes it durable, and swaps it
// in atomically; the old directory, with every byte of superseded content,
// is then deleted. The cost is one sequential copy of the live data.
//
// The swap is crash-safe. The copy is built in DIR.compact; when complete
// it holds a purgedMarker file and is renamed to DIR.new; then DIR and
// DIR.new are exchanged (renameat2 RENAME_EXCHANGE on Linux, so DIR always
// names a whole store); then DIR.new (now the old data) is deleted and
// the marker removed. Open finishes or discards whatever a crash left.

// purgedMarker marks a compacted copy; see the comment above.
const purgedMarker = "PURGED"

// metaPurgePending is present while the store may hold superseded,
// retracted or removed content on disk; Compact deletes it. It is written
// in the same transaction as the change that left the content behind, so
// it survives a crash.
var metaPurgePending = []byte{prefixMeta, 'p', 'u', 'r', 'g', 'e'}

// CompactStats says what one Compact did.
type CompactStats struct {
	// Before and After are the bytes of the store directory.
	Before, After int64
	// Took is how long the copy and swap took; writes waited that long.
	Took time.Duration
}

// Compact physically removes every superseded, retracted or removed
// record from disk: it copies the live records into a new directory and
// swaps it in (see the package's purge notes). It runs inside the writer,
// so Apply calls wait for it; reads go on during the copy and wait only
// for the swap. It needs free space for one copy of the live data and
// fails with an error wrapping ErrNoSpace, changing nothing, without it.
func (s *Store) Compact(ctx context.Context) (CompactStats, error) {
	var st CompactStats
	err := s.run(ctx, func() (err error) { st, err = s.compact(); return err })
	return st, err
}

// PurgePending reports whether the store may hold superseded, retracted or
// removed content on disk that Compact would remove.
func (s *Store) PurgePending() (bool, error) {
	pending := false
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(metaPurgePending)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		pending = err == nil
		return err
	})
	return pending, err
}

// RemovePublisher deletes every record of pub (state, seen log, evidence,
// derived records) durably and returns how many state records it held.
// The content stays on disk until the next Compact. Gossip or sync may
// bring the records back unless the caller's policy refuses them.
func (s *Store) RemovePublisher(ctx context.Context, pub peer.ID) (int, error) {
	var n int
	err := s.run(ctx, func() (err error) { n, err = s.removePublisher(pub); return err })
	return n, err
}

// run hands op to the writer, which runs it alone, and waits for it. If
// ctx ends first, run returns and op goes on.
func (s *Store) run(ctx context.Context, op func() error) error {
	req := &applyReq{op: op, done: make(chan struct{})}
	select {
	case s.reqs <- req:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runOp runs op in the writer once the syncer has answered everything
// committed before it, so op owns the database alone.
func (s *Store) runOp(op func() error) error {
	barrier := &applyReq{done: make(chan struct{})}
	s.synced <- []*applyReq{barrier}
	<-barrier.done
	return op()
}

func (s *Store) compact() (CompactStats, error) {
	start := time.Now()
	var st CompactStats
	var err error
	if st.Before, err = dirSize(s.dir); err != nil {
		return st, err
	}
	if err := s.checkCompactSpace(st.Before); err != nil {
		return st, err
	}
	if err := s.db.Sync(); err != nil {
		return st, fmt.Errorf("compact store: %w", err)
	}
	tmp, next := s.dir+".compact", s.dir+".new"
	if err := os.RemoveAll(tmp); err != nil {
		return st, fmt.Errorf("compact store: %w", err)
	}
	lock, err := s.copyLive(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return st, fmt.Errorf("compact store: %w", err)
	}
	if err := os.Rename(tmp, next); err != nil {
		lock.Close()
		os.RemoveAll(tmp)
		return st, fmt.Errorf("compact store: %w", err)
	}
	syncDir(filepath.Dir(s.dir))
	if err := s.swap(next, lock); err != nil {
		return st, err
	}
	st.After, _ = dirSize(s.dir)
	st.Took = time.Since(start)
	s.cfg.log.Info("Compacted the store: superseded and retracted content is gone from disk.",
		"before", st.Before, "after", st.After, "took", st.Took.Round(time.Millisecond))
	return st, nil
}

// checkCompactSpace fails when the filesystem cannot hold a copy of the
// store next to it, plus the store's own reserve.
func (s *Store) checkCompactSpace(size int64) error {
	free, ok := freeBytes(filepath.Dir(s.dir))
	if !ok {
		return nil // cannot tell: try, and let the copy fail cleanly
	}
	need := uint64(size) + s.reserveBytes()
	if free < need {
		return fmt.Errorf("%w: compacting %s needs %d bytes free for a copy, %d are free", ErrNoSpace, s.dir, need, free)
	}
	return nil
}

// reserveBytes is the free space a compaction leaves beyond its copy: the
// space monitor's reserve when there is one (WithSpaceMonitor), else room
// for Badger's memtables and one value-log file.
func (s *Store) reserveBytes() uint64 {
	if s.cfg.space != nil {
		return s.cfg.space.Reserve()
	}
	return uint64(2*s.cfg.memtable + 64<<20)
}

// swapWait bounds how long the swap waits for reads of the old database
// to end (a long export stream can hold one).
const swapWait = 10 * time.Second

// swap makes the compacted copy at next the store: it waits for readers
// to leave the old database, closes it, exchanges the directories, opens
// the copy and deletes the old data.
func (s *Store) swap(next string, lock io.Closer) error {
	if !s.reads.close(swapWait) {
		lock.Close()
		os.RemoveAll(next)
		return fmt.Errorf("compact store: reads held the store for over %v; the compaction will be retried", swapWait)
	}
	defer s.reads.open()
	if err := s.db.Close(); err != nil {
		s.cfg.log.Warn("Closing the old store before the swap reported an error.", "err", err)
	}
	if err := exchangeDirs(next, s.dir); err != nil {
		lock.Close()
		// The old data is still in place: reopen it.
		db, oerr := badger.Open(s.badgerOptions(s.dir))
		if oerr != nil {
			return fmt.Errorf("compact store: swap failed (%w) and the store does not reopen: %w", err, oerr)
		}
		s.db = db
		os.RemoveAll(next)
		return fmt.Errorf("compact store: %w", err)
	}
	syncDir(filepath.Dir(s.dir))
	old := s.lock
	s.lock = lock
	old.Close()
	if err := s.packs.close(); err != nil {
		s.cfg.log.Warn("Closing the old store's packs before the swap reported an error.", "err", err)
	}
	pk, err := openPacks(s.dir)
	if err != nil {
		return fmt.Errorf("compact store: open the compacted store's packs: %w", err)
	}
	s.packs = pk
	db, err := badger.Open(s.badgerOptions(s.dir))
	if err != nil {
		return fmt.Errorf("compact store: open the compacted store: %w", err)
	}
	s.db = db
	if err := finishCompaction(s.dir); err != nil {
		s.cfg.log.Warn("Could not delete the store's old data after compacting; the next start will.", "err", err)
	}
	return nil
}

// finishCompaction deletes what a compaction left beside dir: an
// incomplete copy, the old data after a swap, or a complete copy that was
// never swapped in (the store it copied is still in place and still marked
// for purging, so the next Compact redoes it). It runs before Open takes
// the directory and after every swap.
func finishCompaction(dir string) error {
	tmp, next, aside := dir+".compact", dir+".new", dir+".old"
	errs := []error{os.RemoveAll(tmp)}
	// renameAside was cut short: restore the store it had moved aside, or
	// delete it once the copy had taken its place.
	if _, err := os.Stat(aside); err == nil {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, os.Rename(aside, dir))
		} else {
			errs = append(errs, os.RemoveAll(aside))
		}
	}
	_, nerr := os.Stat(next)
	_, merr := os.Stat(filepath.Join(dir, purgedMarker))
	switch {
	case nerr == nil:
		// Either the old data after an exchange (dir has the marker) or
		// a copy never swapped in (dir has none): delete it either way.
		errs = append(errs, os.RemoveAll(next))
	case !errors.Is(nerr, fs.ErrNotExist):
		errs = append(errs, nerr)
	}
	if merr == nil {
		errs = append(errs, os.Remove(filepath.Join(dir, purgedMarker)))
	}
	syncDir(filepath.Dir(dir))
	return errors.Join(errs...)
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += allocated(fi)
			}
		}
		return nil
	})
	return n, err
}

func writeFileSync(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// syncDir makes a rename in dir durable where the filesystem allows it; a
// filesystem that cannot sync a directory (some network filesystems)
// gives nothing more to do.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// freeBytes is statfsFree for callers that go on without an answer.
func freeBytes(dir string) (uint64, bool) {
	free, err := statfsFree(dir)
	return free, err == nil
}

// renameAside swaps the directories a and b with three renames, for
// filesystems without an atomic exchange: a crash in between leaves b
// missing until the next Open (finishCompaction) restores it.
func renameAside(a, b string) error {
	aside := b + ".old"
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		// Put b back; if that fails too, finishCompaction restores it on
		// the next Open, so the first error is the one to report.
		return errors.Join(err, os.Rename(aside, b))
	}
	return os.Rename(aside, a)
}
