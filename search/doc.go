// Package search keeps a full-text and faceted index of the practices in
// a node's store, so researchers can search, filter, facet and count the
// replicated catalogue without scanning it.
//
// The index is derived data: Badger (package store) is the one source of
// truth, and everything here can be rebuilt from it. The index lives in
// its own directory as a bleve v2 (scorch) index, one document per
// current practice, with the ID "<publisher>/<practice ID>" (and one per
// live experience record, below):
//
//   - text in per-language fields, each analysed by its language's
//     analyzer, and matched per language, the clauses of a query joined
//     by a disjunction of its own (mapping.go, textquery.go, union.go);
//   - codes as exact keywords, figures as numbers, flags as booleans, for
//     filters;
//   - one doc-values "row" per practice with its facet values and sort
//     keys, which a search reads once per match to count facets and keep
//     the top hits (row.go, collect.go);
//   - a stored copy of its Hit, so a page of results needs no read from
//     the store.
//
// Experience records (PROTOCOL.md 13) are indexed twice (expdoc.go). The
// live records about a held practice go into its document: their text,
// each in its own language's fields, so a practice matches through what
// other organisations wrote about it (Hit.MatchedExperiences names the
// records that match by themselves, from their terms stored in the
// practice's document: exptokens.go); their counts by type in its Hit;
// facets, filters and sort keys (adapted, has_lessons, endorsed_by,
// adapted_in) in its row. And each record has a document of its own,
// "<author>/<slot>", with fields apart from the practices', which a Query
// of Kind KindExperience finds: also records about a practice this node
// does not hold, or holds retracted, which no practice can carry. Both,
// because each answers a question the other cannot: "which practices
// does this text find, counting what others wrote about them" and "which
// records say this". Stats by adaptation groups practices by how often
// they were adapted, with the flows from their countries to the
// adaptations'.
//
// Lifecycle: Open opens the index and returns at once; one goroutine,
// the follower, brings it up to date and keeps it there. The index holds,
// in an internal key written in the same bleve batch as the documents,
// the store's change-feed epoch and the last feed position it applied
// (store/feed.go). At Open, an index of this mapping and the store's
// epoch replays the changes after that position (after a crash: the tail
// bleve had not persisted); any other index is rebuilt in the background
// beside the old one. Until the index is complete, Search, Stats and
// Count fail with a *NotReadyError carrying its progress (Status). Close
// stops the follower and closes the index; it is safe to call twice.
// Every method is safe for concurrent use.
//
// Consistency: every write re-reads the store's current state of the
// slots it indexes (its header; the announcement itself comes decoded
// from Applied when the node handed over that very one, and is decoded
// from the store otherwise), and of the documents that depend on them
// (batch.go): a changed practice re-indexes the records about it (whose
// about_state follows it); a changed record re-indexes the practice it
// is now about and every practice whose document holds it, which the
// index itself finds (fExpSlots), since an update may have moved the
// record to another practice, and the store keeps no old version. So
// replaying a change twice is harmless, and a change's feed entry is
// only ever replaced by a later one; so once the index has applied the
// feed up to the store's position, it equals the store. A write that
// fails (or panics inside bleve, as after ENOSPC) leaves the stored
// position where it was and is retried with backoff; the write gate
// (WithWriteGate) can hold writes back. Rebuild builds a new index
// beside the live one from a snapshot taken after noting the feed
// position, and replays what changed meanwhile before switching.
package search
