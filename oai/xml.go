package oai

import "encoding/xml"

// Namespaces and schema locations of the response and its formats.
const (
	nsOAI        = "http://www.openarchives.org/OAI/2.0/"
	schemaOAI    = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
	nsXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	nsOAIDC      = "http://www.openarchives.org/OAI/2.0/oai_dc/"
	schemaOAIDC  = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
	nsDC         = "http://purl.org/dc/elements/1.1/"
	nsFactSheet  = "urn:khantara:factsheet:1"
	granularity  = "YYYY-MM-DDThh:mm:ssZ"
	timeLayout   = "2006-01-02T15:04:05Z"
	dayLayout    = "2006-01-02"
	prefixOAIDC  = "oai_dc"
	prefixKhan   = "khantara"
	protocolVers = "2.0"
)

// The structs below are the response as encoding/xml writes it. Prefixed
// names ("dc:title", "xsi:schemaLocation") are written literally, with
// their namespaces declared on the element that starts each vocabulary,
// so that the output uses the prefixes of the protocol's examples.

type response struct {
	XMLName        xml.Name `xml:"OAI-PMH"`
	Xmlns          string   `xml:"xmlns,attr"`
	XmlnsXSI       string   `xml:"xmlns:xsi,attr"`
	SchemaLocation string   `xml:"xsi:schemaLocation,attr"`
	ResponseDate   string   `xml:"responseDate"`
	Request        request  `xml:"request"`

	Errors              []xmlError           `xml:"error"`
	Identify            *identify            `xml:"Identify"`
	ListMetadataFormats *listMetadataFormats `xml:"ListMetadataFormats"`
	ListSets            *listSets            `xml:"ListSets"`
	GetRecord           *getRecord           `xml:"GetRecord"`
	ListIdentifiers     *listIdentifiers     `xml:"ListIdentifiers"`
	ListRecords         *listRecords         `xml:"ListRecords"`
}

// request echoes the request: the base URL, and the arguments unless the
// request had a badVerb or badArgument error.
type request struct {
	Verb            string `xml:"verb,attr,omitempty"`
	Identifier      string `xml:"identifier,attr,omitempty"`
	MetadataPrefix  string `xml:"metadataPrefix,attr,omitempty"`
	From            string `xml:"from,attr,omitempty"`
	Until           string `xml:"until,attr,omitempty"`
	Set             string `xml:"set,attr,omitempty"`
	ResumptionToken string `xml:"resumptionToken,attr,omitempty"`
	BaseURL         string `xml:",chardata"`
}

type xmlError struct {
	Code    string `xml:"code,attr"`
	Message string `xml:",chardata"`
}

type identify struct {
	RepositoryName    string        `xml:"repositoryName"`
	BaseURL           string        `xml:"baseURL"`
	ProtocolVersion   string        `xml:"protocolVersion"`
	AdminEmail        []string      `xml:"adminEmail"`
	EarliestDatestamp string        `xml:"earliestDatestamp"`
	DeletedRecord     string        `xml:"deletedRecord"`
	Granularity       string        `xml:"granularity"`
	Description       []description `xml:"description"`
}

// description wraps one community-defined element (Identify's description,
// ListSets' setDescription).
type description struct {
	Repository *repositoryDescription `xml:"repository,omitempty"`
	DC         *dcRecord              `xml:"oai_dc:dc,omitempty"`
}

// repositoryDescription is the khantara:repository element of Identify.
type repositoryDescription struct {
	Xmlns            string `xml:"xmlns,attr"`
	XmlnsXSI         string `xml:"xmlns:xsi,attr"`
	SchemaLocation   string `xml:"xsi:schemaLocation,attr"`
	Node             string `xml:"node,omitempty"`
	IdentifierFormat string `xml:"identifierFormat"`
}

type listMetadataFormats struct {
	Formats []metadataFormat `xml:"metadataFormat"`
}

type metadataFormat struct {
	Prefix    string `xml:"metadataPrefix"`
	Schema    string `xml:"schema"`
	Namespace string `xml:"metadataNamespace"`
}

type listSets struct {
	Sets []set `xml:"set"`
}

type set struct {
	Spec        string        `xml:"setSpec"`
	Name        string        `xml:"setName"`
	Description []description `xml:"setDescription"`
}

type getRecord struct {
	Record record `xml:"record"`
}

type listIdentifiers struct {
	Headers []header         `xml:"header"`
	Token   *resumptionToken `xml:"resumptionToken"`
}

type listRecords struct {
	Records []record         `xml:"record"`
	Token   *resumptionToken `xml:"resumptionToken"`
}

type record struct {
	Header   header    `xml:"header"`
	Metadata *metadata `xml:"metadata"`
}

type header struct {
	Status     string   `xml:"status,attr,omitempty"`
	Identifier string   `xml:"identifier"`
	Datestamp  string   `xml:"datestamp"`
	SetSpecs   []string `xml:"setSpec"`
}

// metadata holds exactly one of its fields.
type metadata struct {
	DC         *dcRecord      `xml:"oai_dc:dc,omitempty"`
	FactSheet  *factSheet     `xml:"factsheet,omitempty"`
	Experience *experienceXML `xml:"experience,omitempty"`
}

type resumptionToken struct {
	CompleteListSize int    `xml:"completeListSize,attr,omitempty"`
	Cursor           int    `xml:"cursor,attr"`
	Value            string `xml:",chardata"`
}
