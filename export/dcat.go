package export

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/text/language"
)

// Vocabularies of the DCAT export.
const (
	nsDCAT  = "http://www.w3.org/ns/dcat#"
	nsDCT   = "http://purl.org/dc/terms/"
	nsFOAF  = "http://xmlns.com/foaf/0.1/"
	nsXSD   = "http://www.w3.org/2001/XMLSchema#"
	nsVCard = "http://www.w3.org/2006/vcard/ns#"
	nsPROV  = "http://www.w3.org/ns/prov#"

	// languageBase is the EU Language authority table (ISO 639-3 codes,
	// upper case), which DCAT-AP uses for dct:language.
	languageBase = "http://publications.europa.eu/resource/authority/language/"
	// themeTaxonomy and themeSociety are the EU data themes and the one
	// every practice falls under, "Population and society".
	themeTaxonomy = "http://publications.europa.eu/resource/authority/data-theme"
	themeSociety  = themeTaxonomy + "/SOCI"
	// fileTypeJSON and mediaTypeJSON describe the JSON distribution.
	fileTypeJSON  = "http://publications.europa.eu/resource/authority/file-type/JSON"
	mediaTypeJSON = "https://www.iana.org/assignments/media-types/application/json"
)

// Defaults of Catalog.
const (
	// DefaultCatalogTitle is the title of a Catalog without one.
	DefaultCatalogTitle = "Khantara catalogue of migrant-integration practices"
	// DefaultCatalogDescription is the description of a Catalog without one.
	DefaultCatalogDescription = "Integration practices for migrants published by local and regional authorities " +
		"on the Khantara network, each a signed fact sheet, as replicated by one node."
	// DefaultCatalogLanguage is the language of the default title and description.
	DefaultCatalogLanguage = "en"
)

// Catalog describes the exporting node's catalogue for DCAT.
type Catalog struct {
	// NodeID is the exporting node's peer ID: the catalogue's publisher.
	// Required.
	NodeID peer.ID
	// Title and Description describe the catalogue; empty means
	// DefaultCatalogTitle and DefaultCatalogDescription.
	Title, Description string
	// Language is the BCP 47 tag of Title and Description; empty means
	// DefaultCatalogLanguage.
	Language string
	// Homepage is a web page about the catalogue (foaf:homepage), an
	// absolute http(s) URL; optional.
	Homepage string
	// APIURL is where the catalogue's readers reach the node's HTTP API, as
	// an absolute http(s) URL without the /api/v1 path, such as
	// https://khantara.example.org. When set, each dataset is named by its
	// API URL, APIURL/api/v1/practices/{publisher}/{id}, which is also its
	// distribution's access and download URL; when empty, datasets are
	// named urn:khantara:{publisher}:{id} and distributions have no URL.
	APIURL string
	// Issued is when the catalogue was made (dct:issued); left out when zero.
	Issued time.Time
	// Profiles looks up publishers' profiles for their names, as
	// Options.Profiles does; it may be nil. Without a profile a dataset's
	// publisher is named after the sheet's organiser.
	Profiles func(pub peer.ID) *protocol.Profile
	// Chains looks up organisations' chains for their names, as
	// Options.Chains does; it may be nil.
	Chains Chains
}

