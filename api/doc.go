// Package api is a node's local HTTP API and the Go client the CLI calls it
// with. API.md documents every route with examples.
//
// The server side is NewHandler: the routes under /api/v1 (status, peers,
// the catalogue, publishing, profiles, experience records, search,
// statistics, export, reindex, purge), the OAI-PMH provider (package oai), the web page
// (package web) and GET /metrics, behind the Host, Origin and bearer-token
// guards (auth.go; LoadToken reads or makes HOME/api.token). Every error
// is the JSON body Error. The handler reaches the node only through its
// exported methods (node/service.go lists those made for it). It holds no
// goroutine and nothing to close: it lives as long as the http.Server
// serving it, and stops answering writes once the node is closed.
//
// The request and response bodies are the types of types.go (Status,
// Practice, Record, Published, ...) and experiences_types.go (Experience,
// PracticeExperiences, ...), shared by both sides, so the JSON each side
// reads is the JSON the other writes.
//
// The client side is Client (client.go, calls.go, experiences_client.go): NewClient finds the
// daemon of a home directory through HOME/api; each method is one request.
// An error answer is a *ResponseError; a daemon that is not running is an
// error matching ErrDaemonNotRunning (errors.go). A Client is safe for
// concurrent use and holds nothing to close.
package api
