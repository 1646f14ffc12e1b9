package oai

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// itemKinds are the kinds of announcement that are practice items: a
// practice, or its tombstone. experienceKinds, with
// store.ListOptions.ExperienceRetractions, list the experience items: an
// experience record, or the tombstone of its slot.
var (
	itemKinds       = []protocol.Kind{protocol.KindPractice, protocol.KindRetract}
	experienceKinds = []protocol.Kind{protocol.KindExperience}
)

func (c *call) identify() error {
	earliest, err := c.h.earliestDatestamp(c.now)
	if err != nil {
		return err
	}
	c.resp.Identify = &identify{
		RepositoryName:    c.h.cfg.RepositoryName,
		BaseURL:           c.baseURL,
		ProtocolVersion:   protocolVers,
		AdminEmail:        []string{c.h.cfg.AdminEmail},
		EarliestDatestamp: earliest.Format(timeLayout),
		DeletedRecord:     "persistent",
		Granularity:       granularity,
		Description: []description{{Repository: &repositoryDescription{
			Xmlns:            nsFactSheet,
			XmlnsXSI:         nsXSI,
			SchemaLocation:   nsFactSheet + " " + c.schemaURL(),
			Node:             c.h.cfg.NodeID,
			IdentifierFormat: identifierScheme + "<publisher ID>:<practice id, or experience slot>",
		}}},
	}
	return nil
}

// earliestDatestamp returns the lowest datestamp of any item, or now
// (truncated to seconds) while there is none. The first value found is
// kept: it stays a lower bound, as datestamps only grow.
func (h *handler) earliestDatestamp(now time.Time) (time.Time, error) {
	h.mu.Lock()
	e := h.earliest
	h.mu.Unlock()
	if !e.IsZero() {
		return e, nil
	}
	all := store.ListOptions{Kinds: append(slices.Clone(itemKinds), experienceKinds...), ExperienceRetractions: true}
	for rec, err := range h.st.List(all) {
		if err != nil {
			return time.Time{}, err
		}
		if d := datestamp(rec.ReceivedAt); e.IsZero() || d.Before(e) {
			e = d
		}
	}
	if e.IsZero() {
		return now.Truncate(time.Second), nil
	}
	h.mu.Lock()
	h.earliest = e
	h.mu.Unlock()
	return e, nil
}

func (c *call) listMetadataFormats(identifier string) error {
	if identifier != "" {
		if _, err := c.item(identifier); err != nil {
			return err
		}
	}
	c.resp.ListMetadataFormats = &listMetadataFormats{Formats: []metadataFormat{
		{Prefix: prefixOAIDC, Schema: schemaOAIDC, Namespace: nsOAIDC},
		{Prefix: prefixKhan, Schema: c.schemaURL(), Namespace: nsFactSheet},
	}}
	return nil
}

func (c *call) listSets(token string) error {
	if token != "" {
		return errorf(codeBadResumptionToken, "ListSets answers in one response; this repository issued no resumption token for it.")
	}
	sets := []set{{Spec: setAll, Name: "All publishers"}}
	experiences := false
	for p, err := range c.h.st.Publishers() {
		if err != nil {
			return err
		}
		experiences = experiences || p.Experiences+p.RetractedExperiences > 0
		if p.Practices+p.Retracted == 0 {
			continue
		}
		prof, err := c.profile(p.ID)
		if err != nil {
			return err
		}
		s := set{Spec: setOf(p.ID), Name: cmp.Or(c.orgName(p.ID), p.ID.String())}
		if prof != nil {
			s.Name = cmp.Or(c.orgName(p.ID), prof.Name, s.Name)
			s.Description = []description{{DC: profileDC(prof)}}
		}
		sets = append(sets, s)
	}
	if experiences {
		sets = append(sets, set{Spec: setExperiences, Name: "Experience records: adaptations, lessons, questions, answers and endorsements"})
		for _, t := range protocol.ExperienceTypes {
			sets = append(sets, set{Spec: typeSet(protocol.ExperienceType(t)), Name: "Experience records: " + typeNames[t]})
		}
	}
	c.resp.ListSets = &listSets{Sets: sets}
	return nil
}

// typeNames names the experience types' sets.
var typeNames = map[string]string{
	string(protocol.ExperienceAdaptation):  "adaptations",
	string(protocol.ExperienceLesson):      "lessons",
	string(protocol.ExperienceQuestion):    "questions",
	string(protocol.ExperienceAnswer):      "answers",
	string(protocol.ExperienceEndorsement): "endorsements",
}

