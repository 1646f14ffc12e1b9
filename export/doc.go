// Package export writes a node's replica of the catalogue in formats
// researchers and open-data portals read: CSV (one flattened row per
// practice, for spreadsheets), JSON Lines (every practice with its signed
// provenance, verifiable offline) and DCAT-AP JSON-LD (a dcat:Catalog with
// one dcat:Dataset per practice, for data portals).
//
// Every writer takes a Source of store records, skips records that are not
// practices (retractions, profiles), streams its output (memory does not
// grow with the catalogue) and returns the number of practices written.
// The package holds no state; its functions are safe for concurrent use
// as long as the Source and the writer are.
package export
