package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/khantara/khantara/store"
)

// Internal keys of the bleve index.
var (
	// keyMapping holds the mapping version the index was built with.
	keyMapping = []byte("khantara/mapping")
	// keyFeed holds the store's feed epoch and the last feed position
	// whose change the index holds (see encodeFeed). It is written in the
	// same batch as the documents of those changes.
	keyFeed = []byte("khantara/feed")
)

// currentFile names the file in the index directory that holds the name
// of the live bleve index (a subdirectory). Rebuild builds a new one
// beside it and switches by renaming a new currentFile over the old.
const currentFile = "CURRENT"

// subdirPrefix starts the name of every bleve index directory.
const subdirPrefix = "idx-"

// Index is the search index over a store's practices. Make one with
// Open; all methods are safe for concurrent use. The index does not own
// the store: close the index before the store.
type Index struct {
	dir     string
	st      *store.Store
	cfg     config
	im      *mapping.IndexMappingImpl
	version string // of the mapping, see newMapping

	docs *docBuilder
	// rows caches the decoded rows of the segments of the live index.
	rows rowCache
	// handed holds what Applied handed over for the follower.
	handed handed

	// ctx ends when Close begins; it stops the follower and a running
	// Rebuild.
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: Notify's token for the follower
	done   chan struct{} // closed by the follower when it has stopped
	// reason, set by Open before the follower starts and read only by
	// it, says why the index must be rebuilt first ("" when it need not).
	reason string

	// rebuildMu lets one Rebuild run at a time.
	rebuildMu sync.Mutex

	// writeMu serialises every write to the live index (the follower's
	// batches, the switch at the end of Rebuild, Close) and guards epoch,
	// pos and closed: the feed epoch and position the live index holds.
	writeMu sync.Mutex
	epoch   string
	pos     uint64
	closed  bool

	// idxMu guards cur and curName. cur changes only with writeMu held
	// too, so a writer holding writeMu may read it without idxMu.
	// Searches hold idxMu shared while they run, so the index they use
	// is not closed under them.
	idxMu   sync.RWMutex
	cur     bleve.Index
	curName string

	// stateMu guards state and changed (see status.go).
	stateMu sync.Mutex
	state   Status
	changed chan struct{} // closed and replaced when state changes

	closeOnce sync.Once
	closeErr  error

	// afterFill, when set by a test, runs in Rebuild between filling the
	// new index and switching to it.
	afterFill func()
}

// Open opens the search index in dir over the practices of st, creating
// the directory if needed, and returns at once: a goroutine (the
// follower) brings the index up to date with the store's change feed and
// then follows it, woken by Notify. If the index exists, was built with
// this mapping and holds a position of the store's current feed epoch,
// the follower replays the changes after that position (a crash loses at
// most the tail bleve had not persisted, which the feed still has).
// Otherwise it rebuilds the index from the store (see Rebuild), beside
// the old one if there is one. Until the index is complete, Search and
// Stats fail with a *NotReadyError (Status says how far it is). Close
// stops the follower. On error nothing is left open.
func Open(dir string, st *store.Store, opts ...Option) (*Index, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	im, version, err := newMapping()
	if err != nil {
		return nil, err
	}
	docs, err := newDocBuilder(im)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create search index directory %q: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ix := &Index{
		dir: dir, st: st, cfg: cfg, im: im, version: version, docs: docs,
		ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		changed: make(chan struct{}),
	}
	reason, err := ix.openCurrent()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open search index %q: %w", dir, err)
	}
	ix.reason = reason
	if reason != "" {
		ix.state = Status{State: StateRebuilding}
		cfg.log.Info("The search index will be rebuilt from the store in the background.", "dir", dir, "reason", reason)
	} else {
		ix.state = Status{State: StateCatchingUp, Position: ix.pos}
	}
	go ix.follow()
	return ix, nil
}

