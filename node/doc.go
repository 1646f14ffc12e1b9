// Package node runs one Khantara peer: it wires the libp2p host,
// gossipsub, catch-up sync, discovery and trust policy around a store.
//
// Lifecycle: New opens the store, builds (or adopts) the host, joins the
// network's topic and starts every background loop; Close stops them,
// waits for each goroutine and closes what New opened. Each loop is a
// func(ctx) error the node owns (lifecycle.go): one that fails stops the
// node, and the failure, wrapping ErrLoopStopped, is returned by Err,
// Serve and Close. Serve runs a node as a service until its context ends
// or the node fails. A Node is safe for concurrent use.
//
// Data flow. Own announcements are sealed, stored durably, then published
// (as the organisation of Config.Org when set: orgpublish.go); records
// signed elsewhere enter by Submit. v1 records travel on the v1 topic,
// records of organisations and their kinds on the v2 topic (topics.go).
// Gossip passes the topics' validator (validate.go) before anything is
// stored or forwarded, then the ingest loop applies accepted messages in
// groups. A record of an organisation is judged against the
// organisation's chain (orgs.go), on the validator and again when it is
// stored (orgapply.go); one whose chain is not known yet waits in memory
// (pending.go) and is applied when the chain arrives; when a new
// operation changes an organisation's head, the records it no longer
// authorises are removed. Sync sessions (sync.go, sync_session.go, verifier.go,
// reconcile.go) find what two replicas hold differently by comparing range
// fingerprints, then move only those envelopes, storing each message's
// batch while the next arrives (sync_apply.go); the scheduler
// (schedule.go) runs them on every new outbound connection, periodically
// with a random peer, and when gossip shows a sequence gap; inbound
// sessions are admitted by class, address and progress (admission.go,
// admission_limits.go), so silent peers cannot hold the slots.
// Discovery (discovery.go) keeps the node connected: bootstrap addresses,
// mDNS, the address book kept in the store, and gossipsub peer exchange.
//
// Policy and upkeep. The trust policy (policy.go) decides whose records are
// kept (in lists mode, by the membership lists of followed organisations),
// and applies at start, on SetTrust and on a new list to what is stored
// already; in open mode each
// publisher is held to a quota (quota.go). The purge loop (purge.go) erases
// superseded, retracted and removed content from disk; the space monitor
// (space.go) pauses every write while the disk is nearly full.
package node
