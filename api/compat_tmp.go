package api

import (
	"net/http"

	"github.com/khantara/khantara/node"
)

// This file bridges to the handler still in package node until the API's
// move into this package is merged; the merge deletes it.

// NewHandler returns the HTTP API of n, guarded by the bearer token.
func NewHandler(n *node.Node, token string) http.Handler { return n.APIHandler(token) }

// LoadToken reads the API token at p, creating it when missing.
func LoadToken(p string) (string, error) { return node.LoadAPIToken(p) }
