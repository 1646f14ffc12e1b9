package oai

import (
	"errors"
	"net/url"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// list answers ListIdentifiers (records false) and ListRecords.
func (c *call) list(form url.Values, records bool) error {
	resumed := form.Has(argResumptionToken)
	var q listQuery
	if resumed {
		var err error
		if q, err = parseToken(form.Get(argResumptionToken), records); err != nil {
			return err
		}
	} else {
		q = listQuery{records: records, prefix: form.Get(argMetadataPrefix),
			from: form.Get(argFrom), until: form.Get(argUntil), set: form.Get(argSet)}
		if q.set != "" && !setPattern.MatchString(q.set) {
			return errorf(codeBadArgument, "Argument set %s is not a setSpec.", quote(q.set))
		}
	}
	win, err := parseWindow(q.from, q.until)
	if err != nil {
		return err
	}
	if err := checkPrefix(q.prefix); err != nil {
		return err
	}
	noMatch := errorf(codeNoRecordsMatch, "No item matches the request.")
	sel, ok := parseSet(q.set)
	if !ok {
		return noMatch
	}
	if !resumed && win.open() {
		if q.total, err = c.count(sel); err != nil {
			return err
		}
	}

	page, next, err := c.page(q, win, sel)
	if err != nil {
		return err
	}
	if len(page) == 0 {
		return noMatch
	}
	var tok *resumptionToken
	switch {
	case next != "":
		n := q
		n.cursor, n.after = q.cursor+len(page), next
		tok = &resumptionToken{Value: n.token(), Cursor: q.cursor, CompleteListSize: q.total}
	case resumed:
		// The last page: the list is complete, and its size now known.
		tok = &resumptionToken{Cursor: q.cursor, CompleteListSize: q.cursor + len(page)}
	}
	if !records {
		l := &listIdentifiers{Token: tok}
		for _, rec := range page {
			l.Headers = append(l.Headers, headerOf(rec))
		}
		c.resp.ListIdentifiers = l
		return nil
	}
	l := &listRecords{Token: tok}
	for _, rec := range page {
		r, err := c.record(rec, q.prefix)
		if err != nil {
			return err
		}
		l.Records = append(l.Records, r)
	}
	c.resp.ListRecords = l
	return nil
}

// page returns the next items of q's list (at most PageSize) and the
// store cursor to resume after, "" when no item of the list follows. It
// walks the store from q.after, skipping items outside win or sel, and
// looks one item ahead so that the last page is known to be the last;
// the cursor it returns is that of the item before the look-ahead, so
// skipped items are not walked twice.
func (c *call) page(q listQuery, win window, sel selection) ([]*store.Record, string, error) {
	var page []*store.Record
	prev := q.after
	opts := store.ListOptions{Publisher: sel.pub, Kinds: itemKinds, After: q.after}
	if sel.experiences {
		opts = store.ListOptions{Kinds: experienceKinds, ExperienceRetractions: true, After: q.after}
	}
	for rec, err := range c.h.st.List(opts) {
		if err != nil {
			return nil, "", err
		}
		if win.contains(datestamp(rec.ReceivedAt)) && sel.takes(rec) {
			if len(page) == c.h.cfg.PageSize {
				return page, prev, nil
			}
			page = append(page, rec)
		}
		prev = store.Cursor(rec)
	}
	return page, "", nil
}

// takes reports whether an item the store listed for sel is in sel: for
// a type's set, an experience record of that type or a tombstone that
// may have been one (a tombstone keeps no type: that of an endorsement's
// slot was an endorsement, that of an _exp/ slot any other type).
func (sel selection) takes(rec *store.Record) bool {
	if !sel.experiences || sel.typ == "" {
		return true
	}
	a := rec.Announcement()
	if a.Kind == protocol.KindExperience {
		return a.Experience.Type == sel.typ
	}
	endorsement := strings.HasPrefix(rec.Signed.Slot(), protocol.EndorsementSlotPrefix)
	return endorsement == (sel.typ == protocol.ExperienceEndorsement)
}

// count returns the number of items sel selects from the store's
// counters, 0 when they cannot tell (the items of one experience type).
func (c *call) count(sel selection) (int, error) {
	switch {
	case sel.experiences && sel.typ != "":
		return 0, nil
	case sel.experiences:
		n, _, err := c.h.st.Counts()
		return int(n.Experiences + n.RetractedExperiences), err
	case sel.pub == "":
		n, _, err := c.h.st.Counts()
		return int(n.Practices + n.Retracted), err
	}
	p, err := c.h.st.PublisherSummary(sel.pub)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return int(p.Practices + p.Retracted), err
}
