package node

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Query parameters of GET /api/v1/practices, and the paging cursor.

// listQuery is a parsed GET /api/v1/practices query.
type listQuery struct {
	publisher peer.ID
	id        string
	kinds     []protocol.Kind
	limit     int
	// afterPub and afterSlot name the last record of the previous page.
	afterPub  peer.ID
	afterSlot string
}

func parseListQuery(q url.Values, self peer.ID) (listQuery, error) {
	lq := listQuery{kinds: []protocol.Kind{protocol.KindPractice}, limit: defaultListLimit}
	if err := onlyParams(q, "publisher", "mine", "id", "retracted", "limit", "after"); err != nil {
		return lq, err
	}
	if s := q.Get("publisher"); s != "" {
		p, err := peer.Decode(s)
		if err != nil {
			return lq, fmt.Errorf("publisher %q is not a peer ID; give one as printed by khantara status or peers", s)
		}
		lq.publisher = p
	}
	mine, err := boolParam(q, "mine")
	if err != nil {
		return lq, err
	}
	if mine {
		if lq.publisher != "" && lq.publisher != self {
			return lq, errors.New("mine=1 and publisher name different publishers; give one of them")
		}
		lq.publisher = self
	}
	lq.id = q.Get("id")
	switch retracted, err := boolParam(q, "retracted"); {
	case err != nil:
		return lq, err
	case retracted:
		lq.kinds = append(lq.kinds, protocol.KindRetract)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			return lq, fmt.Errorf("limit %q must be a whole number from 1 to %d", s, maxListLimit)
		}
		lq.limit = n
	}
	if s := q.Get("after"); s != "" {
		pub, slot, ok := decodeCursor(s)
		switch {
		case !ok:
			return lq, fmt.Errorf("after %q is not the next value of a previous page; start again without after", s)
		case lq.publisher != "" && pub != lq.publisher, lq.id != "" && slot != lq.id:
			return lq, errors.New("after comes from a listing with other filters; keep the filters of the first page")
		}
		lq.afterPub, lq.afterSlot = pub, slot
	}
	return lq, nil
}

// encodeCursor returns the after= value that resumes a listing after rec:
// base64url of "<publisher>/<slot>", opaque to clients.
func encodeCursor(rec *store.Record) string {
	ann := rec.Announcement()
	return base64.RawURLEncoding.EncodeToString([]byte(ann.Publisher.String() + "/" + ann.Slot()))
}

func decodeCursor(s string) (peer.ID, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", "", false
	}
	pubText, slot, ok := strings.Cut(string(b), "/")
	pub, err := peer.Decode(pubText)
	return pub, slot, ok && err == nil && slot != ""
}

// onlyParams refuses a query naming other parameters than allowed, so a
// misspelt filter is not silently ignored.
func onlyParams(q url.Values, allowed ...string) error {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown query parameter %q; this route takes %s", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// boolParam reads an optional flag: absent, "", 0 or false are off; 1 or
// true are on.
func boolParam(q url.Values, name string) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s=%q must be 1 or 0", name, s)
	}
	return v, nil
}
