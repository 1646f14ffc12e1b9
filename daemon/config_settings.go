package daemon

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a setting's value.
type Kind int

// The kinds of settings, with the Go type of their values (in
// Setting.Default and in Sources.Overrides).
const (
	// KindString is a string.
	KindString Kind = iota
	// KindList is a []string.
	KindList
	// KindBool is a bool.
	KindBool
	// KindDuration is a time.Duration.
	KindDuration
	// KindInt is an int.
	KindInt
)

// Setting describes one configuration key, for the command line to offer
// it as a flag.
type Setting struct {
	// Key is the key in the config file; a dot separates a section from a
	// key inside it: trust.mode is mode: under trust:.
	Key string
	// Flag is the name of the daemon's flag that overrides the file.
	Flag string
	// Env are the flag's environment variables, the first one "KHANTARA_"
	// and the key in upper case with '.' written '_'.
	Env []string
	// Usage is the flag's help text; a name in back quotes names the
	// value, as the flag package does.
	Usage string
	// Kind is the type of the value.
	Kind Kind
	// Default is the default value, of the Go type of Kind.
	Default any
}

// Invalid says that value, given for s, is not of s's kind: `"x" is not
// true or false`.
func (s Setting) Invalid(value string) string {
	switch s.Kind {
	case KindBool:
		return fmt.Sprintf("%q is not true or false", value)
	case KindDuration:
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			return fmt.Sprintf("%q is not a duration such as 30s: add a unit (s, m or h)", value)
		}
		return fmt.Sprintf("%q is not a duration such as 30s", value)
	case KindInt:
		return fmt.Sprintf("%q is not a whole number", value)
	}
	return fmt.Sprintf("%q is not a valid value", value)
}

// Settings describes every configuration key, in the order of the example
// config file and of `khantara daemon --help`. The slice is new on each
// call.
func Settings() []Setting {
	def := DefaultConfig("")
	out := make([]Setting, len(settings))
	for i := range settings {
		out[i] = settings[i].public(&def)
	}
	return out
}

// SettingByFlag returns the setting whose flag is flag.
func SettingByFlag(flag string) (Setting, bool) {
	def := DefaultConfig("")
	for i := range settings {
		if settings[i].flag == flag {
			return settings[i].public(&def), true
		}
	}
	return Setting{}, false
}

// setting is one configuration key, tied to its field of Config.
type setting struct {
	key, flag string
	env       []string // when not the one made from key
	usage     string
	// field returns the field the setting fills: a *string, *[]string,
	// *bool, *time.Duration or *int.
	field func(*Config) any
}

