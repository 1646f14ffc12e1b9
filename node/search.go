package node

import (
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
)

// Search is the node's search index over its replica, or nil when the
// configuration turned it off (NoSearch). It follows every announcement
// the node applies, its own included: the store is the truth, the index
// is derived from it and catches up asynchronously (Index.Flush waits).
func (n *Node) Search() *search.Index { return n.index }

// indexApplied tells the index which slots changed: every practice or
// retraction that became the state of its slot. Profiles are not indexed.
func (n *Node) indexApplied(batch []store.Incoming, res []store.Result) {
	if n.index == nil {
		return
	}
	for i, r := range res {
		if r.Outcome != store.Applied {
			continue
		}
		ann := batch[i].Signed.Announcement()
		if ann.Kind == protocol.KindProfile {
			continue
		}
		n.index.Notify(ann.Publisher, ann.Slot())
	}
}