// DCAT writes the practices of recs to w as one DCAT-AP catalogue in
// JSON-LD, for open-data portals, and returns the number of practices
// written. The catalogue (dcat:Catalog, published by the exporting node)
// holds one dcat:Dataset per practice:
//
//   - @id: urn:khantara:{publisher}:{id}, or its API URL (Catalog.APIURL);
//     dct:identifier is always the URN
//   - dct:title, dct:description (summary, else objective): in the sheet's
//     language and in each translation's, as {"@value", "@language"}
//   - dct:language: the EU Language authority URIs of those languages
//   - dct:publisher: a foaf:Agent, urn:khantara:{publisher}, named by the
//     organisation's operations (an organisation, Catalog.Chains) or by
//     the publisher's profile; without either, an agent without @id named
//     by the organiser
//   - prov:wasAttributedTo: urn:khantara:{signer}, the key that signed the
//     record (the publisher itself for a plain publisher, a delegate of
//     an organisation otherwise)
//   - dcat:contactPoint: the sheet's organisation-level contact, as vcard
//   - dct:spatial: the EU Country authority URI of the country (CountryURI)
//   - dct:temporal: a dct:PeriodOfTime with dcat:startDate and
//     dcat:endDate as xsd:gYear
//   - dcat:keyword: the tags, dimension codes and issue codes
//   - dcat:theme: the EU data theme SOCI (population and society)
//   - dct:modified: the publisher's signed time
//   - dcat:landingPage: the first link, else the contact website
//   - dcat:distribution: the fact sheet as JSON (application/json), with
//     access and download URL when Catalog.APIURL is set
//
// The output is streamed: the catalogue's members, then the datasets one
// per line, then the closing brackets, through a buffer flushed before DCAT
// returns. An error from recs aborts the export and is returned as is,
// leaving the JSON unterminated.
func DCAT(w io.Writer, recs Source, cat Catalog) (int, error) {
	if err := cat.check(); err != nil {
		return 0, err
	}
	head, err := json.Marshal(cat.head(), json.Deterministic(true))
	if err != nil {
		return 0, fmt.Errorf("write DCAT: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:len(head)-1]) // the catalogue object, left open; errors stick in bw
	bw.WriteString(`,"dcat:dataset":[`)
	sep := "\n"
	n, err := eachPractice(recs, func(rec *store.Record, a *protocol.Announcement) error {
		b, err := json.Marshal(cat.dataset(rec.Signed.Signer(), a), json.Deterministic(true))
		if err != nil {
			return fmt.Errorf("write DCAT: practice %s/%s: %w", a.Publisher, a.Practice.ID, err)
		}
		bw.WriteString(sep)
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("write DCAT: %w", err)
		}
		sep = ",\n"
		return nil
	})
	if err == nil {
		bw.WriteString("\n]}\n")
	}
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write DCAT: %w", ferr)
	}
	return n, err
}

// check validates the catalogue description; errors name the field.
func (c *Catalog) check() error {
	if c.NodeID == "" {
		return errors.New("DCAT catalog: NodeID is required: set it to the exporting node's peer ID")
	}
	if _, err := peer.IDFromBytes([]byte(c.NodeID)); err != nil {
		return fmt.Errorf("DCAT catalog: NodeID is not a peer ID: %w", err)
	}
	if c.Language != "" {
		if t, err := language.Parse(c.Language); err != nil || t.String() != c.Language {
			return fmt.Errorf("DCAT catalog: Language %q is not a canonical BCP 47 tag such as en or pt-BR", c.Language)
		}
	}
	for _, f := range []struct{ name, url string }{{"Homepage", c.Homepage}, {"APIURL", c.APIURL}} {
		if f.url == "" {
			continue
		}
		if u, err := url.Parse(f.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("DCAT catalog: %s %q is not an absolute http or https URL", f.name, f.url)
		}
	}
	return nil
}

