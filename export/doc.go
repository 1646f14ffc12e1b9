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
//
// Every output names who published each practice and which key signed
// it: the publisher is a plain publisher's peer ID or an organisation's
// ID (PROTOCOL.md section 12), named by the organisation's operations
// (Options.Chains) or else by the publisher's profile (Options.Profiles);
// the signer is the key that signed the envelope, a delegate of the
// organisation or the plain publisher itself.
package export
