// Package demo embeds the demo catalogue: fact sheets written from the
// seed documents, which khantara demo (and make run) publishes from
// throwaway nodes. Publishers deals the sheets out to 2 to 8 demo nodes by
// region, each with a profile that says it is demo data. Experiences
// (demo/experiences, PROTOCOL.md 13) are what the demo organisations say
// about each other's practices; Place decides who writes each. The
// package holds data only: no I/O beyond the embedded files, nothing
// running.
package demo

import "embed"

// Sheets holds sheets/*.yaml.
//
//go:embed sheets/*.yaml
var Sheets embed.FS
