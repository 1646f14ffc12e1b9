package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Store is a node's catalogue on disk. Make one with Open; all methods are
// safe for concurrent use.
type Store struct {
	dir string
	// reads guards db and lock against Compact's swap: readers enter it
	// (see view); the swap, run by the writer, closes it. The writer and
	// the syncer use db without it, since the swap runs in the writer
	// while the syncer is idle.
	reads *gate
	db    *badger.DB
	packs *packs // the envelopes Badger does not hold (pack.go); swapped with db
	lock  io.Closer
	cfg   config
	reqs  chan *applyReq
	quit  chan struct{} // closed by Close to stop the writer
	done  chan struct{} // closed by the writer when it has stopped
	// synced carries committed groups from the writer to the syncer; the
	// writer closes it when it stops. syncDone is closed by the syncer
	// when it has answered everything and stopped.
	synced   chan []*applyReq
	syncDone chan struct{}
	closer   sync.Once
	err      error // result of Close

	syncs, committed, durable atomic.Uint64 // WriteStats counters
	syncedAt                  atomic.Int64  // WriteStats.SyncedAt, Unix nanoseconds
	// durableMark is the feed point the last successful fsync covered
	// (tail.go); savedMark, the writer's, the one its commits last saved.
	durableMark atomic.Pointer[feedMark]
	savedMark   *feedMark
	// syncBroken: an fsync failed in this process, so what it should have
	// covered may never reach the disk, and the mark stays where it was.
	syncBroken atomic.Bool
	syncCPU    atomic.Int64 // WriteStats.SyncCPU, nanoseconds

	// mappedIO counts the bytes of records read and written, and
	// releasing is set while a release of mapped pages runs (mapped.go).
	mappedIO  atomic.Int64
	releasing atomic.Bool

	// stripes version the publishers' records for Prior (prior.go);
	// reused counts announcements Apply took from a fresh Prior.
	stripes stripes
	reused  atomic.Uint64

	// feedMu guards epoch and position, the change feed's epoch and last
	// committed position (feed.go); the writer sets them after a commit.
	feedMu   sync.Mutex
	epoch    string
	position uint64
}

type config struct {
	log        *slog.Logger
	now        func() time.Time
	cacheBytes int64
	memtable   int64
	maxBatch   int
	space      *SpaceMonitor        // nil: no free-space check (space.go)
	syncDelay  time.Duration        // WithSyncDelay
	syncClock  func() time.Duration // WithSyncClock; nil: SyncCPU stays zero
	// beforeSync, when set (tests), runs in the syncer before each fsync.
	beforeSync func()
	// inlineCommitted (tests): ApplyCommitted keeps envelopes inline in
	// Badger, as stores did before gossip went to the packs.
	inlineCommitted bool
}

// Option configures Open.
type Option func(*config)

// WithLogger sets the logger (default: discard). Badger's own warnings and
// errors go to it too.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock that stamps received records (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithCacheSize sets Badger's block cache in bytes (default 32 MiB).
func WithCacheSize(n int64) Option { return func(c *config) { c.cacheBytes = n } }

// WithMemTableSize sets Badger's memtable size in bytes (default 32 MiB).
// Small values suit many stores in one test process.
func WithMemTableSize(n int64) Option { return func(c *config) { c.memtable = n } }

// WithMaxBatch bounds how many announcements one group commit takes from
// concurrent Apply calls (default 2048).
func WithMaxBatch(n int) Option { return func(c *config) { c.maxBatch = max(1, n) } }

// DefaultSyncDelay is how long, by default, the store may hold
// announcements stored with ApplyCommitted before it fsyncs them (see
// WithSyncDelay). It is PostgreSQL's wal_writer_delay, the same bound on
// the same trade for its asynchronous commits.
const DefaultSyncDelay = 200 * time.Millisecond

// WithSyncDelay sets how long the store may hold announcements stored
// with ApplyCommitted before it fsyncs them (default DefaultSyncDelay;
// 0 fsyncs each commit at once, as for Apply). One fsync then covers
// every commit of that time: on a node receiving gossip steadily, that
// is one fsync in place of one per message, whose CPU (Badger syncs its
// value log and its write-ahead log) costs as much as verifying the
// message. An Apply call ends the wait at once, so it never waits longer
// for its own fsync. A power cut may lose up to this much of what
// ApplyCommitted stored; a killed process loses none of it.
func WithSyncDelay(d time.Duration) Option { return func(c *config) { c.syncDelay = max(0, d) } }

// WithSyncClock makes the store count the CPU time of its fsyncs in
// WriteStats.SyncCPU, read with clock, which must return the CPU time the
// calling OS thread has used (internal/cputime.Thread on Linux): the
// goroutine that fsyncs holds its thread for each fsync. For benchmarks
// that must tell the store's background fsyncs from other work; off by
// default.
func WithSyncClock(clock func() time.Duration) Option {
	return func(c *config) { c.syncClock = clock }
}