// settings are the configuration keys, in the order of the example file.
var settings = []setting{
	{key: "network", flag: "network", usage: "federation `NAME`; nodes talk only within one network",
		field: func(c *Config) any { return &c.Node.Network }},
	{key: "listen", flag: "listen", usage: "`MULTIADDR` to listen on (repeat the flag for more)",
		field: func(c *Config) any { return &c.Node.Listen }},
	{key: "bootstrap", flag: "bootstrap", usage: "peer `MULTIADDR` ending in /p2p/<peer ID> to dial",
		field: func(c *Config) any { return &c.Node.Bootstrap }},
	{key: "mdns", flag: "mdns", usage: "find peers on the local network",
		field: func(c *Config) any { return &c.Node.MDNS }},
	{key: "nat", flag: "nat", usage: "map the listen ports on the router with UPnP/NAT-PMP",
		field: func(c *Config) any { return &c.Node.NAT }},
	{key: "reachability", flag: "reachability", usage: "`MODE`: auto (AutoNAT finds out), public or private (you know)",
		field: func(c *Config) any { return &c.Node.Reachability }},
	{key: "relay_service", flag: "relay-service", usage: "offer circuit relay v2 to the network's peers: auto (while public), on or off (`MODE`)",
		field: func(c *Config) any { return &c.Node.RelayService }},
	{key: "hole_punching", flag: "hole-punching", usage: "upgrade relayed connections to direct ones (DCUtR)",
		field: func(c *Config) any { return &c.Node.HolePunching }},
	{key: "dht", flag: "dht", usage: "the network's DHT `MODE`: auto (server unless private), server, client or off",
		field: func(c *Config) any { return &c.Node.DHT }},
	{key: "announce", flag: "announce", usage: "`MULTIADDR` announced instead of the listen and observed addresses (repeat the flag)",
		field: func(c *Config) any { return &c.Node.Announce }},
	{key: "api", flag: "api", usage: "`HOST:PORT` of the local HTTP API; port 0 picks a free port",
		field: func(c *Config) any { return &c.API }},
	{key: "trust.mode", flag: "trust", env: []string{"KHANTARA_TRUST_MODE", "KHANTARA_TRUST"},
		usage: "publisher policy `MODE`: open (keep every signer), allowlist (keep only --allow) or lists (keep the members of followed organisations' lists)",
		field: func(c *Config) any { return &c.Node.Trust.Mode }},
	{key: "trust.allow", flag: "allow", usage: "publisher `ID` kept in allowlist and lists modes",
		field: func(c *Config) any { return &c.Node.Trust.Allow }},
	{key: "trust.deny", flag: "deny", usage: "publisher `ID` never kept",
		field: func(c *Config) any { return &c.Node.Trust.Deny }},
	{key: "trust.follow", flag: "follow", usage: "organisation `ORG_ID` whose membership lists decide what lists mode keeps",
		field: func(c *Config) any { return &c.Node.Trust.Follow }},
	{key: "org", flag: "org", usage: "organisation `ORG_ID` this node publishes for (khantara org init sets it)",
		field: func(c *Config) any { return &c.Node.Org }},
	{key: "quota.records", flag: "quota-records", usage: "records (`N`) one publisher may hold here in open mode; 0 for no limit",
		field: func(c *Config) any { return &c.Node.Quota.Records }},
	{key: "quota.megabytes", flag: "quota-megabytes", usage: "MiB (`N`) of envelopes one publisher may hold here in open mode; 0 for no limit",
		field: func(c *Config) any { return &c.Node.Quota.Megabytes }},
	{key: "quota.per_hour", flag: "quota-per-hour", usage: "records (`N`) accepted per publisher per hour in open mode; 0 for no limit",
		field: func(c *Config) any { return &c.Node.Quota.PerHour }},
	{key: "quota.experiences", flag: "quota-experiences", usage: "live experience slots (`N`) one publisher may hold here in open mode; 0 for no limit",
		field: func(c *Config) any { return &c.Node.Quota.Experiences }},
	{key: "purge_interval", flag: "purge-interval", usage: "how often to erase retracted and superseded content from disk (`DURATION`)",
		field: func(c *Config) any { return &c.Node.PurgeInterval }},
	{key: "sync_interval", flag: "sync-interval", usage: "how often to reconcile with a random peer (`DURATION`, e.g. 30s)",
		field: func(c *Config) any { return &c.Node.SyncInterval }},
	{key: "conn_low", flag: "conn-low", usage: "peer connections (`N`) to keep; below it the node dials bootstrap peers",
		field: func(c *Config) any { return &c.Node.ConnLow }},
	{key: "conn_high", flag: "conn-high", usage: "peer connections (`N`) above which the node trims back to --conn-low",
		field: func(c *Config) any { return &c.Node.ConnHigh }},
	{key: "disk_reserve_mib", flag: "disk-reserve-mib", usage: "free disk space (`MIB`) to keep; below it writes pause until space returns (0: no check)",
		field: func(c *Config) any { return &c.Node.DiskReserveMiB }},
	{key: "memory_limit_mib", flag: "memory-limit-mib", usage: "soft limit (`MIB`) of the Go heap; GOMEMLIMIT, if set, wins (0: no limit)",
		field: func(c *Config) any { return &c.MemoryLimitMiB }},
	{key: "log.level", flag: "log-level", usage: "least severe `LEVEL` logged: debug, info, warn or error",
		field: func(c *Config) any { return &c.Log.Level }},
	{key: "log.format", flag: "log-format", usage: "log `FORMAT`: text (key=value lines) or json",
		field: func(c *Config) any { return &c.Log.Format }},
}

// envVars are the environment variables of s.
func (s *setting) envVars() []string {
	if s.env != nil {
		return s.env
	}
	return []string{"KHANTARA_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))}
}

// public describes s with its value in def as the default.
func (s *setting) public(def *Config) Setting {
	out := Setting{Key: s.key, Flag: s.flag, Env: append([]string(nil), s.envVars()...), Usage: s.usage}
	switch p := s.field(def).(type) {
	case *string:
		out.Kind, out.Default = KindString, *p
	case *[]string:
		out.Kind, out.Default = KindList, append([]string(nil), *p...)
	case *bool:
		out.Kind, out.Default = KindBool, *p
	case *time.Duration:
		out.Kind, out.Default = KindDuration, *p
	case *int:
		out.Kind, out.Default = KindInt, *p
	default:
		panic(fmt.Sprintf("setting %s: field of type %T", s.key, p))
	}
	return out
}

// set sets s's field of cfg to v, which must be of the field's type.
func (s *setting) set(cfg *Config, v any) error {
	ok := false
	switch p := s.field(cfg).(type) {
	case *string:
		*p, ok = v.(string)
	case *[]string:
		*p, ok = v.([]string)
	case *bool:
		*p, ok = v.(bool)
	case *time.Duration:
		*p, ok = v.(time.Duration)
	case *int:
		*p, ok = v.(int)
	}
	if !ok {
		return fmt.Errorf("%s: a %T is not a value of this setting", s.key, v)
	}
	return nil
}
