package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// docKey names a slot of the store: a publisher's practice ID.
type docKey struct {
	pub  peer.ID
	slot string
}

// Update makes the index agree with the store's current state of (pub,
// slot): it indexes the practice there, or deletes it from the index when
// the slot holds a retraction or nothing. Profile slots are ignored. Call
// it after the store has applied an announcement of that slot.
//
// Updates are serialised, and each one reads the store while it holds
// the index: of two updates of one slot, the later one reads a state at
// least as new as the earlier one's (store states only move forward), and
// writes it last. So once every change of the store has been followed by
// an Update (or Notify) of its slot, the index equals the store, whatever
// the order the calls ran in. Update is safe for concurrent use; it
// returns when the change is durable in the index.
func (ix *Index) Update(pub peer.ID, slot string) error {
	if slot == "" || slot == protocol.ProfileSlot {
		return nil
	}
	return ix.write([]docKey{{pub, slot}})
}

// Notify is Update without waiting: it queues (pub, slot) and returns at
// once. A goroutine indexes what is queued in batches; a slot notified
// again before it is indexed is indexed once. Notify never blocks on the
// index; after Close it does nothing. Errors are logged, and make the
// next Open rebuild the index.
func (ix *Index) Notify(pub peer.ID, slot string) {
	if slot == "" || slot == protocol.ProfileSlot {
		return
	}
	ix.queue.add(docKey{pub, slot})
}

// Flush waits until every slot notified before the call is indexed, or
// ctx ends. It returns an error if a write to the index failed since the
// last rebuild.
func (ix *Index) Flush(ctx context.Context) error {
	if err := ix.queue.wait(ctx); err != nil {
		return err
	}
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if ix.broken != nil {
		return fmt.Errorf("search index missed updates (rebuild it): %w", ix.broken)
	}
	return nil
}

// write indexes the store's state of keys in the live index, in one batch.
func (ix *Index) write(keys []docKey) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	if ix.dirty != nil {
		for _, k := range keys {
			ix.dirty[k] = struct{}{}
		}
	}
	if err := ix.writeKeys(ix.cur, keys); err != nil {
		if ix.broken == nil {
			ix.broken = err
		}
		return fmt.Errorf("update search index: %w", err)
	}
	return nil
}

// writeKeys reads the store's state of keys and writes it to idx in one
// batch. The caller holds writeMu.
func (ix *Index) writeKeys(idx bleve.Index, keys []docKey) error {
	b := idx.NewBatch()
	for _, k := range keys {
		id := docID(k.pub, k.slot)
		rec, err := ix.st.Get(k.pub, k.slot)
		switch {
		case errors.Is(err, store.ErrNotFound):
			b.Delete(id)
		case err != nil:
			return fmt.Errorf("read %s from the store: %w", id, err)
		case rec.Announcement().Kind == protocol.KindPractice:
			doc, err := ix.docs.build(rec.Announcement())
			if err != nil {
				return err
			}
			if err := b.IndexAdvanced(doc); err != nil {
				return err
			}
		default:
			b.Delete(id)
		}
	}
	return idx.Batch(b)
}

// drain indexes what Notify queues until Close, then what is left.
func (ix *Index) drain() {
	defer close(ix.done)
	for {
		select {
		case <-ix.queue.wake:
			ix.drainOnce()
		case <-ix.quit:
			ix.drainOnce()
			ix.queue.close()
			return
		}
	}
}

func (ix *Index) drainOnce() {
	keys, gen := ix.queue.take()
	for chunk := range slices.Chunk(keys, ix.cfg.batchSize) {
		if err := ix.write(chunk); err != nil {
			ix.cfg.log.Warn("Could not index notified practices.", "count", len(chunk), "err", err)
		}
	}
	ix.queue.finish(gen)
}

// queue holds the slots notified but not yet indexed.
type queue struct {
	wake chan struct{} // capacity 1: a token means pending may be non-empty

	mu sync.Mutex // guards the fields below
	// pending are the slots to index, each once.
	pending map[docKey]struct{}
	// notified counts add calls; indexed is the count that the drainer
	// has handled. changed is closed and replaced when indexed grows.
	notified, indexed uint64
	changed           chan struct{}
	closed            bool // the drainer has stopped
}

func newQueue() *queue {
	return &queue{wake: make(chan struct{}, 1), pending: map[docKey]struct{}{}, changed: make(chan struct{})}
}

func (q *queue) add(k docKey) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.pending[k] = struct{}{}
	q.notified++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take empties the queue and returns what it held and the add count it covers.
func (q *queue) take() ([]docKey, uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	keys := make([]docKey, 0, len(q.pending))
	for k := range q.pending {
		keys = append(keys, k)
	}
	clear(q.pending)
	return keys, q.notified
}

// finish records that every add up to gen has been handled.
func (q *queue) finish(gen uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen > q.indexed {
		q.indexed = gen
		close(q.changed)
		q.changed = make(chan struct{})
	}
}

// close makes add a no-op and wakes every waiter.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	close(q.changed)
	q.changed = make(chan struct{})
}

// wait returns when every add made before the call has been handled.
func (q *queue) wait(ctx context.Context) error {
	q.mu.Lock()
	target := q.notified
	for q.indexed < target {
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		q.mu.Lock()
	}
	q.mu.Unlock()
	return nil
}
