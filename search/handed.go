package search

import (
	"sync"
	"sync/atomic"

	"github.com/khantara/khantara/protocol"
)

// handBudget bounds the envelope bytes of the announcements the index
// holds from Applied, waiting for the follower (about 16 MiB). Past it,
// Applied keeps nothing more and the follower reads those from the store.
const handBudget = 16 << 20

// handed holds announcements the node handed to the index as it applied
// them, by slot, until the follower reaches their feed entries. It is an
// optimisation only: the store's feed says what changed and its state
// record which announcement holds the slot; a handed announcement is used
// only if it is that one (same hash), and anything not handed, or handed
// and dropped, is read from the store.
type handed struct {
	// mu guards slots and bytes.
	mu    sync.Mutex
	slots map[docKey]*protocol.Signed
	bytes int
	// used counts handed announcements indexed without a store read.
	used atomic.Uint64
}

// put keeps sg for its slot, replacing an older one.
func (h *handed) put(sg *protocol.Signed) {
	ann := sg.Announcement()
	k := docKey{ann.Publisher, ann.Slot()}
	size := len(sg.Envelope())
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.slots[k]; old != nil {
		h.bytes -= len(old.Envelope())
		delete(h.slots, k)
	}
	if h.bytes+size > handBudget {
		return
	}
	if h.slots == nil {
		h.slots = map[docKey]*protocol.Signed{}
	}
	h.slots[k] = sg
	h.bytes += size
}

// take removes and returns what was handed for k, or nil.
func (h *handed) take(k docKey) *protocol.Signed {
	h.mu.Lock()
	defer h.mu.Unlock()
	sg := h.slots[k]
	if sg != nil {
		h.bytes -= len(sg.Envelope())
		delete(h.slots, k)
	}
	return sg
}

// clear drops everything handed.
func (h *handed) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slots, h.bytes = nil, 0
}

// Applied hands the index announcements the store has just applied, as
// decoded values, and wakes the follower (as Notify does). The follower
// then indexes them without decoding them again from the store, as long
// as each is still its slot's state when the follower gets there; the
// store's change feed stays the truth of what changed, and whatever the
// index was not handed (after a restart, say) is read from the store.
// Profiles are ignored. It never blocks on the follower; the index keeps
// the announcements, which must not be modified, until it has used them.
func (ix *Index) Applied(sgs ...*protocol.Signed) {
	for _, sg := range sgs {
		if sg.Announcement().Kind != protocol.KindProfile {
			ix.handed.put(sg)
		}
	}
	ix.notify()
}
