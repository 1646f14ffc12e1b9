// Package export writes a node's replica of the catalogue in formats
// researchers and open-data portals read: CSV (one flattened row per
// practice, for spreadsheets), JSON Lines (every practice and experience
// record with its signed provenance and envelope, verifiable offline),
// DCAT-AP JSON-LD (a dcat:Catalog with one dcat:Dataset per practice,
// for data portals) and the adaptation graph (PROTOCOL.md 13: which
// practice was adapted into which, where and by whom), as a CSV edge
// list (AdaptationsCSV) and as GraphML (GraphML) that network tools such
// as networkx and Gephi load.
//
// Every writer takes a Source of store records and skips the records it
// does not write: CSV and DCAT write practices, JSONL practices and
// experience records, the graph the live adaptation records. Sources
// come from the store (StorePractices, StoreExperiences, StoreRecords),
// or from a search result: ExperiencesAbout turns the practices a query
// matches into the experience records about them. Writers stream their
// output (memory does not grow with the catalogue; GraphML remembers the
// IDs of the nodes it wrote) and return the number of records written.
// The package holds no state; its functions are safe for concurrent use
// as long as the Source, the look-ups in Options and the writer are.
//
// Every output names who published each record and which key signed
// it: the publisher is a plain publisher's peer ID or an organisation's
// ID (PROTOCOL.md section 12), named by the organisation's operations
// (Options.Chains) or else by the publisher's profile (Options.Profiles);
// the signer is the key that signed the envelope, a delegate of the
// organisation or the plain publisher itself.
package export
