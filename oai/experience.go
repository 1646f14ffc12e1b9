package oai

import (
	"cmp"
	"encoding/xml"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// experienceRecord renders the experience record rec in a format, r
// holding its header.
func (c *call) experienceRecord(r record, rec *store.Record, prefix string) (record, error) {
	a := rec.Announcement()
	switch prefix {
	case prefixOAIDC:
		name, err := c.publisherName(a.Publisher)
		if err != nil {
			return r, err
		}
		about, err := c.practiceTitle(a.Experience.About.Publisher, a.Experience.About.ID)
		if err != nil {
			return r, err
		}
		r.Metadata = &metadata{DC: experienceDC(r.Header.Identifier, a, cmp.Or(name, a.Publisher.String()), about)}
	case prefixKhan:
		r.Metadata = &metadata{Experience: experienceXMLOf(a, rec.Signed.Signer(), rec.Signed.Slot(), c.schemaURL())}
	}
	return r, nil
}

// practiceTitle returns the title of a practice held here, else its ID.
func (c *call) practiceTitle(pub peer.ID, id string) (string, error) {
	rec, err := c.h.st.Get(pub, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return id, nil
	case err != nil:
		return "", err
	}
	if a := rec.Announcement(); a.Kind == protocol.KindPractice && a.Practice != nil {
		return a.Practice.Title, nil
	}
	return id, nil
}

// untitled are the titles given to a record without one (an answer may
// have none, an endorsement never has one), before the title of the
// practice it is about.
var untitled = map[protocol.ExperienceType]string{
	protocol.ExperienceAnswer:      "Answer about: ",
	protocol.ExperienceEndorsement: "Endorsement of: ",
}

// experienceDC maps the experience record of a to Dublin Core as doc.go
// documents. creator is the author's name (or ID), about the title (or
// ID) of the practice the record is about.
func experienceDC(identifier string, a *protocol.Announcement, creator, about string) *dcRecord {
	e := a.Experience
	d := newDC()
	langs := slices.Sorted(maps.Keys(e.Translations))
	if e.Title != "" {
		d.add("title", e.Language, e.Title)
		for _, l := range langs {
			d.add("title", l, e.Translations[l].Title)
		}
	} else {
		d.add("title", "", untitled[e.Type]+about)
	}
	d.add("creator", "", creator)
	d.add("publisher", "", creator)
	d.add("description", e.Language, e.Text, e.Changes, e.Outcomes, e.Worked, e.DidNotWork, e.ForWhom)
	for _, l := range langs {
		d.add("description", l, e.Translations[l].Text)
	}
	d.add("date", "", a.Time.UTC().Format(dayLayout))
	d.add("type", "", "Text", "experience", string(e.Type))
	d.add("identifier", "", identifier)
	d.add("language", "", e.Language)
	d.add("language", "", langs...)
	d.add("relation", "", identifierOf(e.About.Publisher, e.About.ID))
	if !e.InReplyTo.IsZero() {
		d.add("relation", "", identifierOf(e.InReplyTo.Publisher, protocol.ExperienceSlot(e.InReplyTo.ID)))
	}
	if !e.Practice.IsZero() {
		d.add("relation", "", identifierOf(e.Practice.Publisher, e.Practice.ID))
	}
	d.add("coverage", "", e.Country, e.Region, e.City, period(e.StartYear, e.EndYear, e.Ongoing))
	return d
}

// period renders years for dc:coverage as years does for a practice.
func period(start, end int, ongoing bool) string {
	return years(&protocol.FactSheet{StartYear: start, EndYear: end, Ongoing: ongoing})
}

// experienceXML is the <experience> element of the khantara format: the
// record's JSON wire form (PROTOCOL.md 13.2) as XML, member by member in
// the canonical order, the schema's experienceType.
type experienceXML struct {
	XMLName        xml.Name `xml:"experience"`
	Xmlns          string   `xml:"xmlns,attr"`
	XmlnsXSI       string   `xml:"xmlns:xsi,attr"`
	SchemaLocation string   `xml:"xsi:schemaLocation,attr"`
	Publisher      string   `xml:"publisher,attr"`
	Signer         string   `xml:"signer,attr"`
	Seq            uint64   `xml:"seq,attr"`
	Announced      string   `xml:"announced,attr"`
	Slot           string   `xml:"slot,attr"`

	Type         string           `xml:"type"`
	ID           string           `xml:"id,omitempty"`
	About        xmlAbout         `xml:"about"`
	Language     string           `xml:"language"`
	Title        string           `xml:"title,omitempty"`
	Text         string           `xml:"text,omitempty"`
	InReplyTo    *xmlRef          `xml:"in_reply_to,omitempty"`
	Country      string           `xml:"country,omitempty"`
	Region       string           `xml:"region,omitempty"`
	City         string           `xml:"city,omitempty"`
	StartYear    int              `xml:"start_year,omitempty"`
	EndYear      int              `xml:"end_year,omitempty"`
	Ongoing      bool             `xml:"ongoing,omitempty"`
	Changes      string           `xml:"changes,omitempty"`
	Achievement  string           `xml:"achievement,omitempty"`
	Evaluation   string           `xml:"evaluation,omitempty"`
	Outcomes     string           `xml:"outcomes,omitempty"`
	Practice     *xmlRef          `xml:"practice,omitempty"`
	Worked       string           `xml:"worked,omitempty"`
	DidNotWork   string           `xml:"did_not_work,omitempty"`
	ForWhom      string           `xml:"for_whom,omitempty"`
	Translations *xmlExpLanguages `xml:"translations,omitempty"`
}

type xmlAbout struct {
	Publisher string `xml:"publisher"`
	ID        string `xml:"id"`
	Seq       uint64 `xml:"seq,omitempty"`
}

type xmlRef struct {
	Publisher string `xml:"publisher"`
	ID        string `xml:"id"`
}

type xmlExpLanguages struct {
	Translations []xmlExpTranslation `xml:"translation"`
}

type xmlExpTranslation struct {
	Language string `xml:"language,attr"`
	Title    string `xml:"title,omitempty"`
	Text     string `xml:"text,omitempty"`
}

// experienceXMLOf maps the experience record of a, signed by signer, in
// slot, to the khantara format; schemaURL is where its XML Schema is
// served.
func experienceXMLOf(a *protocol.Announcement, signer peer.ID, slot, schemaURL string) *experienceXML {
	e := a.Experience
	x := &experienceXML{
		Xmlns: nsFactSheet, XmlnsXSI: nsXSI, SchemaLocation: nsFactSheet + " " + schemaURL,
		Publisher: a.Publisher.String(), Signer: signer.String(), Seq: a.Seq,
		Announced: a.Time.UTC().Format(time.RFC3339Nano), Slot: slot,
		Type: string(e.Type), ID: e.ID,
		About:    xmlAbout{Publisher: e.About.Publisher.String(), ID: e.About.ID, Seq: e.About.Seq},
		Language: e.Language, Title: e.Title, Text: e.Text,
		Country: e.Country, Region: e.Region, City: e.City,
		StartYear: e.StartYear, EndYear: e.EndYear, Ongoing: e.Ongoing,
		Changes: e.Changes, Achievement: e.Achievement, Evaluation: e.Evaluation, Outcomes: e.Outcomes,
		Worked: e.Worked, DidNotWork: e.DidNotWork, ForWhom: e.ForWhom,
	}
	if !e.InReplyTo.IsZero() {
		x.InReplyTo = &xmlRef{Publisher: e.InReplyTo.Publisher.String(), ID: e.InReplyTo.ID}
	}
	if !e.Practice.IsZero() {
		x.Practice = &xmlRef{Publisher: e.Practice.Publisher.String(), ID: e.Practice.ID}
	}
	if len(e.Translations) > 0 {
		x.Translations = &xmlExpLanguages{}
		for _, l := range slices.Sorted(maps.Keys(e.Translations)) {
			t := e.Translations[l]
			x.Translations.Translations = append(x.Translations.Translations, xmlExpTranslation{Language: l, Title: t.Title, Text: t.Text})
		}
	}
	return x
}
