// Package demo embeds the demo catalogue: fact sheets written from the
// seed documents, which khantara demo (and make run) publishes from
// throwaway nodes.
package demo

import "embed"

// Sheets holds sheets/*.yaml.
//
//go:embed sheets/*.yaml
var Sheets embed.FS