// openCurrent opens the live index named by currentFile and reads the
// feed position it holds. It returns why the index must be rebuilt
// instead, or "". Directories of other indexes (left by an interrupted
// Rebuild) are removed. An index to rebuild is not kept open; its
// directory is removed when the rebuilt one replaces it.
func (ix *Index) openCurrent() (string, error) {
	name, err := readCurrent(ix.dir)
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(ix.dir)
	if err != nil {
		return "", fmt.Errorf("read search index directory: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), subdirPrefix) && e.Name() != name {
			if err := os.RemoveAll(filepath.Join(ix.dir, e.Name())); err != nil {
				return "", fmt.Errorf("remove old search index: %w", err)
			}
		}
	}
	if name == "" {
		return "new index", nil
	}
	ix.curName = name
	idx, err := bleve.Open(filepath.Join(ix.dir, name))
	if err != nil {
		ix.cfg.log.Warn("The search index does not open; it will be rebuilt.", "err", err)
		return "index does not open", nil
	}
	v, err := idx.GetInternal(keyMapping)
	if err != nil {
		idx.Close()
		return "", fmt.Errorf("read search index version: %w", err)
	}
	fv, err := idx.GetInternal(keyFeed)
	if err != nil {
		idx.Close()
		return "", fmt.Errorf("read search index position: %w", err)
	}
	epoch, pos, ok := decodeFeed(fv)
	storeEpoch, storePos := ix.st.Feed()
	switch {
	case string(v) != ix.version:
		idx.Close()
		return fmt.Sprintf("mapping changed from %q to %q", v, ix.version), nil
	case !ok:
		idx.Close()
		return "index holds no store position", nil
	case epoch != storeEpoch:
		idx.Close()
		return "the store's change feed was renumbered (store rebuilt or replaced)", nil
	case pos > storePos:
		idx.Close()
		return "index is ahead of the store (store replaced)", nil
	}
	ix.cur, ix.epoch, ix.pos = idx, epoch, pos
	return "", nil
}

// encodeFeed encodes keyFeed's value: pos(8, big endian) epoch.
func encodeFeed(epoch string, pos uint64) []byte {
	return append(binary.BigEndian.AppendUint64(nil, pos), epoch...)
}

func decodeFeed(v []byte) (epoch string, pos uint64, ok bool) {
	if len(v) < 8 {
		return "", 0, false
	}
	return string(v[8:]), binary.BigEndian.Uint64(v), true
}

// Close stops the follower and a running Rebuild and closes the index.
// Nothing needs saving: the index holds the feed position of what it
// holds, and the next Open replays the rest. It is safe to call more
// than once; later calls return the first call's result.
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		ix.cancel()
		<-ix.done
		ix.rebuildMu.Lock() // wait for a cancelled Rebuild to clean up
		defer ix.rebuildMu.Unlock()
		ix.writeMu.Lock()
		defer ix.writeMu.Unlock()
		ix.idxMu.Lock()
		defer ix.idxMu.Unlock()
		ix.closed = true
		ix.setState(func(s *Status) { s.State = StateClosed })
		if ix.cur == nil {
			return
		}
		err := ix.cur.Close()
		ix.cur = nil
		if err != nil {
			ix.closeErr = fmt.Errorf("close search index: %w", err)
		}
	})
	return ix.closeErr
}

// Count returns the number of practices in the index. It fails with a
// *NotReadyError while the index is incomplete, and ErrClosed after Close.
func (ix *Index) Count() (uint64, error) {
	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if err := ix.usable(); err != nil {
		return 0, err
	}
	return countKind(ix.cur, KindPractice)
}

// countKind returns the number of documents of a kind in idx.
func countKind(idx bleve.Index, kind string) (uint64, error) {
	req := bleve.NewSearchRequestOptions(kindQuery(kind), 0, 0, false)
	req.Score = bleve.ScoreNone
	res, err := idx.Search(req)
	if err != nil {
		return 0, fmt.Errorf("count %s documents: %w", kind, err)
	}
	return res.Total, nil
}

// readCurrent returns the name of the live index, or "" when there is none.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read search index pointer: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, subdirPrefix) || strings.ContainsAny(name, `/\`) {
		return "", nil // unreadable: rebuild
	}
	return name, nil
}

// writeCurrent makes name the live index, atomically and durably.
func writeCurrent(dir, name string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(name + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("switch search index: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: some filesystems cannot sync a directory
		d.Close()
	}
	return nil
}
