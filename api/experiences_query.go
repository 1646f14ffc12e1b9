package api

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Query parameters of GET /api/v1/experiences.

// experienceQuery is a parsed GET /api/v1/experiences query.
type experienceQuery struct {
	// about and aboutID name the practice the records are about; both
	// empty for every practice.
	about   peer.ID
	aboutID string
	author  peer.ID
	typ     protocol.ExperienceType
	limit   int
	// afterPub and afterSlot name the last record of the previous page.
	afterPub  peer.ID
	afterSlot string
}

// experienceParams are the parameters of GET /api/v1/experiences, each
// single.
var experienceParams = []string{"publisher", "id", "author", "type", "mine", "limit", "after"}

// parseExperienceQuery parses the raw query of GET /api/v1/experiences;
// self is the node's publisher ID (mine=1).
func parseExperienceQuery(raw string, self peer.ID) (experienceQuery, error) {
	eq := experienceQuery{limit: defaultListLimit}
	q, err := strictQuery(raw, experienceParams...)
	if err != nil {
		return eq, err
	}
	if err := onlyParams(q, experienceParams...); err != nil {
		return eq, err
	}
	switch pub, id := q.Get("publisher"), q.Get("id"); {
	case pub == "" && id == "":
	case pub == "" || id == "":
		return eq, errors.New("publisher and id name the practice the records are about together; give both, or neither for every practice")
	default:
		if eq.about, err = practiceRef(pub, id); err != nil {
			return eq, err
		}
		eq.aboutID = id
	}
	if s := q.Get("author"); s != "" {
		if eq.author, err = publisherParam("author", s); err != nil {
			return eq, err
		}
	}
	mine, err := boolParam(q, "mine")
	if err != nil {
		return eq, err
	}
	if mine {
		if eq.author != "" && eq.author != self {
			return eq, errors.New("mine=1 and author name different publishers; give one of them")
		}
		eq.author = self
	}
	if s := q.Get("type"); s != "" {
		if !slices.Contains(protocol.ExperienceTypes, s) {
			return eq, fmt.Errorf("type %s must be one of %s", quoteShort(s), strings.Join(protocol.ExperienceTypes, ", "))
		}
		eq.typ = protocol.ExperienceType(s)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			return eq, fmt.Errorf("limit %s must be a whole number from 1 to %d", quoteShort(s), maxListLimit)
		}
		eq.limit = n
	}
	if s := q.Get("after"); s != "" {
		pub, slot, ok := decodeCursor(s)
		switch {
		case !ok || !protocol.IsExperienceSlot(slot):
			return eq, fmt.Errorf("after %s is not the next value of a previous page; start again without after", quoteShort(s))
		case eq.author != "" && pub != eq.author:
			return eq, errors.New("after comes from a listing with other filters; keep the filters of the first page")
		}
		eq.afterPub, eq.afterSlot = pub, slot
	}
	return eq, nil
}

// publisherParam decodes the peer ID in parameter name.
func publisherParam(name, s string) (peer.ID, error) {
	p, err := protocol.DecodeID(s)
	if err != nil || !(protocol.IsKey(p) || protocol.IsOrg(p)) {
		return "", fmt.Errorf("%s %s is not a publisher ID; give one as printed by khantara status or list", name, quoteShort(s))
	}
	return p, nil
}

// practiceRef decodes the publisher of the practice (pubText, id) and
// checks that id is a practice ID.
func practiceRef(pubText, id string) (peer.ID, error) {
	pub, err := publisherParam("publisher", pubText)
	if err != nil {
		return "", err
	}
	// A practice ID is what an endorsement's slot takes after the
	// publisher (PROTOCOL.md 13.3), so the protocol's parser checks it.
	if _, _, ok := protocol.ParseEndorsementSlot(protocol.EndorsementSlot(pub, id)); !ok {
		return "", fmt.Errorf("id %s is not a practice ID: 3-64 characters of a-z, 0-9 and '-'", quoteShort(id))
	}
	return pub, nil
}

// afterCursor reports whether the record (pub, slot) comes after the
// cursor (afterPub, afterSlot) in listing order (publisher as
// protocol.ComparePublishers, then slot bytes); true without a cursor.
func afterCursor(pub peer.ID, slot string, afterPub peer.ID, afterSlot string) bool {
	if afterPub == "" {
		return true
	}
	if c := protocol.ComparePublishers(pub, afterPub); c != 0 {
		return c > 0
	}
	return slot > afterSlot
}
