package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// listParams are the parameters of GET /api/v1/practices, each single.
var listParams = []string{"publisher", "mine", "id", "retracted", "limit", "after"}

// parseListQuery parses the raw query of GET /api/v1/practices.
func parseListQuery(raw string, self peer.ID) (listQuery, error) {
	lq := listQuery{kinds: []protocol.Kind{protocol.KindPractice}, limit: defaultListLimit}
	q, err := strictQuery(raw, listParams...)
	if err != nil {
		return lq, err
	}
	if err := onlyParams(q, listParams...); err != nil {
		return lq, err
	}
	if s := q.Get("publisher"); s != "" {
		p, err := protocol.DecodeID(s)
		if err != nil {
			return lq, fmt.Errorf("publisher %s is not a peer ID; give one as printed by khantara status or peers", quoteShort(s))
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
			return lq, fmt.Errorf("limit %s must be a whole number from 1 to %d", quoteShort(s), maxListLimit)
		}
		lq.limit = n
	}
	if s := q.Get("after"); s != "" {
		pub, slot, ok := decodeCursor(s)
		switch {
		case !ok:
			return lq, fmt.Errorf("after %s is not the next value of a previous page; start again without after", quoteShort(s))
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
	pub, err := protocol.DecodeID(pubText)
	return pub, slot, ok && err == nil && slot != ""
}

// onlyParams refuses a query naming other parameters than allowed, so a
// misspelt filter is not silently ignored.
func onlyParams(q url.Values, allowed ...string) error {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown query parameter %s; this route takes %s", quoteShort(k), strings.Join(allowed, ", "))
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
		return false, fmt.Errorf("%s=%s must be 1 or 0", name, quoteShort(s))
	}
	return v, nil
}

// strictQuery parses a raw URL query as url.ParseQuery does, but where
// url.Values (and so Request.URL.Query) silently drops a pair with a
// malformed percent escape or a ';', it fails naming the parameter; and a
// parameter named in single given more than once fails too.
func strictQuery(raw string, single ...string) (url.Values, error) {
	v := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("query parameter %s: its name has a malformed percent escape; write %% as %%25", quoteShort(k))
		}
		if strings.Contains(pair, ";") {
			return nil, fmt.Errorf("%s: ';' does not separate query parameters; use '&', and write ';' in a value as %%3B", quoteShort(key))
		}
		value, err := url.QueryUnescape(val)
		if err != nil {
			return nil, fmt.Errorf("%s: the value %s has a malformed percent escape; write %% as %%25", quoteShort(key), quoteShort(val))
		}
		v[key] = append(v[key], value)
	}
	for _, k := range single {
		if n := len(v[k]); n > 1 {
			return nil, fmt.Errorf("%s is given %d times; give it once", k, n)
		}
	}
	return v, nil
}

// maxQuoted is how many characters of a client's text an error message
// quotes.
const maxQuoted = 40

// quoteShort quotes at most maxQuoted characters of s for an error
// message, invalid UTF-8 replaced and control characters escaped, so an
// answer never echoes a long or binary value back.
func quoteShort(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > maxQuoted {
		s = string([]rune(s)[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}
