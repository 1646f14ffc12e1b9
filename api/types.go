package api

import (
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
)

// The JSON bodies of the local HTTP API (see NewHandler and API.md). Times
// are RFC 3339 in UTC; peer IDs are base58 strings; hashes are hex.

// Status is the body of GET /api/v1/status.
type Status struct {
	PeerID  string `json:"peer_id"`
	Network string `json:"network"`
	// Addrs are the listen multiaddrs, each ending in /p2p/<peer ID>, so
	// each is usable as another node's --bootstrap value.
	Addrs []string `json:"addrs"`
	// Organisation is the name in this node's own profile, if it set one.
	Organisation string `json:"organisation,omitempty"`
	// Org is the organisation this node publishes for (its ID), empty
	// when it publishes as itself.
	Org string `json:"org,omitempty"`
	// OrgName is the organisation's name at the head of its chain as
	// this node holds it; empty while the chain is not held.
	OrgName string `json:"org_name,omitempty"`
	// OrgKey is what the organisation's head says of this node's key:
	// "delegated", "revoked", "rotation", or "unknown" (the head does not
	// name it, or the chain is not held yet). Empty without Org.
	OrgKey string `json:"org_key,omitempty"`
	// OrgMay lists the kinds this node's key may publish for the
	// organisation (or could, before it was revoked).
	OrgMay []string `json:"org_may,omitempty"`
	// Trust is the trust mode: open, allowlist or lists.
	Trust string `json:"trust"`
	// Peers is the number of connected peers.
	Peers int `json:"peers"`
	// Practices counts current practices; Retracted counts retracted
	// slots; Profiles counts publishers' profiles.
	Practices     uint64 `json:"practices"`
	Retracted     uint64 `json:"retracted"`
	Profiles      uint64 `json:"profiles"`
	Publishers    uint64 `json:"publishers"`
	Equivocations uint64 `json:"equivocations"`
	// Digest is the hex fingerprint of the whole catalogue: two nodes with
	// equal digests hold the same announcements.
	Digest string `json:"digest"`
	// StartedAt is when the node started.
	StartedAt time.Time `json:"started_at"`
	// Gossip counts the messages the topic validator judged.
	Gossip Gossip `json:"gossip"`
	// Syncs is the last sync session with each peer, newest first.
	Syncs []Sync `json:"syncs"`
	// Disk is the data directory's free space and whether writes are
	// paused for lack of it (space.go); absent when the check is off.
	Disk *Disk `json:"disk,omitempty"`
	// Index is the search index's state and progress; absent when search
	// is turned off.
	Index *search.Status `json:"index,omitempty"`
	// Reach is how the node is reached: reachability, NAT type, relays,
	// connections by kind, hole punches, the DHT (status_reach.go).
	Reach *Reach `json:"reach,omitempty"`
}

// Gossip counts gossip messages by verdict, and by reason for the
// rejected and ignored ones (reason names as in PROTOCOL.md section 8).
type Gossip struct {
	Accepted uint64            `json:"accepted"`
	Rejected map[string]uint64 `json:"rejected"`
	Ignored  map[string]uint64 `json:"ignored"`
}

// Sync is the outcome of the last sync session with one peer.
type Sync struct {
	Peer string    `json:"peer"`
	At   time.Time `json:"at"`
	// Fetched and Applied count envelopes received and stored; Served
	// counts envelopes sent.
	Fetched       int     `json:"fetched"`
	Applied       int     `json:"applied"`
	Served        int     `json:"served"`
	BytesSent     int64   `json:"bytes_sent"`
	BytesReceived int64   `json:"bytes_received"`
	Seconds       float64 `json:"seconds"`
	// Error is empty when the session succeeded.
	Error string `json:"error,omitempty"`
}

// Peer is one connected peer, in the body of GET /api/v1/peers.
type Peer struct {
	ID string `json:"id"`
	// Addrs are the remote multiaddrs of the open connections.
	Addrs []string `json:"addrs"`
	// Direction is "inbound" or "outbound" (of the oldest connection).
	Direction string `json:"direction"`
	// Since is when the oldest open connection was made.
	Since time.Time `json:"since"`
	// Score is the peer's gossipsub score.
	Score float64 `json:"score"`
	// Organisation is the name in the peer's profile, if it publishes one.
	Organisation string `json:"organisation,omitempty"`
	// LastSync is the last sync session with the peer, if any.
	LastSync *Sync `json:"last_sync,omitempty"`
}

