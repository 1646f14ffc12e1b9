// Package protocol defines what a Khantara practice is on the wire: the v1
// fact sheet, the signed announcement that carries it, their validation
// rules and limits, and the versioned identifiers (envelope domain, payload
// type, gossip topic, sync protocol) that peers must agree on. Besides
// practices it defines the other kinds of record: profiles, retractions,
// organisations' operations and membership lists (org.go, members.go),
// and experience records (experience.go: what one publisher says about a
// practice, its own or another's).
//
// It also holds the frames of catch-up sync (PROTOCOL.md section 9), which
// a node serves and offers in the order of SyncProtocols:
// /khantara/sync/4 (sync4.go: sync/3 plus a sketch of the initiator's set
// in its first message and WANTs by hash, 9.14; NewSync4),
// /khantara/sync/3 (sync3.go, sync3wire.go: salted 4-byte fingerprints,
// key-string bounds and items compressed against the peer's last message,
// 9.13), /khantara/sync/2 and /khantara/sync/1 (syncwire.go, syncread.go:
// one frame layout; sync/1 reconciles v1 records only). NewFrameReader and
// NewFrameWriter read and write sync/1 and sync/2, NewSync3 sync/3; the
// reconciliation itself (what to answer) is the node's.
//
// The package is pure: it performs no I/O, holds no state and imports no
// storage or networking code of ours. Everything in it is safe for concurrent
// use. The exact bytes are specified in PROTOCOL.md at the repository root;
// a test keeps the worked example there in step with this code.
//
// Fields (fields_table.go) lists every field of the fact sheet once: its
// path, type, vocabulary and labels, and its place in each output (CSV
// column, OAI-PMH elements, Dublin Core and DCAT mapping, search index,
// the CLI's show, the web page). The outputs are driven by it, and each
// output's tests check it reaches every field; a field added to FactSheet
// and not to Fields fails this package's tests.
//
// The life of an announcement:
//
//	sheet, err := protocol.ParseSheet(yamlBytes, protocol.FormatAuto) // staff input, all problems at once
//	signed, err := protocol.Seal(&protocol.Announcement{...}, key)   // validate, sign
//	wire := signed.Envelope()                                         // bytes to gossip or store
//	got, err := protocol.Open(wire)                                   // limits, signature, signer, schema
//
// Open decodes the envelope once, verifies its signature once and decodes
// the JSON once; the *Signed it returns is the value that travels on (to
// the validator, the store and the search index), so nothing downstream
// decodes the same bytes again. A payload in the form every writer
// produces (EncodePayload's) is decoded by a fast path of the package's
// own, anything else by go-json-experiment; the two decide alike
// (fastjson.go, FuzzDecodeFast).
package protocol
