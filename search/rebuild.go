package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// Rebuild indexes every current practice and live experience record of
// the store into a new index beside the live one, then switches to it and
// deletes the old one. It returns the number of practices in the new
// index.
//
// The new index records the store's feed position taken before the store
// was read, so the follower replays, on the new index, every change made
// while Rebuild ran (replaying a change already in it is harmless: a
// replay re-reads the store). Searches keep using the live index, which
// the follower keeps current, until the switch; an index that had no
// complete version stays not ready (Status shows the progress) until the
// new one has caught up. The store is read in one snapshot, in batches
// (WithBatchSize); decoding the next batch overlaps with indexing the
// previous one. Every batch passes the write gate. One Rebuild runs at a
// time. If ctx ends, or Close is called, the new index is dropped and the
// live one stays.
func (ix *Index) Rebuild(ctx context.Context) (int, error) {
	ix.rebuildMu.Lock()
	defer ix.rebuildMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(ix.ctx, cancel)()

	ix.writeMu.Lock()
	closed := ix.closed
	ix.writeMu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	// What was handed over so far is in the store's snapshot read below.
	ix.handed.clear()
	epoch, from := ix.st.Feed()
	counts, _, err := ix.st.Counts()
	if err != nil {
		return 0, fmt.Errorf("rebuild search index: count practices: %w", err)
	}
	ix.setState(func(s *Status) {
		if !s.Ready {
			s.State, s.Done, s.Total = StateRebuilding, 0, counts.Practices
		}
	})

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
	b := idx.NewBatch()
	b.SetInternal(keyMapping, []byte(ix.version))
	b.SetInternal(keyFeed, encodeFeed(epoch, from))
	if err := ix.safeBatch(idx, b, nil); err != nil {
		return fail(err)
	}
	if ix.afterFill != nil {
		ix.afterFill()
	}
	if err := ix.switchTo(idx, name, epoch, from); err != nil {
		return fail(err)
	}
	n, err := countKind(idx, KindPractice)
	if err != nil {
		return 0, err
	}
	ix.cfg.log.Debug("Switched to the rebuilt search index.", "practices", n, "took", time.Since(start).Round(time.Millisecond))
	return int(n), nil
}

// switchTo makes idx, filled from the store's feed position from of
// epoch, the live index: it replays onto idx what the live index holds
// beyond from, switches, and removes the old index.
func (ix *Index) switchTo(idx bleve.Index, name, epoch string, from uint64) error {
	ix.writeMu.Lock()
	if ix.closed {
		ix.writeMu.Unlock()
		return ErrClosed
	}
	// Bring the new index to where the live one is, so the switch loses
	// nothing a caller may already have seen (writes wait meanwhile).
	pos := from
	if ix.cur != nil && ix.epoch == epoch && ix.pos > from {
		var err error
		if pos, err = ix.replay(idx, epoch, from, ix.pos); err != nil {
			ix.writeMu.Unlock()
			return err
		}
	}
	if err := writeCurrent(ix.dir, name); err != nil {
		ix.writeMu.Unlock()
		return err
	}
	ix.idxMu.Lock()
	old, oldName := ix.cur, ix.curName
	ix.cur, ix.curName = idx, name
	ix.epoch, ix.pos = epoch, pos
	ix.idxMu.Unlock()
	ix.writeMu.Unlock()
	ix.setState(func(s *Status) {
		s.Position = pos
		if !s.Ready {
			s.State, s.Done, s.Total = StateCatchingUp, 0, 0
		}
	})
	ix.notify()

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
	return nil
}

// fill indexes every current practice of the store into idx. One
// goroutine reads and decodes the store and builds batches; this one
// indexes them (bleve analyses the documents of a batch in parallel),
// each once the write gate lets it.
func (ix *Index) fill(ctx context.Context, idx bleve.Index) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan filled, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- ix.read(ctx, idx, batches)
	}()
	var err error
	for f := range batches {
		if err == nil {
			n := uint64(f.practices)
			if err = ix.waitGate(ctx); err == nil {
				err = ix.safeBatch(idx, f.b, nil)
			}
			if err != nil {
				cancel() // stop the reader; keep draining until it closes batches
				continue
			}
			ix.setState(func(s *Status) {
				if s.State == StateRebuilding {
					s.Done += n
					s.Total = max(s.Total, s.Done)
				}
			})
			// Merging the new segments maps them whole; without this the
			// resident set would grow by the size of the index.
			if _, rerr := store.ReleaseMapped(ix.dir); rerr != nil {
				ix.cfg.log.Debug("Could not release the index's mapped pages.", "err", rerr)
			}
		}
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// waitGate waits until the write gate lets the index write, with bounded
// backoff, or ctx ends.
func (ix *Index) waitGate(ctx context.Context) error {
	wait := time.Duration(0)
	for {
		err := ix.gate()
		if err == nil {
			return nil
		}
		wait = backoff(wait, retryMin, retryMax)
		if !ix.pause(ctx, wait) {
			return ctx.Err()
		}
	}
}

// filled is a batch of read, and how many practices it holds: Status
// counts the progress of a rebuild in practices (the experience records,
// indexed after them, keep it at its total).
type filled struct {
	b         *bleve.Batch
	practices int
}

// read lists the store's practices, each with the experience records
// about it, then its experience records, and sends their documents to
// out in batches.
func (ix *Index) read(ctx context.Context, idx bleve.Index, out chan<- filled) error {
	b, practices := idx.NewBatch(), 0
	send := func() error {
		select {
		case out <- filled{b, practices}:
			b, practices = idx.NewBatch(), 0
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	add := func(doc *document.Document, err error) error {
		if err == nil {
			err = b.IndexAdvanced(doc)
		}
		if err == nil && b.Size() >= ix.cfg.batchSize {
			err = send()
		}
		return err
	}
	for rec, err := range ix.st.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindPractice}}) {
		if err != nil {
			return fmt.Errorf("list practices: %w", err)
		}
		a := rec.Announcement()
		recs, err := ix.experiences(docKey{a.Publisher, a.Practice.ID})
		if err != nil {
			return err
		}
		practices++
		if err := add(ix.docs.build(a, collectExps(recs))); err != nil {
			return err
		}
	}
	for rec, err := range ix.st.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindExperience}}) {
		if err != nil {
			return fmt.Errorf("list experience records: %w", err)
		}
		a := rec.Announcement()
		state, err := ix.aboutState(keyOfAbout(a.Experience))
		if err != nil {
			return err
		}
		if err := add(ix.docs.buildExperience(a, state)); err != nil {
			return err
		}
	}
	if b.Size() > 0 {
		return send()
	}
	return ctx.Err()
}