func (c *call) getRecord(identifier, prefix string) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	rec, err := c.item(identifier)
	if err != nil {
		return err
	}
	r, err := c.record(rec, prefix)
	if err != nil {
		return err
	}
	c.resp.GetRecord = &getRecord{Record: r}
	return nil
}

// item returns the record of an item, or idDoesNotExist.
func (c *call) item(identifier string) (*store.Record, error) {
	missing := errorf(codeIDDoesNotExist, "No item has the identifier %s.", quote(identifier))
	pub, slot, ok := parseIdentifier(identifier)
	if !ok {
		return nil, missing
	}
	rec, err := c.h.st.Get(pub, slot)
	if errors.Is(err, store.ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	want := protocol.KindPractice
	if protocol.IsExperienceSlot(slot) {
		want = protocol.KindExperience
	}
	if k := rec.Announcement().Kind; k != want && k != protocol.KindRetract {
		return nil, missing
	}
	return rec, nil
}

// headerOf is an item's header. Its set is the leaf set that holds it:
// publisher:<ID> for a practice, experiences:<type> for an experience
// record, experiences for the tombstone of an _exp/ slot (it keeps no
// type) and experiences:endorsement for that of an endorsement's slot.
func headerOf(rec *store.Record) header {
	a := rec.Announcement()
	slot := rec.Signed.Slot()
	h := header{
		Identifier: identifierOf(a.Publisher, slot),
		Datestamp:  datestamp(rec.ReceivedAt).Format(timeLayout),
		SetSpecs:   []string{setOf(a.Publisher)},
	}
	switch {
	case a.Kind == protocol.KindExperience:
		h.SetSpecs = []string{typeSet(a.Experience.Type)}
	case strings.HasPrefix(slot, protocol.EndorsementSlotPrefix):
		h.SetSpecs = []string{typeSet(protocol.ExperienceEndorsement)}
	case protocol.IsExperienceSlot(slot):
		h.SetSpecs = []string{setExperiences}
	}
	if a.Kind == protocol.KindRetract {
		h.Status = "deleted"
	}
	return h
}

// record renders an item in a format; a deleted one has no metadata.
func (c *call) record(rec *store.Record, prefix string) (record, error) {
	r := record{Header: headerOf(rec)}
	a := rec.Announcement()
	if a.Kind == protocol.KindExperience && a.Experience != nil {
		return c.experienceRecord(r, rec, prefix)
	}
	if a.Kind != protocol.KindPractice || a.Practice == nil {
		return r, nil
	}
	switch prefix {
	case prefixOAIDC:
		name, err := c.publisherName(a.Publisher)
		if err != nil {
			return r, err
		}
		r.Metadata = &metadata{DC: sheetDC(r.Header.Identifier, a.Practice, name)}
	case prefixKhan:
		r.Metadata = &metadata{FactSheet: sheetXML(a, rec.Signed.Signer(), c.schemaURL())}
	}
	return r, nil
}

// publisherName is the name of a publisher: its organisation's, else its
// profile's, else "".
func (c *call) publisherName(pub peer.ID) (string, error) {
	prof, err := c.profile(pub)
	if err != nil {
		return "", err
	}
	name := c.orgName(pub)
	if name == "" && prof != nil {
		name = prof.Name
	}
	return name, nil
}

// orgName returns the name an organisation's operations give it, or ""
// for a plain publisher, an organisation whose chain is not known, or
// without Config.Chains. A failed look-up is logged and reads as "".
func (c *call) orgName(pub peer.ID) string {
	if c.h.cfg.Chains == nil || !protocol.IsOrg(pub) {
		return ""
	}
	ch, err := c.h.cfg.Chains(pub)
	if err != nil {
		c.h.cfg.Logger.Warn("Reading an organisation's chain failed.", "org", pub, "err", err)
		return ""
	}
	if ch == nil || !ch.Known() {
		return ""
	}
	return ch.Name()
}

// profile returns a publisher's profile, nil if it has none, looked up
// once per response.
func (c *call) profile(pub peer.ID) (*protocol.Profile, error) {
	if p, ok := c.profiles[pub]; ok {
		return p, nil
	}
	var p *protocol.Profile
	rec, err := c.h.st.Get(pub, protocol.ProfileSlot)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case rec.Announcement().Kind == protocol.KindProfile:
		p = rec.Announcement().Profile
	}
	if c.profiles == nil {
		c.profiles = map[peer.ID]*protocol.Profile{}
	}
	c.profiles[pub] = p
	return p, nil
}
