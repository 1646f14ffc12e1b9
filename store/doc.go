// Package store keeps a node's catalogue in Badger: the one source of truth
// on disk, owned by one process at a time. The envelopes of what Apply
// stores are the exception: they are kept in pack files beside Badger,
// which holds where each is and its checksum (pack.go).
//
// The catalogue state is, for every (publisher, slot), the announcement
// that ranks highest: the higher sequence number wins, and between two
// different announcements with the same sequence the lower hash wins. A
// retraction is an ordinary announcement in its slot, so it beats every
// lower sequence forever and a replayed old version never comes back.
// Superseded announcements are deleted, not kept. Because the state is a
// maximum under a total order, Apply is idempotent and commutative: every
// node that has received the same announcements, in any order, holds the
// same state. An organisation's operations have a slot each (protocol's
// Signed.Slot), so they never supersede one another.
//
// Equivocation is two different announcements with the same publisher,
// signer and sequence. A plain publisher signs its own records, so for it
// that is the same publisher and sequence; an organisation's delegates
// share its sequence, and two of them publishing the same number is no
// equivocation (in one slot, the lower hash wins and the other is simply
// superseded). Equivocations are recorded (Equivocations), and the loser
// of one in a single slot is kept as evidence, synced like state.
//
// The store does not judge authority (protocol.Chain does, above it):
// RemoveWhere takes out the records of a publisher that a caller's
// predicate picks, seen hashes included, so that they can come back.
//
// Lifecycle: Open takes an exclusive lock on the directory and starts two
// goroutines: a writer that owns all writes and a syncer that makes them
// durable; Close stops both and releases everything, and is safe to call
// twice. All methods are safe for concurrent use.
//
// Asked once: Lookup answers, in one snapshot, everything a caller (the
// gossip validator) and Apply need to know about an announcement; handed
// back in Incoming.Prior, it spares Apply's transaction those reads while
// write versions (per publisher, sequence and slot, in stripes) show that
// nothing it covers has changed (prior.go explains how that is known).
//
// Durability: Badger runs with SyncWrites off, and Apply returns only after
// an explicit DB.Sync (WAL and value log) that began after its commit. The
// writer commits whatever requests are waiting in one transaction and
// passes them on; the syncer fsyncs everything committed so far in one call
// and answers all of it, while the writer is already committing the next
// requests. One announcement alone costs one fsync (about 1 ms here); under
// load, one fsync covers dozens. ApplyCommitted is answered by the writer
// right after the commit instead: its announcements are readable and
// survive the process being killed (they are in the operating system's
// page cache), and the syncer fsyncs them within the sync delay
// (WithSyncDelay, 200 ms by default; an Apply meanwhile ends the wait), so
// one fsync covers every such commit of that time, but a power cut before
// that fsync ends may lose them. The node stores gossip that way
// (sync fetches again what a power cut lost) and its own publications and
// sync sessions with Apply. An Apply group's envelopes go to the packs,
// written and fdatasynced by the writer before its commit, so Badger never
// holds a pointer past what a pack holds on disk; ApplyCommitted's are
// written before the commit and fdatasynced by the syncer. A power cut can
// therefore split an ApplyCommitted record between Badger's write-ahead
// log and its pack; Open finds and removes such records (tail.go), so
// sync fetches them again. WriteStats.Durable counts the announcements an
// fsync has covered; Close fsyncs everything committed before it returns.
// The crash test (SIGKILL at random moments, Apply and ApplyCommitted
// mixed) checks that nothing acknowledged by either is lost.
//
// Records on disk (key prefixes in keys.go) are primary (state, evidence,
// the log of seen announcement hashes with their signers) or derived (the
// sequence index, publisher summaries, the equivocation index, the change
// feed, the experience index). Rebuild recreates every derived record from
// the primary ones.
//
// Experience records (PROTOCOL.md 13) are state like any other; besides,
// the experience index lists the live ones about each practice
// (Experiences, ExperienceCounts), and the summaries count them apart
// (Publisher.Experiences, RetractedExperiences). Whether a state record
// is a v1 record (protocol.IsV1, what a sync/1 session reconciles) is
// decided when it is stored and kept beside its key and in its
// publisher's V1 digest (V1Keys, Publisher.V1, V1EvidenceDigest): a key
// publisher's experience records are v2 records, and one slot may hold a
// v1 record and later a v2 one.
package store
