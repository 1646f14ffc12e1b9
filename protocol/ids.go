package protocol

// Versioned identifiers. Changing any of them is a protocol break: a new
// value, never an edit of an old one.
const (
	// EnvelopeDomain is the libp2p signed-envelope domain string of every
	// Khantara announcement. It separates our signatures from every other use
	// of the same key (peer records, for example).
	EnvelopeDomain = "khantara-announcement"

	// PayloadType is the envelope payload type of a v1 announcement: the
	// ASCII bytes of this string. The payload is the announcement's JSON.
	PayloadType = "/khantara/announcement/1"

	// Version is the value of the "v" member of every v1 announcement.
	Version = 1

	// DefaultNetwork is the network name used when the configuration names
	// none. Nodes only talk to nodes of the same network.
	DefaultNetwork = "khantara"

	// SyncProtocolID is the libp2p stream protocol of catch-up sync.
	SyncProtocolID = "/khantara/sync/1"
)

// Topic returns the gossipsub topic of a network:
// "khantara/v1/practices" for the default network, and
// "khantara/v1/<network>/practices" for any other.
func Topic(network string) string {
	if network == "" || network == DefaultNetwork {
		return "khantara/v1/practices"
	}
	return "khantara/v1/" + network + "/practices"
}

// TopicV2 returns the gossipsub topic of a network's v2 records
// (PROTOCOL.md 12.8: records of organisations and of the kinds they add):
// "khantara/v2/records" for the default network, and
// "khantara/v2/<network>/records" for any other.
func TopicV2(network string) string {
	if network == "" || network == DefaultNetwork {
		return "khantara/v2/records"
	}
	return "khantara/v2/" + network + "/records"
}
