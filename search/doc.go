// Package search keeps a full-text and faceted index of the practices in
// a node's store, so researchers can search, filter, facet and count the
// replicated catalogue without scanning it.
//
// The index is derived data: Badger (package store) is the one source of
// truth, and everything here can be rebuilt from it. The index lives in
// its own directory, as a bleve v2 (scorch) index. Each practice is one
// document with the ID "<publisher>/<practice ID>"; its text is indexed
// per language (see mapping.go), its codes as exact keywords, its figures
// as numbers, and a compact copy of the Hit is stored so a page of
// results needs no read from the store.
//
// Lifecycle: Open opens the index, rebuilding it from the store when it is
// new, was built with another mapping, or was not closed cleanly; it
// starts one goroutine that drains Notify's queue. Close drains that
// queue, marks the index clean and closes it; it is safe to call twice.
// Every method is safe for concurrent use.
//
// Consistency: the index follows the store because every write re-reads
// the store's current state of the slot it indexes, and writes are
// serialised. After a slot changes in the store, one Update or Notify of
// that slot makes the index agree with it, whatever the order of
// concurrent calls.
package search
