package api

import (
	"errors"
	"net/http"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Purged is the body answering POST /api/v1/purge.
type Purged struct {
	// Publisher is the publisher whose records were removed, if one was
	// named, and Removed the number of its records.
	Publisher string `json:"publisher,omitempty"`
	Removed   int    `json:"removed"`
	// StillKept is true when the named publisher is not refused by the
	// trust policy, so gossip or sync will bring its records back.
	StillKept bool `json:"still_kept,omitempty"`
	// BytesBefore and BytesAfter are the store directory's size on disk.
	BytesBefore int64 `json:"bytes_before"`
	BytesAfter  int64 `json:"bytes_after"`
	// Reindexed is the number of practices in the rebuilt search index.
	Reindexed int `json:"reindexed"`
	// Seconds is how long the purge took.
	Seconds float64 `json:"seconds"`
}

// purge serves POST /api/v1/purge[?publisher=ID].
func (a *apiHandler) purge(w http.ResponseWriter, r *http.Request) {
	q, err := strictQuery(r.URL.RawQuery, "publisher")
	if err == nil {
		err = onlyParams(q, "publisher")
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var pub peer.ID
	if s := q.Get("publisher"); s != "" {
		id, err := protocol.DecodeID(s)
		if err != nil {
			fail(w, http.StatusBadRequest, "publisher: not a publisher ID (a peer ID such as 12D3KooW...)")
			return
		}
		if id == a.n.ID() {
			fail(w, http.StatusBadRequest, "publisher: that is this node; retract its practices instead")
			return
		}
		pub = id
	}
	res, err := a.n.Purge(r.Context(), pub)
	switch {
	case errors.Is(err, store.ErrNoSpace):
		fail(w, http.StatusInsufficientStorage, "purge needs free space for a copy of the store: %v", err)
		return
	case err != nil:
		a.internal(w, "purge", err)
		return
	}
	out := Purged{Removed: res.Removed, BytesBefore: res.Before, BytesAfter: res.After,
		Reindexed: res.Reindexed, Seconds: res.Took.Seconds()}
	if pub != "" {
		out.Publisher = pub.String()
		out.StillKept = a.n.Keeps(pub)
	}
	writeJSON(w, http.StatusOK, out)
}
