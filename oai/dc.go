package oai

import (
	"cmp"
	"encoding/xml"
	"maps"
	"slices"
	"strconv"

	"github.com/khantara/khantara/protocol"
)

// dcRecord is an <oai_dc:dc> element: unqualified Dublin Core in the
// container the OAI-PMH defines for it.
type dcRecord struct {
	XmlnsOAIDC     string      `xml:"xmlns:oai_dc,attr"`
	XmlnsDC        string      `xml:"xmlns:dc,attr"`
	XmlnsXSI       string      `xml:"xmlns:xsi,attr"`
	SchemaLocation string      `xml:"xsi:schemaLocation,attr"`
	Elements       []dcElement `xml:",any"`
}

// dcElement is one Dublin Core element; XMLName.Local is "dc:<name>".
type dcElement struct {
	XMLName xml.Name
	Lang    string `xml:"xml:lang,attr,omitempty"`
	Value   string `xml:",chardata"`
}

func newDC() *dcRecord {
	return &dcRecord{
		XmlnsOAIDC:     nsOAIDC,
		XmlnsDC:        nsDC,
		XmlnsXSI:       nsXSI,
		SchemaLocation: nsOAIDC + " " + schemaOAIDC,
	}
}

// add appends one element per value, skipping empty values and values the
// record already has (a tag that repeats an issue code, say).
func (d *dcRecord) add(name, lang string, values ...string) {
	for _, v := range values {
		e := dcElement{XMLName: xml.Name{Local: "dc:" + name}, Lang: lang, Value: v}
		if v != "" && !slices.Contains(d.Elements, e) {
			d.Elements = append(d.Elements, e)
		}
	}
}

// sheetDC maps a fact sheet to Dublin Core as doc.go documents.
// publisherName is the publisher's profile name, or "" without a profile.
func sheetDC(identifier string, s *protocol.FactSheet, publisherName string) *dcRecord {
	d := newDC()
	langs := slices.Sorted(maps.Keys(s.Translations))

	d.add("title", s.Language, s.Title)
	for _, l := range langs {
		d.add("title", l, s.Translations[l].Title)
	}
	d.add("creator", "", s.Organiser)
	d.add("publisher", "", cmp.Or(publisherName, s.Organiser))
	if s.Partners != nil {
		d.add("contributor", "", s.Partners.Names...)
	}
	d.add("subject", "", s.Dimensions...)
	d.add("subject", "", s.Issues...)
	d.add("subject", "", s.Tags...)
	d.add("description", s.Language, s.Summary, s.Objective)
	for _, l := range langs {
		t := s.Translations[l]
		d.add("description", l, t.Summary, t.Objective)
	}
	if s.StartYear != 0 {
		d.add("date", "", strconv.Itoa(s.StartYear))
	}
	d.add("type", "", "Text", "practice")
	d.add("identifier", "", identifier)
	d.add("language", "", s.Language)
	d.add("language", "", langs...)
	for _, l := range s.Links {
		d.add("relation", "", l.URL)
	}
	if s.Contact != nil {
		d.add("relation", "", s.Contact.Website)
	}
	d.add("coverage", "", s.Country, s.Region, s.City, years(s))
	return d
}

// years renders the period of a practice for dc:coverage: an ISO 8601
// interval, ".." standing for an open end.
func years(s *protocol.FactSheet) string {
	switch {
	case s.StartYear == 0:
		return ""
	case s.EndYear != 0:
		return strconv.Itoa(s.StartYear) + "/" + strconv.Itoa(s.EndYear)
	case s.Ongoing:
		return strconv.Itoa(s.StartYear) + "/.."
	}
	return strconv.Itoa(s.StartYear)
}

// profileDC describes a publisher for a setDescription.
func profileDC(p *protocol.Profile) *dcRecord {
	d := newDC()
	d.add("title", "", p.Name)
	d.add("description", "", p.Description)
	d.add("type", "", p.Level)
	d.add("coverage", "", p.Country)
	d.add("language", "", p.Languages...)
	d.add("relation", "", p.Website)
	return d
}