// JSON-LD shapes of the DCAT export. Member order is output order.
type (
	dcatContext struct {
		DCAT  string `json:"dcat"`
		DCT   string `json:"dct"`
		FOAF  string `json:"foaf"`
		XSD   string `json:"xsd"`
		VCard string `json:"vcard"`
		PROV  string `json:"prov"`
	}
	// ref is a node reference, {"@id": IRI}.
	ref struct {
		ID string `json:"@id"`
	}
	// langString is a language-tagged string.
	langString struct {
		Value    string `json:"@value"`
		Language string `json:"@language"`
	}
	// typed is a typed literal such as {"@value": "2008", "@type": "xsd:gYear"}.
	typed struct {
		Value string `json:"@value"`
		Type  string `json:"@type"`
	}
	agent struct {
		ID       string `json:"@id,omitempty"`
		Type     string `json:"@type"`
		Name     string `json:"foaf:name"`
		Homepage *ref   `json:"foaf:homepage,omitempty"`
	}
	catalogHead struct {
		Context       dcatContext `json:"@context"`
		ID            string      `json:"@id"`
		Type          string      `json:"@type"`
		Title         langString  `json:"dct:title"`
		Description   langString  `json:"dct:description"`
		Publisher     agent       `json:"dct:publisher"`
		Language      []ref       `json:"dct:language"`
		Homepage      *ref        `json:"foaf:homepage,omitempty"`
		Issued        *typed      `json:"dct:issued,omitempty"`
		ThemeTaxonomy ref         `json:"dcat:themeTaxonomy"`
	}
	dataset struct {
		ID           string         `json:"@id"`
		Type         string         `json:"@type"`
		Identifier   string         `json:"dct:identifier"`
		Title        []langString   `json:"dct:title"`
		Description  []langString   `json:"dct:description,omitempty"`
		Language     []ref          `json:"dct:language"`
		Publisher    agent          `json:"dct:publisher"`
		SignedBy     ref            `json:"prov:wasAttributedTo"`
		ContactPoint *contactPoint  `json:"dcat:contactPoint,omitempty"`
		Spatial      *ref           `json:"dct:spatial,omitempty"`
		Temporal     *periodOfTime  `json:"dct:temporal,omitempty"`
		Keyword      []string       `json:"dcat:keyword,omitempty"`
		Theme        ref            `json:"dcat:theme"`
		Modified     typed          `json:"dct:modified"`
		LandingPage  *ref           `json:"dcat:landingPage,omitempty"`
		Distribution []distribution `json:"dcat:distribution"`
	}
	contactPoint struct {
		Type  string `json:"@type"`
		Name  string `json:"vcard:fn"`
		Unit  string `json:"vcard:organization-unit,omitempty"`
		Email *ref   `json:"vcard:hasEmail,omitempty"`
		URL   *ref   `json:"vcard:hasURL,omitempty"`
	}
	periodOfTime struct {
		Type  string `json:"@type"`
		Start *typed `json:"dcat:startDate,omitempty"`
		End   *typed `json:"dcat:endDate,omitempty"`
	}
	distribution struct {
		Type        string     `json:"@type"`
		Title       langString `json:"dct:title"`
		Format      ref        `json:"dct:format"`
		MediaType   ref        `json:"dcat:mediaType"`
		AccessURL   *ref       `json:"dcat:accessURL,omitempty"`
		DownloadURL *ref       `json:"dcat:downloadURL,omitempty"`
	}
)

// head returns the catalogue's own members.
func (c *Catalog) head() catalogHead {
	lang := cmp.Or(c.Language, DefaultCatalogLanguage)
	name := "Khantara node " + c.NodeID.String()
	var home *ref
	if p := profile(c.Profiles, c.NodeID); p != nil {
		name = p.Name
		home = optRef(p.Website)
	}
	h := catalogHead{
		Context: dcatContext{DCAT: nsDCAT, DCT: nsDCT, FOAF: nsFOAF, XSD: nsXSD, VCard: nsVCard, PROV: nsPROV},
		// "_catalog" cannot be a practice ID, so this never names a dataset.
		ID:            "urn:khantara:" + c.NodeID.String() + ":_catalog",
		Type:          "dcat:Catalog",
		Title:         langString{cmp.Or(c.Title, DefaultCatalogTitle), lang},
		Description:   langString{cmp.Or(c.Description, DefaultCatalogDescription), lang},
		Publisher:     agent{ID: agentURN(c.NodeID), Type: "foaf:Agent", Name: name, Homepage: home},
		Language:      languageRefs(lang),
		Homepage:      optRef(c.Homepage),
		ThemeTaxonomy: ref{themeTaxonomy},
	}
	if !c.Issued.IsZero() {
		h.Issued = dateTime(c.Issued)
	}
	return h
}

