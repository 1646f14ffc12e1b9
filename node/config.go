package node

import (
	"fmt"
	"regexp"
	"time"

	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Trust modes.
const (
	// TrustOpen keeps every validly signed publisher not on the denylist.
	TrustOpen = "open"
	// TrustAllowlist keeps only the publishers on the allowlist.
	TrustAllowlist = "allowlist"
	// TrustLists keeps the organisations this node follows and the
	// members of the membership lists they publish, plus the allowlist.
	TrustLists = "lists"
)

// Config is a node's configuration: plain data, validated as a whole by
// Validate before New uses it. DefaultConfig documents every default.
type Config struct {
	// Home is the data directory: identity key, store, address book.
	Home string `yaml:"-"`
	// Network names the federation; nodes only talk to nodes of the same
	// network. Lower-case letters, digits and '-', at most 32 characters.
	Network string `yaml:"network"`
	// Listen are the multiaddrs the host listens on; none: it listens
	// nowhere and is reached through relays only.
	Listen []string `yaml:"listen"`
	// Bootstrap are multiaddrs ending in /p2p/<peer ID> to dial at start
	// and whenever the node has fewer than ConnLow peers.
	Bootstrap []string `yaml:"bootstrap"`
	// MDNS turns on local-network discovery.
	MDNS bool `yaml:"mdns"`
	// NAT turns on UPnP/NAT-PMP port mapping on the local router.
	NAT bool `yaml:"nat"`
	// Reach configures reachability: AutoNAT, relays, hole punching, the
	// DHT and the announced addresses (reach.go, PROTOCOL.md 10).
	Reach `yaml:",inline"`
	// Trust is the publisher policy, applied to gossip and sync alike.
	Trust Trust `yaml:"trust"`
	// Quota bounds what one publisher may take of this node in open mode.
	Quota Quota `yaml:"quota"`
	// PurgeInterval is how often the node erases superseded, retracted
	// and removed content from disk (see Node.Purge), when there is any.
	PurgeInterval time.Duration `yaml:"purge_interval"`
	// SyncInterval is how often the node reconciles with a random peer.
	SyncInterval time.Duration `yaml:"sync_interval"`
	// ConnLow and ConnHigh are the connection manager's watermarks: above
	// ConnHigh connections are trimmed down to ConnLow.
	ConnLow  int `yaml:"conn_low"`
	ConnHigh int `yaml:"conn_high"`
	// DiskReserveMiB is the free space, in MiB, kept on the data
	// directory's filesystem: below it the node pauses writes (publish
	// answers 507, gossip and sync wait) and resumes by itself when space
	// returns. 0 turns the check off. Default DefaultDiskReserveMiB.
	DiskReserveMiB int `yaml:"disk_reserve_mib"`
	// Org is the organisation this node publishes for (its ID, as
	// `khantara org init` prints it). Empty: the node publishes as itself,
	// a plain publisher named by its peer ID.
	Org string `yaml:"org"`
	// NoSearch turns the search index (HOME/index) off: the node then
	// answers no search, statistics or filtered export. For tests that run
	// many nodes in one process.
	NoSearch bool `yaml:"-"`
}

// Trust is the publisher policy. It never changes what is valid, only what
// this node keeps.
type Trust struct {
	// Mode is TrustOpen (default), TrustAllowlist or TrustLists.
	Mode string `yaml:"mode"`
	// Allow lists the publisher IDs kept in allowlist and lists modes.
	Allow []string `yaml:"allow"`
	// Deny lists publisher IDs never kept, in any mode.
	Deny []string `yaml:"deny"`
	// Follow lists the organisations whose membership lists decide, in
	// lists mode, which publishers this node keeps.
	Follow []string `yaml:"follow"`
}

// DefaultPort is the TCP and UDP port of the default listen addresses.
const DefaultPort = 7117

// DefaultConfig returns the defaults: network "khantara", TCP and QUIC on
// port 7117 on every IPv4 and IPv6 interface, mDNS and port mapping on,
// the reachability defaults of DefaultReach, open trust, sync every
// minute, 32..96 connections.
func DefaultConfig(home string) Config {
	return Config{
		Home:    home,
		Network: protocol.DefaultNetwork,
		Listen: []string{
			fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", DefaultPort),
			fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", DefaultPort),
			fmt.Sprintf("/ip6/::/tcp/%d", DefaultPort),
			fmt.Sprintf("/ip6/::/udp/%d/quic-v1", DefaultPort),
		},
		MDNS:          true,
		NAT:           true,
		Reach:         DefaultReach(),
		Trust:         Trust{Mode: TrustOpen},
		Quota:         DefaultQuota(),
		PurgeInterval: DefaultPurgeInterval,
		SyncInterval:  time.Minute,
		ConnLow:       32,
		ConnHigh:      96,

		DiskReserveMiB: DefaultDiskReserveMiB,
	}
}

// maxDiskReserveMiB bounds disk_reserve_mib at 1 TiB, which catches a
// value given in bytes instead of MiB.
const maxDiskReserveMiB = 1 << 20

var networkName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Validate checks the whole configuration and returns the first problem as
// an error naming the key and what to do.
func (c *Config) Validate() error {
	if c.Home == "" {
		return fmt.Errorf("home: no data directory given; pass --home or set KHANTARA_HOME")
	}
	if !networkName.MatchString(c.Network) {
		return fmt.Errorf("network: %q is not a network name; use 1-32 lower-case letters, digits and '-'", c.Network)
	}
	for _, s := range c.Listen {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return fmt.Errorf("listen: %q is not a multiaddr (%v); write e.g. /ip4/0.0.0.0/tcp/%d", s, err, DefaultPort)
		}
	}
	if _, err := c.bootstrapPeers(); err != nil {
		return err
	}
	if err := c.Reach.validate(); err != nil {
		return err
	}
	if err := c.Trust.validate(); err != nil {
		return err
	}
	if c.Org != "" {
		if id, err := protocol.DecodeID(c.Org); err != nil || !protocol.IsOrg(id) {
			return fmt.Errorf("org: %q is not an organisation ID; `khantara org show` prints this node's", c.Org)
		}
	}
	if c.Quota.Records < 0 || c.Quota.Megabytes < 0 || c.Quota.PerHour < 0 || c.Quota.Experiences < 0 {
		return fmt.Errorf("quota: records %d, megabytes %d, per_hour %d, experiences %d: none may be negative (0 means no limit)",
			c.Quota.Records, c.Quota.Megabytes, c.Quota.PerHour, c.Quota.Experiences)
	}
	if c.PurgeInterval < time.Minute {
		return fmt.Errorf("purge_interval: %v is below the minimum of 1m", c.PurgeInterval)
	}
	if c.SyncInterval < time.Second {
		return fmt.Errorf("sync_interval: %v is below the minimum of 1s", c.SyncInterval)
	}
	if c.ConnLow < 1 || c.ConnHigh < c.ConnLow {
		return fmt.Errorf("conn_low, conn_high: need 1 <= conn_low <= conn_high, got %d and %d", c.ConnLow, c.ConnHigh)
	}
	if c.DiskReserveMiB < 0 || c.DiskReserveMiB > maxDiskReserveMiB {
		return fmt.Errorf("disk_reserve_mib: %d is outside 0..%d; give the MiB of free space to keep, e.g. %d (0 turns the check off)",
			c.DiskReserveMiB, maxDiskReserveMiB, DefaultDiskReserveMiB)
	}
	return nil
}

