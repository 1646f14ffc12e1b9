package api

import (
	"net/http"
	"sync"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/web"
)

const (
	// maxRetractBody bounds the body of a retraction request.
	maxRetractBody = 16 << 10
	// defaultListLimit and maxListLimit bound a page of GET /api/v1/practices.
	defaultListLimit = 100
	maxListLimit     = 1000
)

// NewHandler returns node n's local HTTP API, JSON under /api/v1 (API.md
// documents every route with examples):
//
//	GET  /api/v1/status                      Status
//	GET  /api/v1/peers                       []Peer: connected peers, by peer ID
//	GET  /api/v1/practices                   PracticeList: one page; query publisher, mine,
//	                                         id, retracted, limit (default 100, max 1000), after
//	GET  /api/v1/practices/{publisher}/{id}  Record, its signature verified again, with
//	                                         its experience_counts
//	GET  /api/v1/practices/{publisher}/{id}/experiences
//	                                         PracticeExperiences: the experience records
//	                                         about it (held or not), counts, adapted_in
//	GET  /api/v1/experiences                 ExperienceList: one page; query publisher and
//	                                         id (together), author, type, mine, limit, after
//	POST /api/v1/practices                   publish a fact sheet (YAML or JSON body) -> Published;
//	                                         ?dry_run=1 validates only
//	POST /api/v1/practices/{id}/retract      retract an own practice ({"reason": "..."} body,
//	                                         optional) -> Published; 409 if already retracted
//	GET  /api/v1/profile                     Profile of this node, or of ?publisher=
//	PUT  /api/v1/profile                     set this node's profile (YAML or JSON body) -> Published
//	GET  /api/v1/search                      search.Result: full text, filters, facets (search.go)
//	GET  /api/v1/stats                       search.Stats: ?by=country|dimension|year|source
//	GET  /api/v1/export                      ?format=csv|jsonl|dcat: the catalogue or a query, streamed
//	GET  /api/v1/orgs                        []OrgSummary: the organisations this node holds
//	GET  /api/v1/orgs/{org}                  Organisation: keys, delegations, revocations, head,
//	                                         forks, lists; 404 without its genesis
//	PUT  /api/v1/org                         OrgSetting: publish for this organisation from now on
//	POST /api/v1/org/adopt                   move the node's own records into its organisation -> Adopted
//	POST /api/v1/records                     one envelope signed elsewhere (an organisation's
//	                                         operation, a membership list) -> Published
//	POST /api/v1/members                     a membership list (JSON MemberList) signed by
//	                                         this node's key -> Published
//	GET  /api/v1/trust                       Trust: the trust policy, and in lists mode the lists
//	PUT  /api/v1/trust                       Trust: apply a new trust policy at once -> Trust
//	POST /api/v1/reindex                     rebuild the search index from the store -> Reindexed
//	POST /api/v1/purge[?publisher=ID]        erase removed and superseded content from disk -> Purged
//	GET  /oai, POST /oai                     OAI-PMH 2.0 data provider (package oai);
//	                                         GET /oai/factsheet-1.xsd its khantara format's schema
//	GET  /metrics                            Prometheus metrics (see metrics.go)
//	GET  /, GET /assets/...                  the read-only web page (package web)
//
// The POST and PUT routes need "Authorization: Bearer <token>"; an empty
// token refuses them all. Against DNS rebinding and cross-site requests,
// every request must name the address it reached in its Host header (or
// localhost:<port> on a loopback address), and a request with an Origin
// header must come from that same http:// origin. Every error, unknown
// routes (404) and wrong methods (405) included, is JSON Error. Each
// call makes a new handler with its own metrics registry. The handler is
// safe for concurrent use and stops answering writes once the node is
// closed.
func NewHandler(n *node.Node, token string) http.Handler {
	a := &apiHandler{n: n, token: []byte(token)}
	metrics := newMetrics(n)
	mux := http.NewServeMux()
	routes := map[string]bool{}
	handle := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, h)
		routes[pattern] = true
	}
	handle("GET /api/v1/status", a.status)
	handle("GET /api/v1/peers", a.peers)
	handle("GET /api/v1/practices", a.practices)
	handle("GET /api/v1/practices/{publisher}/{id}", a.record)
	handle("GET /api/v1/practices/{publisher}/{id}/experiences", a.practiceExperiences)
	handle("GET /api/v1/experiences", a.experiences)
	handle("POST /api/v1/practices", a.authorized(a.publish))
	handle("POST /api/v1/practices/{id}/retract", a.authorized(a.retract))
	handle("GET /api/v1/profile", a.profile)
	handle("PUT /api/v1/profile", a.authorized(a.setProfile))
	handle("GET /api/v1/search", a.search)
	handle("GET /api/v1/stats", a.stats)
	handle("GET /api/v1/export", a.export)
	handle("GET /api/v1/orgs", a.orgs)
	handle("GET /api/v1/orgs/{org}", a.org)
	handle("PUT /api/v1/org", a.authorized(a.setOrg))
	handle("POST /api/v1/org/adopt", a.authorized(a.adopt))
	handle("POST /api/v1/records", a.authorized(a.submit))
	handle("POST /api/v1/members", a.authorized(a.publishMembers))
	handle("GET /api/v1/trust", a.trust)
	handle("PUT /api/v1/trust", a.authorized(a.setTrust))
	handle("POST /api/v1/reindex", a.authorized(a.reindex))
	handle("POST /api/v1/purge", a.authorized(a.purge))
	oaiPMH := oaiHandler(n)
	handle("GET /oai", oaiPMH.ServeHTTP)
	handle("POST /oai", oaiPMH.ServeHTTP)
	handle("GET /oai/", oaiPMH.ServeHTTP)
	handle("GET /metrics", metrics.handler().ServeHTTP)
	page := web.Handler()
	handle("GET /{$}", page.ServeHTTP)
	handle("GET /assets/", page.ServeHTTP)
	return metrics.instrument(routes, a.sameOrigin(jsonFallback(mux)))
}

// apiHandler serves the routes of one NewHandler.
type apiHandler struct {
	n     *node.Node
	token []byte

	// retractMu makes the already-retracted check and the retraction one
	// step, so two concurrent requests cannot both retract.
	retractMu sync.Mutex
}
