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

// indexApplied hands the index the practices and retractions of a batch
// that changed the state of their slot, decoded (search.Index.Applied), so that it need
// not decode them again from the store; the store's feed still says what
// changed.
func (n *Node) indexApplied(batch []store.Incoming, res []store.Result) {
	if n.index == nil {
		return
	}
	applied := make([]*protocol.Signed, 0, len(res))
	for i, r := range res {
		switch sg := batch[i].Signed; sg.Announcement().Kind {
		case protocol.KindPractice, protocol.KindRetract:
			if r.Outcome == store.Applied {
				applied = append(applied, sg) // only practices are indexed
			}
		}
	}
	if len(applied) > 0 {
		n.index.Applied(applied...)
	}
}