// Practice is one line of a listing: the current state of one slot.
type Practice struct {
	Publisher string        `json:"publisher"`
	ID        string        `json:"id"`
	Seq       uint64        `json:"seq"`
	Kind      protocol.Kind `json:"kind"`
	// Signer is the key that signed the record: the publisher itself for
	// a plain publisher, a delegate's key for an organisation.
	Signer string `json:"signer"`
	// Organisation is the name of the publishing organisation, as its
	// chain's head gives it; empty for a plain publisher.
	Organisation string `json:"organisation,omitempty"`
	// Title, Country and Organiser are empty for retractions.
	Title     string `json:"title,omitempty"`
	Country   string `json:"country,omitempty"`
	Organiser string `json:"organiser,omitempty"`
	// Time is the signed announcement time.
	Time time.Time `json:"time"`
	// ReceivedAt is when this node stored the announcement.
	ReceivedAt time.Time `json:"received_at"`
	// From is the peer that delivered it; empty for own publications.
	From string `json:"from,omitempty"`
}

// PracticeList is the body of GET /api/v1/practices: one page.
type PracticeList struct {
	Practices []Practice `json:"practices"`
	// Next, when not empty, is the after= value of the next page.
	Next string `json:"next,omitempty"`
}

// Listing is Practice under the name Record embeds it by: Record has a
// field Practice of its own (the fact sheet), so the embedded listing line
// cannot be named Practice too. Its fields are flattened into Record's JSON.
type Listing = Practice

// Record is the body of GET /api/v1/practices/{publisher}/{id}: one
// slot with its content and provenance.
type Record struct {
	Listing
	// Hash is the announcement's hash.
	Hash string `json:"hash"`
	// SignatureVerified reports that the stored envelope's signature was
	// checked again, against the signer's key, to answer this request.
	SignatureVerified bool `json:"signature_verified"`
	// Profile is the publisher's organisation profile, if known here.
	Profile *protocol.Profile `json:"profile,omitempty"`
	// Practice is the fact sheet (kind practice).
	Practice *protocol.FactSheet `json:"practice,omitempty"`
	// Retraction is set for kind retract.
	Retraction *protocol.Retraction `json:"retraction,omitempty"`
	// ExperienceCounts counts the experience records about the practice
	// held here, by type (kinds practice and retract only).
	ExperienceCounts *ExperienceCounts `json:"experience_counts,omitempty"`
	// Envelope is the signed envelope as stored, base64: anyone can
	// verify it independently (PROTOCOL.md section 4).
	Envelope []byte `json:"envelope"`
}

// Profile is the body of GET /api/v1/profile: a publisher's profile.
type Profile struct {
	Publisher string           `json:"publisher"`
	Seq       uint64           `json:"seq"`
	Profile   protocol.Profile `json:"profile"`
}

