package search

import (
	"errors"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// A batch of the follower (and of Rebuild's replay) re-reads the store's
// state of every slot the change feed names, and of the documents that
// depend on it:
//
//   - a practice's slot: its document (built with the experience records
//     about it, or deleted), and the documents of those records, whose
//     about_state follows the practice's slot;
//   - an experience record's slot: its document (or its deletion), the
//     document of the practice it is now about, and the documents of
//     every practice that holds it (fExpSlots) — the practice it was
//     about before an update (PROTOCOL.md 13.3: the slot of an adaptation
//     or a lesson may change its about), a retraction or a removal. The
//     index itself says which: no old version of the record is needed,
//     and the store keeps none.
//
// Each document is built once per batch, from the store's state when it
// is read, which is never older than the changes of the batch.

// batchWriter builds one batch.
type batchWriter struct {
	ix   *Index
	idx  bleve.Index
	b    *bleve.Batch
	done map[docKey]bool // slots whose documents are in b
}

// batchOf reads the store's state of keys, and of what depends on them,
// into a new batch of idx.
func (ix *Index) batchOf(idx bleve.Index, keys []docKey) (*bleve.Batch, error) {
	w := &batchWriter{ix: ix, idx: idx, b: idx.NewBatch(), done: map[docKey]bool{}}
	var exps, refresh []docKey
	for _, k := range keys {
		switch {
		case protocol.IsExperienceSlot(k.slot):
			exps = append(exps, k)
		case k.slot == "" || strings.HasPrefix(k.slot, "_"):
			// a profile or an organisation's record: not indexed
		default:
			if err := w.practice(k, true); err != nil {
				return nil, err
			}
		}
	}
	holders, err := w.holders(exps)
	if err != nil {
		return nil, err
	}
	for _, k := range exps {
		about, ok, err := w.experience(k)
		if err != nil {
			return nil, err
		}
		if ok {
			refresh = append(refresh, about)
		}
	}
	for _, k := range append(refresh, holders...) {
		if !w.done[k] {
			if err := w.practice(k, false); err != nil {
				return nil, err
			}
		}
	}
	return w.b, nil
}

// practice puts the document of practice slot k in the batch, or its
// deletion, and with records the documents of the experience records
// about it.
func (w *batchWriter) practice(k docKey, records bool) error {
	id := docID(k.pub, k.slot)
	ann, state, err := w.ix.current(k, protocol.KindPractice)
	if err != nil {
		return fmt.Errorf("read %s from the store: %w", id, err)
	}
	w.done[k] = true
	var recs []*protocol.Announcement
	if ann != nil || records {
		if recs, err = w.ix.experiences(k); err != nil {
			return err
		}
	}
	if ann == nil {
		w.b.Delete(id)
	} else {
		doc, err := w.ix.docs.build(ann, collectExps(recs))
		if err != nil {
			return err
		}
		if err := w.b.IndexAdvanced(doc); err != nil {
			return err
		}
	}
	if !records {
		return nil
	}
	for _, a := range recs {
		ek := docKey{a.Publisher, a.Experience.Slot()}
		if w.done[ek] {
			continue
		}
		w.done[ek] = true
		doc, err := w.ix.docs.buildExperience(a, state)
		if err != nil {
			return err
		}
		if err := w.b.IndexAdvanced(doc); err != nil {
			return err
		}
	}
	return nil
}

// experience puts the document of experience slot k in the batch, or
// its deletion, and returns the practice the record is about (ok false
// when the slot holds no record).
func (w *batchWriter) experience(k docKey) (about docKey, ok bool, err error) {
	id := docID(k.pub, k.slot)
	ann, _, err := w.ix.current(k, protocol.KindExperience)
	if err != nil {
		return docKey{}, false, fmt.Errorf("read %s from the store: %w", id, err)
	}
	w.done[k] = true
	if ann == nil {
		w.b.Delete(id)
		return docKey{}, false, nil
	}
	about = keyOfAbout(ann.Experience)
	state, err := w.ix.aboutState(about)
	if err != nil {
		return docKey{}, false, err
	}
	doc, err := w.ix.docs.buildExperience(ann, state)
	if err != nil {
		return docKey{}, false, err
	}
	return about, true, w.b.IndexAdvanced(doc)
}

// holders returns the practices whose documents in the index hold one
// of the experience records of keys (fExpSlots).
func (w *batchWriter) holders(keys []docKey) ([]docKey, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	qs := make([]query.Query, len(keys))
	for i, k := range keys {
		tq := bleve.NewTermQuery(docID(k.pub, k.slot))
		tq.SetField(fExpSlots)
		qs[i] = tq
	}
	size := 2*len(keys) + 16
	for {
		req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), size, 0, false)
		req.Score = bleve.ScoreNone
		req.SortBy([]string{"_id"})
		res, err := w.idx.Search(req)
		if err != nil {
			return nil, fmt.Errorf("find the practices holding changed experience records: %w", err)
		}
		if int(res.Total) > len(res.Hits) {
			size = int(res.Total)
			continue
		}
		out := make([]docKey, 0, len(res.Hits))
		for _, h := range res.Hits {
			if k, ok := parseDocID(h.ID); ok {
				out = append(out, k)
			}
		}
		return out, nil
	}
}

// current returns the announcement of kind that is the state of k in the
// store, or nil when the slot holds something else or nothing, and how
// the slot stands for the experience records about it (aboutStateOf).
// The state's header says which announcement it is: the one handed over
// by Applied, used as it is, or another, decoded from the store.
func (ix *Index) current(k docKey, kind protocol.Kind) (*protocol.Announcement, string, error) {
	sg := ix.handed.take(k)
	head, err := ix.st.Head(k.pub, k.slot)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, AboutNotHeld, nil
	case err != nil:
		return nil, "", err
	case head.Kind != kind:
		return nil, aboutStateOf(head.Kind, true), nil
	case sg != nil && sg.Hash() == head.Hash:
		ix.handed.used.Add(1)
		return sg.Announcement(), aboutStateOf(head.Kind, true), nil
	}
	rec, err := ix.st.Get(k.pub, k.slot)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, AboutNotHeld, nil
	case err != nil:
		return nil, "", err
	case rec.Announcement().Kind != kind:
		return nil, aboutStateOf(rec.Announcement().Kind, true), nil
	}
	return rec.Announcement(), aboutStateOf(kind, true), nil
}

// aboutState returns how the practice slot k stands for the records
// about it.
func (ix *Index) aboutState(k docKey) (string, error) {
	head, err := ix.st.Head(k.pub, k.slot)
	if errors.Is(err, store.ErrNotFound) {
		return AboutNotHeld, nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s from the store: %w", docID(k.pub, k.slot), err)
	}
	return aboutStateOf(head.Kind, true), nil
}

// experiences returns the live experience records about the practice k,
// in the store's order.
func (ix *Index) experiences(k docKey) ([]*protocol.Announcement, error) {
	var out []*protocol.Announcement
	for rec, err := range ix.st.Experiences(k.pub, k.slot) {
		if err != nil {
			return nil, fmt.Errorf("read the experiences about %s: %w", docID(k.pub, k.slot), err)
		}
		if a := rec.Announcement(); a.Experience != nil {
			out = append(out, a)
		}
	}
	return out, nil
}
