package search

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// Rebuild indexes every current practice of the store into a new index
// beside the live one, then switches to it and deletes the old one. It
// returns the number of practices in the new index.
//
// Searches keep using the live index until the switch, and Update and
// Notify keep writing to it; the slots they write meanwhile are written
// again into the new index just before the switch (with writes paused),
// so nothing is lost. The store is read in one snapshot, in batches
// (WithBatchSize); decoding the next batch overlaps with indexing the
// previous one. One Rebuild runs at a time. If ctx ends, or Close is
// called, the new index is dropped and the live one stays.
func (ix *Index) Rebuild(ctx context.Context) (int, error) {
	ix.rebuildMu.Lock()
	defer ix.rebuildMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(ix.ctx, cancel)()

	ix.writeMu.Lock()
	if ix.closed {
		ix.writeMu.Unlock()
		return 0, ErrClosed
	}
	ix.dirty = map[docKey]struct{}{}
	ix.writeMu.Unlock()
	switched := false
	defer func() {
		if !switched {
			ix.writeMu.Lock()
			ix.dirty = nil
			ix.writeMu.Unlock()
		}
	}()

	start := time.Now()
	name := fmt.Sprintf("%s%d", subdirPrefix, start.UnixNano())
	path := filepath.Join(ix.dir, name)
	idx, err := bleve.NewUsing(path, ix.im, scorch.Name, scorch.Name, nil)
	if err != nil {
		os.RemoveAll(path)
		return 0, fmt.Errorf("create search index: %w", err)
	}
	fail := func(err error) (int, error) {
		idx.Close()
		os.RemoveAll(path)
		return 0, fmt.Errorf("rebuild search index: %w", err)
	}
	if err := ix.fill(ctx, idx); err != nil {
		return fail(err)
	}
	if err := idx.SetInternal(keyMapping, []byte(ix.version)); err != nil {
		return fail(err)
	}
	if ix.afterFill != nil {
		ix.afterFill()
	}

	ix.writeMu.Lock()
	if ix.closed {
		ix.writeMu.Unlock()
		return fail(ErrClosed)
	}
	keys := slices.Collect(maps.Keys(ix.dirty))
	for chunk := range slices.Chunk(keys, ix.cfg.batchSize) {
		if err := ix.writeKeys(idx, chunk); err != nil {
			ix.writeMu.Unlock()
			return fail(err)
		}
	}
	if err := writeCurrent(ix.dir, name); err != nil {
		ix.writeMu.Unlock()
		return fail(err)
	}
	ix.idxMu.Lock()
	old, oldName := ix.cur, ix.curName
	ix.cur, ix.curName = idx, name
	ix.idxMu.Unlock()
	ix.dirty, ix.broken, switched = nil, nil, true
	ix.writeMu.Unlock()

	var errs []error
	if old != nil {
		errs = append(errs, old.Close())
	}
	if oldName != "" {
		errs = append(errs, os.RemoveAll(filepath.Join(ix.dir, oldName)))
	}
	if err := errors.Join(errs...); err != nil {
		ix.cfg.log.Warn("Could not remove the old search index.", "err", err)
	}
	n, err := idx.DocCount()
	if err != nil {
		return 0, err
	}
	ix.cfg.log.Debug("Switched to the rebuilt search index.", "practices", n, "took", time.Since(start).Round(time.Millisecond), "updates_during", len(keys))
	return int(n), nil
}

// fill indexes every current practice of the store into idx. One
// goroutine reads and decodes the store and builds batches; this one
// indexes them (bleve analyses the documents of a batch in parallel).
func (ix *Index) fill(ctx context.Context, idx bleve.Index) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *bleve.Batch, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- ix.read(ctx, idx, batches)
	}()
	var err error
	for b := range batches {
		if err == nil {
			if err = idx.Batch(b); err != nil {
				cancel() // stop the reader; keep draining until it closes batches
			}
		}
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// read lists the store's practices and sends them to out in batches.
func (ix *Index) read(ctx context.Context, idx bleve.Index, out chan<- *bleve.Batch) error {
	b := idx.NewBatch()
	send := func() error {
		select {
		case out <- b:
			b = idx.NewBatch()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for rec, err := range ix.st.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindPractice}}) {
		if err != nil {
			return fmt.Errorf("list practices: %w", err)
		}
		doc, err := ix.docs.build(rec.Announcement())
		if err != nil {
			return err
		}
		if err := b.IndexAdvanced(doc); err != nil {
			return err
		}
		if b.Size() >= ix.cfg.batchSize {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if b.Size() > 0 {
		return send()
	}
	return ctx.Err()
}
