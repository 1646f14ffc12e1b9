// Package search keeps a full-text and faceted index of the practices in
// a node's store, so researchers can search, filter, facet and count the
// replicated catalogue without scanning it.
//
// The index is derived data: Badger (package store) is the one source of
// truth, and everything here can be rebuilt from it. The index lives in
// its own directory as a bleve v2 (scorch) index, one document per
// current practice, with the ID "<publisher>/<practice ID>":
//
//   - text in per-language fields, each analysed by its language's
//     analyzer, and matched per language (mapping.go, query.go);
//   - codes as exact keywords, figures as numbers, flags as booleans, for
//     filters;
//   - one doc-values "row" per practice with its facet values and sort
//     keys, which a search reads once per match to count facets and keep
//     the top hits (row.go, collect.go);
//   - a stored copy of its Hit, so a page of results needs no read from
//     the store.
//
// Lifecycle: Open opens the index, rebuilding it from the store when it
// is new, was built with another mapping, or was not closed cleanly; it
// starts one goroutine that indexes what Notify queues. Close drains
// that queue, marks the index clean and closes it; it is safe to call
// twice. Every method is safe for concurrent use.
//
// Consistency: the index follows the store because every write re-reads
// the store's current state of the slot it indexes, and writes are
// serialised. After a slot changes in the store, one Update or Notify of
// that slot makes the index agree with it, whatever the order of
// concurrent calls (see Update). Rebuild builds a new index beside the
// live one and switches without losing the writes made meanwhile.
package search
