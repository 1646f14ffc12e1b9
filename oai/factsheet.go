package oai

import (
	"encoding/xml"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/khantara/khantara/protocol"
)

// factSheet is the <factsheet> element of the khantara format: the fact
// sheet's JSON wire form as XML (doc.go gives the mapping, schema.go the
// XML Schema). Field order is the schema's sequence.
type factSheet struct {
	Xmlns          string `xml:"xmlns,attr"`
	XmlnsXSI       string `xml:"xmlns:xsi,attr"`
	SchemaLocation string `xml:"xsi:schemaLocation,attr"`
	Publisher      string `xml:"publisher,attr"`
	Seq            uint64 `xml:"seq,attr"`
	Announced      string `xml:"announced,attr"`

	ID               string              `xml:"id"`
	Title            string              `xml:"title"`
	Language         string              `xml:"language"`
	Summary          string              `xml:"summary,omitempty"`
	Translations     list[fsTranslation] `xml:"translations"`
	Country          string              `xml:"country"`
	Region           string              `xml:"region,omitempty"`
	City             string              `xml:"city,omitempty"`
	Organiser        string              `xml:"organiser"`
	StartYear        int                 `xml:"start_year"`
	EndYear          int                 `xml:"end_year,omitempty"`
	Ongoing          bool                `xml:"ongoing,omitempty"`
	DurationYears    string              `xml:"duration_years,omitempty"`
	Context          string              `xml:"context,omitempty"`
	Challenges       string              `xml:"challenges,omitempty"`
	Objective        string              `xml:"objective"`
	Dimensions       list[string]        `xml:"dimensions"`
	Issues           list[string]        `xml:"issues"`
	IssuesText       string              `xml:"issues_text,omitempty"`
	TargetGroups     list[string]        `xml:"target_groups"`
	TargetGroupsText string              `xml:"target_groups_text,omitempty"`
	Assistance       string              `xml:"assistance,omitempty"`
	Activities       string              `xml:"activities,omitempty"`
	StaffTraining    string              `xml:"staff_training,omitempty"`
	Funding          *fsFunding          `xml:"funding,omitempty"`
	Partners         *fsPartners         `xml:"partners,omitempty"`
	Beneficiaries    *int64              `xml:"beneficiaries,omitempty"`
	BeneficiariesTxt string              `xml:"beneficiaries_text,omitempty"`
	Achievement      string              `xml:"achievement,omitempty"`
	Outcomes         string              `xml:"outcomes,omitempty"`
	NationalProg     *bool               `xml:"part_of_national_programme,omitempty"`
	Transferability  *fsTransfer         `xml:"transferability,omitempty"`
	Evaluation       string              `xml:"evaluation,omitempty"`
	EvaluationText   string              `xml:"evaluation_text,omitempty"`
	OtherInformation string              `xml:"other_information,omitempty"`
	Contact          *fsContact          `xml:"contact,omitempty"`
	Links            list[fsLink]        `xml:"links"`
	Tags             list[string]        `xml:"tags"`
}

type fsTranslation struct {
	Language  string `xml:"language,attr"`
	Title     string `xml:"title"`
	Summary   string `xml:"summary,omitempty"`
	Objective string `xml:"objective,omitempty"`
}

type fsFunding struct {
	AmountEUR   *int64       `xml:"amount_eur,omitempty"`
	PeriodYears string       `xml:"period_years,omitempty"`
	Sources     list[string] `xml:"sources"`
	Notes       string       `xml:"notes,omitempty"`
}

type fsPartners struct {
	Types       list[string] `xml:"types"`
	Names       list[string] `xml:"names"`
	Description string       `xml:"description,omitempty"`
}

type fsTransfer struct {
	Replicable *bool  `xml:"replicable,omitempty"`
	Lessons    string `xml:"lessons,omitempty"`
}