// dataset describes one practice.
func (c *Catalog) dataset(signer peer.ID, a *protocol.Announcement) dataset {
	s := a.Practice
	urn := "urn:khantara:" + a.Publisher.String() + ":" + s.ID
	d := dataset{
		ID:         urn,
		Type:       "dcat:Dataset",
		Identifier: urn,
		Title:      []langString{{s.Title, s.Language}},
		Theme:      ref{themeSociety},
		Modified:   *dateTime(a.Time),
		SignedBy:   ref{agentURN(signer)},
	}
	if desc := cmp.Or(s.Summary, s.Objective); desc != "" {
		d.Description = append(d.Description, langString{desc, s.Language})
	}
	langs := []string{s.Language}
	for _, tag := range slices.Sorted(maps.Keys(s.Translations)) {
		tr := s.Translations[tag]
		langs = append(langs, tag)
		d.Title = append(d.Title, langString{tr.Title, tag})
		if desc := cmp.Or(tr.Summary, tr.Objective); desc != "" {
			d.Description = append(d.Description, langString{desc, tag})
		}
	}
	d.Language = languageRefs(langs...)

	d.Publisher = c.publisher(a.Publisher, s)
	if ct := s.Contact; ct != nil {
		cp := &contactPoint{Type: "vcard:Organization", Name: cmp.Or(ct.Organisation, ct.Unit, s.Organiser), URL: optRef(ct.Website)}
		if ct.Unit != cp.Name {
			cp.Unit = ct.Unit
		}
		if ct.Email != "" {
			cp.Email = &ref{"mailto:" + ct.Email}
		}
		d.ContactPoint = cp
	}
	d.Spatial = optRef(CountryURI(s.Country))
	if s.StartYear != 0 || s.EndYear != 0 {
		d.Temporal = &periodOfTime{Type: "dct:PeriodOfTime", Start: gYear(s.StartYear), End: gYear(s.EndYear)}
	}
	d.Keyword = keywords(s)
	if len(s.Links) > 0 {
		d.LandingPage = optRef(s.Links[0].URL)
	} else if s.Contact != nil {
		d.LandingPage = optRef(s.Contact.Website)
	}
	dist := distribution{
		Type:      "dcat:Distribution",
		Title:     langString{"Fact sheet (JSON)", "en"},
		Format:    ref{fileTypeJSON},
		MediaType: ref{mediaTypeJSON},
	}
	if c.APIURL != "" {
		u := strings.TrimRight(c.APIURL, "/") + "/api/v1/practices/" + url.PathEscape(a.Publisher.String()) + "/" + url.PathEscape(s.ID)
		d.ID = u
		dist.AccessURL, dist.DownloadURL = &ref{u}, &ref{u}
	}
	d.Distribution = []distribution{dist}
	return d
}

// publisher is the dct:publisher of a practice of pub.
func (c *Catalog) publisher(pub peer.ID, s *protocol.FactSheet) agent {
	p := profile(c.Profiles, pub)
	name := publisherName(c.Profiles, c.Chains, pub)
	if name == "" {
		return agent{Type: "foaf:Agent", Name: s.Organiser}
	}
	ag := agent{ID: agentURN(pub), Type: "foaf:Agent", Name: name}
	if p != nil {
		ag.Homepage = optRef(p.Website)
	}
	return ag
}

// keywords are the tags, then the dimension and issue codes, without repeats.
func keywords(s *protocol.FactSheet) []string {
	kw := make([]string, 0, len(s.Tags)+len(s.Dimensions)+len(s.Issues))
	for _, group := range [][]string{s.Tags, s.Dimensions, s.Issues} {
		for _, k := range group {
			if !slices.Contains(kw, k) {
				kw = append(kw, k)
			}
		}
	}
	return kw
}

// languageRefs returns the EU Language authority URIs of BCP 47 tags,
// once each, leaving out tags without an ISO 639-3 code.
func languageRefs(tags ...string) []ref {
	var refs []ref
	for _, tag := range tags {
		t, err := language.Parse(tag)
		if err != nil {
			continue
		}
		base, conf := t.Base()
		if conf != language.Exact { // "und" and the like: no language to name
			continue
		}
		r := ref{languageBase + strings.ToUpper(base.ISO3())}
		if !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	return refs
}

func agentURN(pub peer.ID) string { return "urn:khantara:" + pub.String() }

func dateTime(t time.Time) *typed {
	return &typed{t.UTC().Format(time.RFC3339Nano), "xsd:dateTime"}
}

func gYear(y int) *typed {
	if y == 0 {
		return nil
	}
	return &typed{strconv.Itoa(y), "xsd:gYear"}
}

func optRef(iri string) *ref {
	if iri == "" {
		return nil
	}
	return &ref{iri}
}
