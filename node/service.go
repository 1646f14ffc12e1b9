package node

import (
	"log/slog"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// What a service built on the node (the local HTTP API of package api)
// reads of it beyond ID, Host, Store, Config and Search. Each method is
// safe for concurrent use.

// Started returns when New ran, in UTC.
func (n *Node) Started() time.Time { return n.started }

// Now returns the node's clock's current time (time.Now unless WithClock
// replaced it).
func (n *Node) Now() time.Time { return n.now() }

// Logger returns the node's logger, for services that log on its behalf.
func (n *Node) Logger() *slog.Logger { return n.log }

// Keeps reports whether the trust policy keeps pub's announcements: false
// when the policy refuses pub, so gossip and sync never bring them back.
func (n *Node) Keeps(pub peer.ID) bool { return n.policy.keeps(pub) }

// CheckPractice checks a fact sheet as Publish would without storing or
// sending anything (whether the organisation delegates the node's key is
// Publish's to check): it seals it with the largest sequence number, so the
// size limits of the signed form hold for any real one. It returns nil,
// or an error wrapping protocol.ErrInvalid or protocol.ErrTooLarge.
func (n *Node) CheckPractice(sheet *protocol.FactSheet) error {
	ann := &protocol.Announcement{
		V: protocol.Version, Publisher: n.self, Seq: protocol.MaxSeq, Time: n.now().UTC(),
		Kind: protocol.KindPractice, Practice: sheet,
	}
	if org := n.Org(); org != "" {
		// As the organisation: auth takes room too (any hash has its size).
		ann.Publisher, ann.Auth = org, protocol.Hash{1}
	}
	_, err := protocol.Seal(ann, n.key)
	return err
}

// Collectors returns the node's Prometheus collectors, read at each
// scrape: connected peers, the gossip validator's verdicts, sync totals,
// admission, catalogue sizes, the free disk space and reachability
// (reach_metrics.go). Each call makes new
// collectors; register them in one registry (never the global one, since
// several nodes may run in one process).
func (n *Node) Collectors() []prometheus.Collector {
	return []prometheus.Collector{newNodeCollector(n), newSpaceCollector(n), newReachCollector(n)}
}
