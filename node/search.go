package node

import (
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
)

// Search is the node's search index over its replica, or nil when the
// configuration turned it off (NoSearch). It follows the store's change
// feed, so it sees every announcement the node applies, its own
// included: the store is the truth, the index is derived from it and
// catches up asynchronously (Index.Flush waits; Index.Status says how far
// it is). New does not wait for it: after a crash or with no index, the
// index catches up or rebuilds in the background while the node runs.
func (n *Node) Search() *search.Index { return n.index }

// indexApplied wakes the index when a batch changed the state of a
// practice or retraction slot (profiles are not indexed); the index reads
// what changed from the store's feed.
func (n *Node) indexApplied(batch []store.Incoming, res []store.Result) {
	if n.index == nil {
		return
	}
	for i, r := range res {
		if r.Outcome != store.Applied {
			continue
		}
		if ann := batch[i].Signed.Announcement(); ann.Kind != protocol.KindProfile {
			n.index.Notify(ann.Publisher, ann.Slot())
			return
		}
	}
}