// Published is the body answering a publication, a retraction or a
// profile change (and a dry run, with DryRun set and no Seq or Hash).
type Published struct {
	Publisher string `json:"publisher"`
	ID        string `json:"id"`
	Seq       uint64 `json:"seq,omitempty"`
	// Hash is the announcement's hash, hex.
	Hash   string `json:"hash,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// Error is the body of every error response.
type Error struct {
	// Error is one line a person can act on.
	Error string `json:"error"`
	// Problems lists, for a fact sheet or profile that failed validation,
	// every problem with its field path; Error repeats them as text.
	Problems []Problem `json:"problems,omitempty"`
	// Index is the search index's progress, on a 503 from a search route
	// while the index is being rebuilt or catching up.
	Index *search.Status `json:"index,omitempty"`
}

// Problem is one problem with one field of a submitted document.
type Problem struct {
	// Path names the field ("funding.amount_eur", "links[2].url"); empty
	// for the document as a whole.
	Path string `json:"path"`
	// Line is the 1-based line in the submitted text, 0 when unknown.
	Line int `json:"line,omitempty"`
	// Message says what is wrong and, where possible, how to fix it.
	Message string `json:"message"`
}

// Reindexed is the body answering POST /api/v1/reindex.
type Reindexed struct {
	// Indexed is the number of practices in the rebuilt index.
	Indexed int `json:"indexed"`
	// Seconds is how long the rebuild took.
	Seconds float64 `json:"seconds"`
}

// Disk is the free-space state in the body of GET /api/v1/status.
type Disk struct {
	// Dir is the data directory whose filesystem is watched.
	Dir string `json:"dir"`
	// FreeBytes is the free space at the last check; ReserveBytes the
	// free space below which writes pause.
	FreeBytes    uint64 `json:"free_bytes"`
	ReserveBytes uint64 `json:"reserve_bytes"`
	// WritesPaused is true while publish, retract, profile, gossip
	// ingest and sync writes wait for space; PausedSince says since when.
	WritesPaused bool       `json:"writes_paused"`
	PausedSince  *time.Time `json:"paused_since,omitempty"`
}

// FormatBytes writes a byte count of these bodies (Disk, Purged) in binary
// units with one decimal, "12.3 MiB", as the daemon's logs do. It is
// store.FormatBytes, so that a client needs no store to show them.
func FormatBytes(n uint64) string { return store.FormatBytes(n) }

// OrgSummary is one organisation in the body of GET /api/v1/orgs.
type OrgSummary struct {
	ID string `json:"id"`
	// Name is the name its head gives; empty while its genesis is unknown.
	Name string `json:"name,omitempty"`
	// Practices counts its current practices held here.
	Practices uint64 `json:"practices"`
	// Ops counts its operations held here.
	Ops uint64 `json:"ops"`
}

// Organisation is the body of GET /api/v1/orgs/{org}: an organisation's
// key state at the head of its chain, as this node holds it.
type Organisation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Keys are the rotation keys, highest priority first.
	Keys []string `json:"keys"`
	// Delegations and Revocations are the head's.
	Delegations []Delegation `json:"delegations"`
	Revocations []Revocation `json:"revocations"`
	// Head is the hash (hex) of the head operation, HeadSeq its sequence
	// number; HeadEnvelope is its signed envelope, from which a client
	// derives the next operation (protocol.NextOp).
	Head         string `json:"head"`
	HeadSeq      uint64 `json:"head_seq"`
	HeadEnvelope []byte `json:"head_envelope"`
	// MaxSeq is the highest sequence number of the organisation this
	// node has seen, every signer's.
	MaxSeq uint64 `json:"max_seq"`
	// Ops counts the operations held; Forks lists operations off the
	// canonical chain (abandoned, pending or broken).
	Ops           int               `json:"ops"`
	Forks         []OrgOp           `json:"forks"`
	Equivocations []OrgEquivocation `json:"equivocations"`
	// Adopts is the plain publisher the organisation continues, shown
	// only when the adopted key is a delegate (or revoked delegate) of
	// the head: its signatures prove consent (PROTOCOL.md 12).
	Adopts string `json:"adopts,omitempty"`
	// Lists are the membership lists the organisation publishes; MemberOf
	// the lists held here that name it.
	Lists    []MemberList `json:"lists"`
	MemberOf []ListRef    `json:"member_of"`
}

// Delegation is a delegate of an organisation's head.
type Delegation struct {
	Key string          `json:"key"`
	May []protocol.Kind `json:"may"`
	// Until ends the delegation; absent: no end.
	Until *time.Time `json:"until,omitempty"`
	// MaxSeq is the highest sequence number of the key's records held
	// here (the through of a revocation made now).
	MaxSeq uint64 `json:"max_seq"`
}

// Revocation is a revoked delegate of an organisation's head: its records
// with a time before From and a sequence number at most Through stay valid.
type Revocation struct {
	Key     string          `json:"key"`
	May     []protocol.Kind `json:"may"`
	From    time.Time       `json:"from"`
	Through uint64          `json:"through"`
}

// OrgOp is one operation off the canonical chain.
type OrgOp struct {
	Hash   string `json:"hash"`
	Seq    uint64 `json:"seq"`
	Signer string `json:"signer"`
	// State is abandoned, pending or broken (protocol.OpState).
	State string `json:"state"`
}

// OrgEquivocation is an identity equivocation: two linked operations
// with the same prev signed by the same key.
type OrgEquivocation struct {
	Prev   string   `json:"prev"`
	Signer string   `json:"signer"`
	Hashes []string `json:"hashes"`
}

// MemberList is a membership list as the API shows it.
type MemberList struct {
	// Publisher is the organisation that publishes it, PublisherName its
	// name.
	Publisher     string `json:"publisher"`
	PublisherName string `json:"publisher_name,omitempty"`
	List          string `json:"list"`
	Title         string `json:"title"`
	Seq           uint64 `json:"seq"`
	// Signer is the key that signed this version.
	Signer  string   `json:"signer"`
	Members []Member `json:"members"`
}

// Member is one publisher on a membership list.
type Member struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kept reports whether this node keeps the member's records (GET
	// /api/v1/trust only).
	Kept *bool `json:"kept,omitempty"`
}

// ListRef names a membership list.
type ListRef struct {
	Publisher     string `json:"publisher"`
	PublisherName string `json:"publisher_name,omitempty"`
	List          string `json:"list"`
	Title         string `json:"title"`
}

// Trust is the body of GET and PUT /api/v1/trust: the node's trust policy
// (mode open, allowlist or lists; publisher IDs) and, in answers, the
// membership lists of the followed organisations that decide, in lists
// mode, which members are kept.
type Trust struct {
	Mode   string   `json:"mode"`
	Allow  []string `json:"allow"`
	Deny   []string `json:"deny"`
	Follow []string `json:"follow"`
	// Lists are the followed organisations' membership lists held here,
	// each member marked kept or not (answers only; ignored in a PUT).
	Lists []MemberList `json:"lists,omitempty"`
}

// OrgSetting is the body of PUT /api/v1/org: the organisation this node
// publishes for from now on (empty: as itself).
type OrgSetting struct {
	Org string `json:"org"`
}

// Adopted is the body answering POST /api/v1/org/adopt.
type Adopted struct {
	Org string `json:"org"`
	// Moved counts the practices republished by the organisation and
	// retracted as the node's own; Profile reports whether the profile
	// was republished.
	Moved   int  `json:"moved"`
	Profile bool `json:"profile"`
}
