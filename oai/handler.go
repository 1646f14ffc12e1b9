package oai

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultAdminEmail is the adminEmail of Identify when Config gives none.
// OAI-PMH requires an address; this one is deliberately not a person's
// and not deliverable (the .invalid top-level domain never resolves). It
// has a dot after the "@" because OAI-PMH.xsd requires one.
const DefaultAdminEmail = "nobody@khantara.invalid"

// DefaultPageSize is the number of items per ListIdentifiers or
// ListRecords response when Config gives none.
const DefaultPageSize = 100

// maxBody bounds a POST body: the longest legal request is a few hundred bytes.
const maxBody = 64 << 10

// Config is the data provider's settings. The zero value works: every
// field has a default.
type Config struct {
	// RepositoryName is Identify's repositoryName (default "Khantara").
	RepositoryName string
	// BaseURL is the URL the handler answers at, e.g.
	// http://127.0.0.1:7118/oai, echoed in every response. Default: the
	// URL of each request (http://<Host><path>).
	BaseURL string
	// AdminEmail is Identify's adminEmail (default DefaultAdminEmail).
	AdminEmail string
	// NodeID is this node's peer ID, shown in Identify's description;
	// omitted when empty.
	NodeID string
	// PageSize bounds the items of one ListIdentifiers or ListRecords
	// response (default DefaultPageSize when not positive).
	PageSize int
	// Now is the clock of responseDate (default time.Now).
	Now func() time.Time
	// Logger receives store failures (default: discard).
	Logger *slog.Logger
	// Chains looks up an organisation's chain of operations, for the name
	// its operations give (dc:publisher, setName). It is called for
	// organisation IDs only; nil, an unknown chain or an error means no
	// name from it (the profile's name serves). node.Node.Chain fits.
	Chains func(org peer.ID) (*protocol.Chain, error)
}

func (c Config) withDefaults() Config {
	c.RepositoryName = cmp.Or(c.RepositoryName, "Khantara")
	c.AdminEmail = cmp.Or(c.AdminEmail, DefaultAdminEmail)
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// NewHandler returns the OAI-PMH 2.0 data provider over st (doc.go
// describes it). The handler only reads st, which the caller keeps open
// while the handler serves; it is safe for concurrent use.
func NewHandler(st *store.Store, cfg Config) http.Handler {
	return &handler{st: st, cfg: cfg.withDefaults()}
}

type handler struct {
	st  *store.Store
	cfg Config

	// mu guards earliest: the earliestDatestamp found by a scan, zero
	// until one found an item. Datestamps only grow, so it stays a lower
	// bound of every datestamp.
	mu       sync.Mutex
	earliest time.Time
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && path.Base(r.URL.Path) == SchemaFile {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		_, _ = io.WriteString(w, factSheetXSD) // a client that went away needs no answer
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "OAI-PMH requests are GET or POST.", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	parseErr := r.ParseForm()
	resp, err := h.respond(r, parseErr)
	var buf bytes.Buffer
	if err == nil {
		buf.WriteString(xml.Header)
		enc := xml.NewEncoder(&buf)
		enc.Indent("", "  ")
		err = enc.Encode(resp)
		buf.WriteByte('\n')
	}
	if err != nil {
		h.cfg.Logger.Error("OAI-PMH request failed.", "verb", truncate(r.Form.Get(argVerb), 32), "err", err)
		http.Error(w, "The node could not read its catalogue; see its log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(buf.Bytes()) // a client that went away needs no answer
}

// call is one request being answered.
type call struct {
	h       *handler
	resp    *response
	baseURL string
	now     time.Time
	// profiles caches the publishers' profiles looked up for this
	// response (nil for a publisher without one).
	profiles map[peer.ID]*protocol.Profile
}

// respond answers a request whose form is parsed; parseErr is the error
// of parsing it. Only failures of the node are returned as errors.
func (h *handler) respond(r *http.Request, parseErr error) (*response, error) {
	c := &call{h: h, now: h.cfg.Now().UTC(), baseURL: h.cfg.BaseURL}
	if c.baseURL == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		c.baseURL = (&url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}).String()
	}
	c.resp = &response{
		Xmlns:          nsOAI,
		XmlnsXSI:       nsXSI,
		SchemaLocation: nsOAI + " " + schemaOAI,
		ResponseDate:   c.now.Format(timeLayout),
		Request:        request{BaseURL: c.baseURL},
	}
	form := r.Form
	verb, err := checkVerb(form)
	if err == nil && parseErr != nil {
		err = errorf(codeBadArgument, "The request is not properly URL-encoded (or too long).")
	}
	if err == nil {
		err = checkArgs(verb, form)
	}
	if err == nil {
		c.resp.Request = request{
			Verb:            verb,
			Identifier:      form.Get(argIdentifier),
			MetadataPrefix:  form.Get(argMetadataPrefix),
			From:            form.Get(argFrom),
			Until:           form.Get(argUntil),
			Set:             form.Get(argSet),
			ResumptionToken: form.Get(argResumptionToken),
			BaseURL:         c.baseURL,
		}
		err = c.run(verb, form)
	}
	var pe *protoError
	if !errors.As(err, &pe) {
		return c.resp, err
	}
	// The answer is the error alone; after badVerb and badArgument the
	// request's arguments are not echoed (they may not be legal).
	*c.resp = response{
		Xmlns: c.resp.Xmlns, XmlnsXSI: c.resp.XmlnsXSI, SchemaLocation: c.resp.SchemaLocation,
		ResponseDate: c.resp.ResponseDate, Request: c.resp.Request,
		Errors: []xmlError{{Code: pe.code, Message: pe.message}},
	}
	if pe.code == codeBadVerb || pe.code == codeBadArgument {
		c.resp.Request = request{BaseURL: c.baseURL}
	}
	return c.resp, nil
}

func (c *call) run(verb string, form url.Values) error {
	switch verb {
	case "Identify":
		return c.identify()
	case "ListMetadataFormats":
		return c.listMetadataFormats(form.Get(argIdentifier))
	case "ListSets":
		return c.listSets(form.Get(argResumptionToken))
	case "GetRecord":
		return c.getRecord(form.Get(argIdentifier), form.Get(argMetadataPrefix))
	case "ListIdentifiers":
		return c.list(form, false)
	case "ListRecords":
		return c.list(form, true)
	}
	return errorf(codeBadVerb, "%s is not an OAI-PMH verb.", quote(verb))
}

// schemaURL is where the khantara format's XML Schema is served.
func (c *call) schemaURL() string { return c.baseURL + "/" + SchemaFile }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
