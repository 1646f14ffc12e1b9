// Package web holds the read-only web page a node serves at its API
// address: search with facets, one practice's fact sheet with its
// provenance (the publisher, an organisation or a plain publisher, and
// the key that signed, with what that key is to the organisation) and
// the experience records of other organisations about it (adaptations
// and their outcomes, lessons, questions with their answers threaded,
// endorsements, the links between an original and the practices adapted
// from it), a page per organisation (its keys, delegations, revocations,
// membership lists and practices), charts of the catalogue, an offline
// map of where the practices are and of where they were adapted (arcs),
// and the node's network status.
//
// The page is static: index.html, a few ES modules and a style sheet,
// embedded in the binary. It reads only the node's own JSON API under
// /api/v1 (API.md), from the same origin, so it needs no server-side state.
// Handler serves it; the caller mounts the handler for GET / and
// GET /assets/ next to the API, behind the API's Host and Origin checks.
//
// Every answer carries a strict Content-Security-Policy (no inline script
// or style, no other origin) and Cache-Control: no-cache with an ETag, so
// a browser revalidates the page after an upgrade of the daemon.
//
// The map (static/map.js) draws with the vendored d3-geo and
// topojson-client (static/vendor) from data embedded in static/map:
// Natural Earth's countries and a GeoNames gazetteer, made by the program
// in web/mapdata, run by hand (static/vendor/README.md).
//
// static/fields.js, the layout of the practice view, is generated from
// protocol.Fields by go generate ./web; a test fails when it is stale.
package web

//go:generate go run ../internal/gen/fieldsjs static/fields.js