func (c *Config) bootstrapPeers() ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range c.Bootstrap {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %q is not a multiaddr: %v", s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %q must end in /p2p/<peer ID>: %v", s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}

// layout is the data directory's layout.
func (c *Config) layout() home.Layout { return home.Layout{Root: c.Home} }

func (c *Config) storeDir() string     { return c.layout().Store() }
func (c *Config) identityPath() string { return c.layout().Identity() }
func (c *Config) indexDir() string     { return c.layout().Index() }

func (t *Trust) validate() error {
	switch t.Mode {
	case TrustOpen, TrustAllowlist, TrustLists:
	default:
		return fmt.Errorf("trust.mode: %q is not one of %q, %q, %q", t.Mode, TrustOpen, TrustAllowlist, TrustLists)
	}
	for key, list := range map[string][]string{"trust.allow": t.Allow, "trust.deny": t.Deny} {
		for _, s := range list {
			if _, err := protocol.DecodeID(s); err != nil {
				return fmt.Errorf("%s: %q is not a peer ID or an organisation ID: %v", key, s, err)
			}
		}
	}
	for _, s := range t.Follow {
		if id, err := protocol.DecodeID(s); err != nil || !protocol.IsOrg(id) {
			return fmt.Errorf("trust.follow: %q is not an organisation ID", s)
		}
	}
	if t.Mode == TrustLists && len(t.Follow) == 0 {
		return fmt.Errorf("trust.follow: lists mode needs at least one organisation to follow (khantara trust follow ORG-ID)")
	}
	return nil
}