// Open opens (creating if needed) the store in dir and takes an exclusive
// lock on it: a second Open of the same directory, in this process or
// another, fails with ErrLocked. It finishes what a crash cut short (a
// compaction, a rebuild) and removes the records a power cut left
// unreadable (tail.go). On error nothing is left open.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
		cacheBytes: 32 << 20,
		memtable:   32 << 20,
		maxBatch:   2048,
		syncDelay:  DefaultSyncDelay,
	}
	for _, o := range opts {
		o(&cfg)
	}
	lock, err := openLocked(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:   dir,
		reads: newGate(),
		lock:  lock,
		cfg:   cfg,
		reqs:  make(chan *applyReq),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),

		synced:   make(chan []*applyReq, 64),
		syncDone: make(chan struct{}),
	}
	db, err := badger.Open(s.badgerOptions(dir))
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open store %q: %w", dir, err)
	}
	s.db = db
	if s.packs, err = openPacks(dir); err != nil {
		db.Close()
		lock.Close()
		return nil, fmt.Errorf("open store %q: %w", dir, err)
	}
	for _, step := range []func() error{s.checkSchema, s.finishRebuild, s.loadFeed, s.checkTail} {
		if err := step(); err != nil {
			s.packs.close()
			db.Close()
			lock.Close()
			return nil, fmt.Errorf("open store %q: %w", dir, err)
		}
	}
	go s.writer()
	go s.syncer()
	return s, nil
}

// openLocked takes the lock on dir, creating it if needed, and finishes
// what an interrupted compaction left beside it. When dir exists the lock
// comes first, so a compaction another process is running is never
// touched; when it does not, the store may be beside it (a swap cut short
// between renames), and it is recovered before dir is created.
func openLocked(dir string) (io.Closer, error) {
	if _, err := os.Stat(dir); err == nil {
		lock, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		if err := finishCompaction(dir); err != nil {
			lock.Close()
			return nil, fmt.Errorf("open store %q: finish an interrupted compaction: %w", dir, err)
		}
		return lock, nil
	}
	if err := finishCompaction(dir); err != nil {
		return nil, fmt.Errorf("open store %q: finish an interrupted compaction: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store directory %q: %w", dir, err)
	}
	return lockDir(dir)
}

// badgerOptions are the options of the Badger database in dir.
func (s *Store) badgerOptions(dir string) badger.Options {
	cfg := s.cfg
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{cfg.log}).
		// Durability comes from one explicit Sync per group commit (see
		// apply.go), which makes the WAL and value log durable together.
		WithSyncWrites(false).
		// One goroutine writes, so transactions never conflict.
		WithDetectConflicts(false).
		WithMemTableSize(cfg.memtable).
		WithNumMemtables(3).
		WithNumLevelZeroTables(3).
		WithBlockCacheSize(cfg.cacheBytes).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(1 << 10).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
}

// view runs fn in a read transaction of the current database.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	s.reads.enter()
	defer s.reads.leave()
	return s.db.View(fn)
}

// Close waits for in-flight writes, stops the writer and closes Badger and
// the directory lock. It is safe to call more than once; later calls
// return the first call's result.
func (s *Store) Close() error {
	s.closer.Do(func() {
		close(s.quit)
		<-s.done
		<-s.syncDone
		s.err = errors.Join(s.db.Close(), s.packs.close(), s.lock.Close())
	})
	return s.err
}

// checkSchema stamps a new store with schemaVersion, upgrades a store of
// version 1, 2 or 3 in place and refuses any other version. Version 4
// added the packs (pack.go) and version-2 state values; a store of
// version 3 has neither and needs neither, so its version is only
// stamped. The upgrade from 1 or 2 rebuilds the derived records (version
// 2 added the change feed and the byte counts to them; version 3 the v1
// flags and digests, the experience counts and the experience index); the
// version is written only once the rebuild is done, so a crash during it
// leaves a store of the old version that the next Open upgrades again.
func (s *Store) checkSchema() error {
	var version uint32
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(metaSchema)
		if errors.Is(err, badger.ErrKeyNotFound) {
			version = schemaVersion
			return txn.Set(metaSchema, binary.BigEndian.AppendUint32(nil, schemaVersion))
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("%w: schema version %x", ErrCorrupt, v)
			}
			version = binary.BigEndian.Uint32(v)
			return nil
		})
	})
	switch {
	case err != nil:
		return err
	case version == schemaVersion:
		return nil
	case version == 3:
		return s.stampSchema()
	case version != 1 && version != 2:
		return fmt.Errorf("%w: schema version %d, this build reads %d", ErrCorrupt, version, schemaVersion)
	}
	s.cfg.log.Info("Upgrading the store: rebuilding its derived records.", "from", version, "to", schemaVersion)
	if err := s.rebuild(); err != nil {
		return fmt.Errorf("upgrade from schema version %d: %w", version, err)
	}
	return s.stampSchema()
}

// stampSchema writes schemaVersion, durably.
func (s *Store) stampSchema() error {
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(metaSchema, binary.BigEndian.AppendUint32(nil, schemaVersion))
	})
	if err == nil {
		err = s.db.Sync()
	}
	return err
}

// finishRebuild reruns a rebuild that a crash interrupted.
func (s *Store) finishRebuild() error {
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(metaRebuilding)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.cfg.log.Warn("A rebuild of the derived records was interrupted; rebuilding now.")
	return s.rebuild()
}

// badgerLogger sends Badger's warnings and errors to slog; its info and
// debug chatter is dropped.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("Badger reported an error.", "msg", fmt.Sprintf(f, a...))
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn("Badger reported a warning.", "msg", fmt.Sprintf(f, a...))
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}