type fsContact struct {
	Organisation string `xml:"organisation,omitempty"`
	Unit         string `xml:"unit,omitempty"`
	Email        string `xml:"email,omitempty"`
	Website      string `xml:"website,omitempty"`
}

type fsLink struct {
	Title string `xml:"title,omitempty"`
	URL   string `xml:"url"`
}

// sheetXML maps the practice of a to the khantara format; schemaURL is
// where its XML Schema is served.
func sheetXML(a *protocol.Announcement, schemaURL string) *factSheet {
	s := a.Practice
	f := &factSheet{
		Xmlns:          nsFactSheet,
		XmlnsXSI:       nsXSI,
		SchemaLocation: nsFactSheet + " " + schemaURL,
		Publisher:      a.Publisher.String(),
		Seq:            a.Seq,
		Announced:      a.Time.UTC().Format(time.RFC3339Nano),

		ID: s.ID, Title: s.Title, Language: s.Language, Summary: s.Summary,
		Country: s.Country, Region: s.Region, City: s.City, Organiser: s.Organiser,
		StartYear: s.StartYear, EndYear: s.EndYear, Ongoing: s.Ongoing,
		DurationYears: decimal(s.DurationYears),
		Context:       s.Context, Challenges: s.Challenges, Objective: s.Objective,
		Dimensions: listOf("dimension", s.Dimensions), Issues: listOf("issue", s.Issues), IssuesText: s.IssuesText,
		TargetGroups: listOf("target_group", s.TargetGroups), TargetGroupsText: s.TargetGroupsText,
		Assistance: s.Assistance, Activities: s.Activities, StaffTraining: s.StaffTraining,
		Beneficiaries: s.Beneficiaries, BeneficiariesTxt: s.BeneficiariesText,
		Achievement: s.Achievement, Outcomes: s.Outcomes, NationalProg: s.PartOfNationalProgramme,
		Evaluation: s.Evaluation, EvaluationText: s.EvaluationText, OtherInformation: s.OtherInformation,
		Tags: listOf("tag", s.Tags),
	}
	f.Translations.child = "translation"
	f.Links.child = "link"
	for _, l := range slices.Sorted(maps.Keys(s.Translations)) {
		t := s.Translations[l]
		f.Translations.items = append(f.Translations.items, fsTranslation{Language: l, Title: t.Title, Summary: t.Summary, Objective: t.Objective})
	}
	if s.Funding != nil {
		f.Funding = &fsFunding{AmountEUR: s.Funding.AmountEUR, PeriodYears: decimal(s.Funding.PeriodYears),
			Sources: listOf("source", s.Funding.Sources), Notes: s.Funding.Notes}
	}
	if s.Partners != nil {
		f.Partners = &fsPartners{Types: listOf("type", s.Partners.Types), Names: listOf("name", s.Partners.Names),
			Description: s.Partners.Description}
	}
	if s.Transferability != nil {
		f.Transferability = &fsTransfer{Replicable: s.Transferability.Replicable, Lessons: s.Transferability.Lessons}
	}
	if c := s.Contact; c != nil {
		f.Contact = &fsContact{Organisation: c.Organisation, Unit: c.Unit, Email: c.Email, Website: c.Website}
	}
	for _, l := range s.Links {
		f.Links.items = append(f.Links.items, fsLink{Title: l.Title, URL: l.URL})
	}
	return f
}

// list is an array member: a wrapper element (named by the field) with
// one child element per value, or nothing at all when empty.
type list[T any] struct {
	child string
	items []T
}

func listOf[T any](child string, items []T) list[T] { return list[T]{child: child, items: items} }

// MarshalXML writes the wrapper and its children, or no element when the
// list is empty.
func (l list[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if len(l.items) == 0 {
		return nil
	}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, it := range l.items {
		if err := e.EncodeElement(it, xml.StartElement{Name: xml.Name{Local: l.child}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// decimal renders v as an xs:decimal (never in exponent form); 0 is "".
func decimal(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
