package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/khantara/khantara/store"
)

// Internal keys of the bleve index.
var (
	// keyMapping holds the mapping version the index was built with.
	keyMapping = []byte("khantara/mapping")
	// keyClean is present only while the index is closed cleanly: Open
	// deletes it, Close writes it after the last write.
	keyClean = []byte("khantara/clean")
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
	docs    *docBuilder
	queue   *queue

	// ctx ends when Close begins; it stops a running Rebuild.
	ctx    context.Context
	cancel context.CancelFunc
	quit   chan struct{} // closed by Close to stop the drainer
	done   chan struct{} // closed by the drainer when it has stopped

	// rebuildMu lets one Rebuild run at a time.
	rebuildMu sync.Mutex

	// writeMu serialises every write to the index (Update, the drainer,
	// the switch at the end of Rebuild, Close) and guards dirty, broken
	// and closed.
	writeMu sync.Mutex
	// dirty is non-nil while Rebuild fills a new index: the documents
	// written to the live one meanwhile, which Rebuild writes again into
	// the new one before switching.
	dirty map[docKey]struct{}
	// broken is the first write that failed since the last rebuild: the
	// index may differ from the store, so Close does not mark it clean.
	broken error
	closed bool

	// idxMu guards cur and curName. cur changes only with writeMu held
	// too, so a writer holding writeMu may read it without idxMu.
	// Searches hold idxMu shared while they run, so the index they use
	// is not closed under them.
	idxMu   sync.RWMutex
	cur     bleve.Index
	curName string

	closeOnce sync.Once
	closeErr  error

	// afterFill, when set by a test, runs in Rebuild between filling the
	// new index and switching to it.
	afterFill func()
}

// Open opens the search index in dir, creating the directory if needed,
// over the practices of st. It rebuilds the index from the store (see
// Rebuild) when dir holds none yet, when the index was built with another
// mapping, or when it was not closed cleanly (a crash may have lost
// writes); that can take a while on a large catalogue, and Open returns
// when it is done. It starts the goroutine that serves Notify; Close
// stops it. On error nothing is left open.
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
		queue: newQueue(), ctx: ctx, cancel: cancel,
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	reason, err := ix.openCurrent()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open search index %q: %w", dir, err)
	}
	if reason != "" {
		cfg.log.Info("Rebuilding the search index from the store.", "dir", dir, "reason", reason)
		start := time.Now()
		n, err := ix.Rebuild(ctx)
		if err != nil {
			cancel()
			if ix.cur != nil {
				ix.cur.Close()
			}
			return nil, fmt.Errorf("open search index %q: %w", dir, err)
		}
		cfg.log.Info("Rebuilt the search index.", "practices", n, "took", time.Since(start).Round(time.Millisecond))
	}
	go ix.drain()
	return ix, nil
}

// openCurrent opens the live index named by currentFile and clears its
// clean marker. It returns why the index must be rebuilt instead, or "".
// Directories of other indexes (left by an interrupted Rebuild) are
// removed.
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
	clean, err := idx.GetInternal(keyClean)
	if err != nil {
		idx.Close()
		return "", fmt.Errorf("read search index state: %w", err)
	}
	switch {
	case string(v) != ix.version:
		idx.Close()
		return fmt.Sprintf("mapping changed from %q to %q", v, ix.version), nil
	case clean == nil:
		idx.Close()
		return "index was not closed cleanly", nil
	}
	if err := idx.DeleteInternal(keyClean); err != nil {
		idx.Close()
		return "", fmt.Errorf("clear search index clean marker: %w", err)
	}
	ix.cur = idx
	return "", nil
}

// Close waits for the notified updates to be indexed, stops the drainer,
// stops a running Rebuild, marks the index clean (unless a write failed)
// and closes it. It is safe to call more than once; later calls return
// the first call's result.
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		ix.cancel()
		close(ix.quit)
		<-ix.done
		ix.rebuildMu.Lock() // wait for a cancelled Rebuild to clean up
		defer ix.rebuildMu.Unlock()
		ix.writeMu.Lock()
		defer ix.writeMu.Unlock()
		ix.idxMu.Lock()
		defer ix.idxMu.Unlock()
		ix.closed = true
		if ix.cur == nil {
			return
		}
		var errs []error
		if ix.broken == nil {
			errs = append(errs, ix.cur.SetInternal(keyClean, []byte{1}))
		} else {
			ix.cfg.log.Warn("The search index missed updates; it will be rebuilt at the next start.", "err", ix.broken)
		}
		errs = append(errs, ix.cur.Close())
		ix.cur = nil
		if err := errors.Join(errs...); err != nil {
			ix.closeErr = fmt.Errorf("close search index: %w", err)
		}
	})
	return ix.closeErr
}

// Count returns the number of practices in the index.
func (ix *Index) Count() (uint64, error) {
	ix.idxMu.RLock()
	defer ix.idxMu.RUnlock()
	if ix.cur == nil {
		return 0, ErrClosed
	}
	return ix.cur.DocCount()
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
		d.Sync()
		d.Close()
	}
	return nil
}
