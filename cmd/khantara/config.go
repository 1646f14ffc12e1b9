package main

// The daemon's configuration comes from four places, each overriding the
// one before: the defaults (node.DefaultConfig and defaultSettings), the
// config file, KHANTARA_* environment variables, flags. One table,
// settings, ties every file key to its flag and environment variable;
// configs/khantara.example.yaml documents each key.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"
)

// daemonSettings is the daemon's configuration outside node.Config.
type daemonSettings struct {
	// API is the HOST:PORT of the local HTTP API; default 127.0.0.1:7118.
	API string
	// Log configures the daemon's log on stderr.
	Log logSettings
	// File is the config file that was read; "" when none was.
	File string
}

// logSettings configures the daemon's log.
type logSettings struct {
	// Level is the least severe level logged: debug, info (default), warn
	// or error.
	Level string
	// Format is text (default: key=value lines) or json (one object a line).
	Format string
}

func defaultSettings() daemonSettings {
	return daemonSettings{API: defaultAPIAddr, Log: logSettings{Level: "info", Format: "text"}}
}

// setting is one configuration key.
type setting struct {
	// key is the key in the config file; a dot separates a section from
	// a key inside it: trust.mode is mode: under trust:.
	key string
	// flag is the daemon flag that overrides the file.
	flag string
	// env are the flag's environment variables, the first one "KHANTARA_"
	// and the key in upper case with '.' written '_'.
	env []string
	// usage is the flag's help text.
	usage string
	// field returns the field the setting fills: a *string, *[]string,
	// *bool, *time.Duration or *int.
	field func(*node.Config, *daemonSettings) any
}

// settings are the daemon's configuration keys, in the order of the
// example file and of `khantara daemon --help`.
var settings = []setting{
	{key: "network", flag: "network", usage: "federation `NAME`; nodes talk only within one network",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Network }},
	{key: "listen", flag: "listen", usage: "`MULTIADDR` to listen on (repeat the flag for more)",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Listen }},
	{key: "bootstrap", flag: "bootstrap", usage: "peer `MULTIADDR` ending in /p2p/<peer ID> to dial",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Bootstrap }},
	{key: "mdns", flag: "mdns", usage: "find peers on the local network",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.MDNS }},
	{key: "nat", flag: "nat", usage: "map ports with UPnP/NAT-PMP and punch holes through NATs",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.NAT }},
	{key: "api", flag: "api", usage: "`HOST:PORT` of the local HTTP API; port 0 picks a free port",
		field: func(_ *node.Config, d *daemonSettings) any { return &d.API }},
	{key: "trust.mode", flag: "trust", env: []string{"KHANTARA_TRUST_MODE", "KHANTARA_TRUST"},
		usage: "publisher policy `MODE`: open (keep every signer) or allowlist (keep only --allow)",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Trust.Mode }},
	{key: "trust.allow", flag: "allow", usage: "publisher `PEER_ID` kept in allowlist mode",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Trust.Allow }},
	{key: "trust.deny", flag: "deny", usage: "publisher `PEER_ID` never kept",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Trust.Deny }},
	{key: "quota.records", flag: "quota-records", usage: "records (`N`) one publisher may hold here in open mode; 0 for no limit",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Quota.Records }},
	{key: "quota.megabytes", flag: "quota-megabytes", usage: "MiB (`N`) of envelopes one publisher may hold here in open mode; 0 for no limit",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Quota.Megabytes }},
	{key: "quota.per_hour", flag: "quota-per-hour", usage: "records (`N`) accepted per publisher per hour in open mode; 0 for no limit",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.Quota.PerHour }},
	{key: "purge_interval", flag: "purge-interval", usage: "how often to erase retracted and superseded content from disk (`DURATION`)",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.PurgeInterval }},
	{key: "sync_interval", flag: "sync-interval", usage: "how often to reconcile with a random peer (`DURATION`, e.g. 30s)",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.SyncInterval }},
	{key: "conn_low", flag: "conn-low", usage: "peer connections (`N`) to keep; below it the node dials bootstrap peers",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.ConnLow }},
	{key: "conn_high", flag: "conn-high", usage: "peer connections (`N`) above which the node trims back to --conn-low",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.ConnHigh }},
	{key: "disk_reserve_mib", flag: "disk-reserve-mib", usage: "free disk space (`MIB`) to keep; below it writes pause until space returns (0: no check)",
		field: func(c *node.Config, _ *daemonSettings) any { return &c.DiskReserveMiB }},
	{key: "log.level", flag: "log-level", usage: "least severe `LEVEL` logged: debug, info, warn or error",
		field: func(_ *node.Config, d *daemonSettings) any { return &d.Log.Level }},
	{key: "log.format", flag: "log-format", usage: "log `FORMAT`: text (key=value lines) or json",
		field: func(_ *node.Config, d *daemonSettings) any { return &d.Log.Format }},
}

// envVars are the environment variables of s.
func (s *setting) envVars() []string {
	if s.env != nil {
		return s.env
	}
	return []string{"KHANTARA_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))}
}

// daemonFlags are the daemon's flags, one per setting, with the defaults
// as values.
func daemonFlags() []cli.Flag {
	cfg, ds := node.DefaultConfig(""), defaultSettings()
	flags := make([]cli.Flag, 0, len(settings))
	for i := range settings {
		s := &settings[i]
		name, env, usage := s.flag, s.envVars(), s.usage
		switch p := s.field(&cfg, &ds).(type) {
		case *string:
			flags = append(flags, &cli.StringFlag{Name: name, EnvVars: env, Usage: usage, Value: *p})
		case *[]string:
			f := &cli.StringSliceFlag{Name: name, EnvVars: env, Usage: usage}
			if len(*p) > 0 {
				f.Value = cli.NewStringSlice(*p...)
			}
			flags = append(flags, f)
		case *bool:
			flags = append(flags, &cli.BoolFlag{Name: name, EnvVars: env, Usage: usage, Value: *p})
		case *time.Duration:
			flags = append(flags, &cli.DurationFlag{Name: name, EnvVars: env, Usage: usage, Value: *p})
		case *int:
			flags = append(flags, &cli.IntFlag{Name: name, EnvVars: env, Usage: usage, Value: *p})
		default:
			panic(fmt.Sprintf("setting %s: field of type %T", s.key, p))
		}
	}
	return flags
}

// loadDaemonConfig returns the daemon's configuration: the defaults,
// overridden by the config file, overridden by the flags and environment
// variables set. The error is one line naming the key (and, for a value
// from the file, the file and line).
func loadDaemonConfig(c *cli.Context) (node.Config, daemonSettings, error) {
	cfg, ds := node.DefaultConfig(homeDir(c)), defaultSettings()
	fromFile := map[string]*yaml.Node{}
	path, explicit := configPath(c, cfg.Home)
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !explicit:
			path = ""
		case errors.Is(err, fs.ErrNotExist):
			return cfg, ds, fmt.Errorf("config %s: no such file; fix --config or KHANTARA_CONFIG, or unset both to read HOME/%s", path, homeConfigFile)
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return cfg, ds, fmt.Errorf("config %s: cannot read it: %v", path, err)
		default:
			if fromFile, err = decodeConfig(data, &cfg, &ds); err != nil {
				return cfg, ds, fmt.Errorf("config %s: %w", path, err)
			}
		}
	}
	for i := range settings {
		s := &settings[i]
		if c.IsSet(s.flag) {
			s.setFromFlag(c, &cfg, &ds)
			delete(fromFile, s.key)
		}
	}
	ds.File = path
	if err := validate(&cfg, &ds); err != nil {
		if line := fileLine(err, fromFile); line > 0 {
			return cfg, ds, fmt.Errorf("config %s: line %d: %w", path, line, err)
		}
		return cfg, ds, err
	}
	return cfg, ds, nil
}

// configPath is the config file to read: the one --config or
// KHANTARA_CONFIG names (explicit: it must exist), else HOME/config.yaml
// (read if it exists), else none.
func configPath(c *cli.Context, home string) (path string, explicit bool) {
	if p := global(c, "config"); p != "" {
		return p, true
	}
	if home == "" {
		return "", false
	}
	return filepath.Join(home, homeConfigFile), false
}

func (s *setting) setFromFlag(c *cli.Context, cfg *node.Config, ds *daemonSettings) {
	switch p := s.field(cfg, ds).(type) {
	case *string:
		*p = c.String(s.flag)
	case *[]string:
		// An empty environment variable means an empty list, not [""].
		var list []string
		for _, v := range c.StringSlice(s.flag) {
			if v != "" {
				list = append(list, v)
			}
		}
		*p = list
	case *bool:
		*p = c.Bool(s.flag)
	case *time.Duration:
		*p = c.Duration(s.flag)
	case *int:
		*p = c.Int(s.flag)
	}
}

// validate checks the whole configuration; its error starts with the key.
func validate(cfg *node.Config, ds *daemonSettings) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(ds.API)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		return fmt.Errorf("api: %q is not HOST:PORT; write e.g. %s", ds.API, defaultAPIAddr)
	}
	if _, ok := logLevels[strings.ToLower(ds.Log.Level)]; !ok {
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", ds.Log.Level)
	}
	switch strings.ToLower(ds.Log.Format) {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is neither \"text\" nor \"json\"", ds.Log.Format)
	}
	return nil
}

// fileLine is the line of the config file that holds the value err is
// about, or 0 when that value did not come from the file. err starts with
// the key, or keys separated by ", ", then ": ". For a list, the line is
// that of the item err quotes.
func fileLine(err error, fromFile map[string]*yaml.Node) int {
	keys, _, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return 0
	}
	line := 0
	for _, k := range strings.Split(keys, ", ") {
		v := fromFile[k]
		if v == nil {
			continue
		}
		l := v.Line
		for _, item := range v.Content {
			if strings.Contains(err.Error(), strconv.Quote(item.Value)) {
				l = item.Line
				break
			}
		}
		if line == 0 || l < line {
			line = l
		}
	}
	return line
}

// decodeConfig applies the config file data to cfg and ds. It returns the
// value node of each key set, by key. A key with an empty value (null)
// keeps its default. Errors are "line N: key: problem" or "line N:
// problem".
func decodeConfig(data []byte, cfg *node.Config, ds *daemonSettings) (map[string]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return map[string]*yaml.Node{}, nil // empty, or only comments
	} else if err != nil {
		return nil, yamlSyntaxError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: a second YAML document; keep one (remove the ---)", extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return map[string]*yaml.Node{}, nil
	}
	d := &configDecoder{cfg: cfg, ds: ds, set: map[string]*yaml.Node{}, keyLine: map[string]int{}}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want keys such as \"network: khantara\", found %s", root.Line, describe(root))
	}
	if err := d.mapping(root, ""); err != nil {
		return nil, err
	}
	return d.set, nil
}

// configDecoder walks the YAML tree of a config file.
type configDecoder struct {
	cfg     *node.Config
	ds      *daemonSettings
	set     map[string]*yaml.Node // value node by key, for keys with a value
	keyLine map[string]int        // line of every key seen, for duplicates
}

// mapping decodes the keys of m, a section's when section is not "".
func (d *configDecoder) mapping(m *yaml.Node, section string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: want a key name such as network, found %s", k.Line, describe(k))
		}
		key := k.Value
		if section != "" {
			key = section + "." + key
		}
		if first, dup := d.keyLine[key]; dup {
			return fmt.Errorf("line %d: %s: set twice (first on line %d); keep one", k.Line, key, first)
		}
		d.keyLine[key] = k.Line
		s, isSection := lookupSetting(key)
		if s == nil && !isSection {
			return fmt.Errorf("line %d: %s", k.Line, unknownKey(key))
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // key: with no value keeps the default
		}
		if isSection {
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: %s: want the keys %s indented below it, found %s",
					v.Line, key, strings.Join(sectionKeys(key), ", "), describe(v))
			}
			if err := d.mapping(v, key); err != nil {
				return err
			}
			continue
		}
		if err := s.setFromYAML(v, d.cfg, d.ds); err != nil {
			return fmt.Errorf("line %d: %s: %w", errLine(err, v.Line), key, err)
		}
		d.set[key] = v
	}
	return nil
}

// itemError is a problem with one item of a list, at its line.
type itemError struct {
	line int
	msg  string
}

func (e *itemError) Error() string { return e.msg }

func errLine(err error, line int) int {
	if ie, ok := err.(*itemError); ok {
		return ie.line
	}
	return line
}

// setFromYAML sets s's field from the YAML value v; the error does not
// name the key.
func (s *setting) setFromYAML(v *yaml.Node, cfg *node.Config, ds *daemonSettings) error {
	field := s.field(cfg, ds)
	if _, isList := field.(*[]string); !isList && v.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a single value, found %s", describe(v))
	}
	switch p := field.(type) {
	case *string:
		*p = v.Value
	case *[]string:
		if v.Kind == yaml.ScalarNode {
			return fmt.Errorf("want a list, found %s; write [%s] or one \"- ITEM\" line per item", describe(v), v.Value)
		}
		if v.Kind != yaml.SequenceNode {
			return fmt.Errorf("want a list, found %s", describe(v))
		}
		var list []string
		for i, item := range v.Content {
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				return &itemError{item.Line, fmt.Sprintf("item %d: want a single value, found %s", i+1, describe(item))}
			}
			list = append(list, item.Value)
		}
		*p = list
	case *bool:
		if v.Tag != "!!bool" || v.Decode(p) != nil {
			return errors.New(badValue(p, v.Value))
		}
	case *time.Duration:
		d, err := time.ParseDuration(v.Value)
		if err != nil {
			return errors.New(badValue(p, v.Value))
		}
		*p = d
	case *int:
		if v.Tag != "!!int" || v.Decode(p) != nil {
			return errors.New(badValue(p, v.Value))
		}
	}
	return nil
}

// badValue says that value is not of the type field points to.
func badValue(field any, value string) string {
	switch field.(type) {
	case *bool:
		return fmt.Sprintf("%q is not true or false", value)
	case *time.Duration:
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			return fmt.Sprintf("%q is not a duration such as 30s: add a unit (s, m or h)", value)
		}
		return fmt.Sprintf("%q is not a duration such as 30s", value)
	case *int:
		return fmt.Sprintf("%q is not a whole number", value)
	}
	return fmt.Sprintf("%q is not a valid value", value)
}

// describe names what YAML node n is, for errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "keys"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// lookupSetting returns the setting of key, or whether key is a section
// such as trust.
func lookupSetting(key string) (s *setting, isSection bool) {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i], false
		}
		if strings.HasPrefix(settings[i].key, key+".") {
			isSection = true
		}
	}
	return nil, isSection
}

// sectionKeys are the keys directly inside section ("" for the top
// level), sections included, in table order.
func sectionKeys(section string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, s := range settings {
		rest, ok := s.key, section == ""
		if !ok {
			rest, ok = strings.CutPrefix(s.key, section+".")
		}
		if !ok {
			continue
		}
		k, _, _ := strings.Cut(rest, ".")
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// unknownKey says that key is not a configuration key, suggesting the
// closest one and listing the keys at its level.
func unknownKey(key string) string {
	section, leaf := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		section, leaf = key[:i], key[i+1:]
	}
	known := "known keys: " + strings.Join(sectionKeys(section), ", ")
	if section != "" {
		known = "known keys under " + section + ": " + strings.Join(sectionKeys(section), ", ")
	}
	if s := closestKey(key, leaf); s != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q? (%s)", key, s, known)
	}
	return fmt.Sprintf("unknown key %q (%s)", key, known)
}

// closestKey is the setting key nearest to key (or whose last part is
// nearest to leaf, the last part of key), or "" when none is near.
func closestKey(key, leaf string) string {
	best, bestDist := "", 3
	for _, s := range settings {
		sLeaf := s.key[strings.LastIndexByte(s.key, '.')+1:]
		d := min(editDistance(key, s.key), editDistance(leaf, sLeaf))
		if d < bestDist && d <= len(sLeaf)/2 {
			best, bestDist = s.key, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError turns a YAML parser error into "line N: not valid YAML:
// problem".
func yamlSyntaxError(err error, data []byte) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		msg = "line " + m[1] + ": not valid YAML: " + m[2]
	} else {
		msg = "not valid YAML: " + msg
	}
	if bytes.ContainsRune(data, '\t') {
		msg += " (indent with spaces, not tabs)"
	}
	return errors.New(msg)
}

var (
	envParseError  = regexp.MustCompile(`^could not parse "(.*)" as \w+ value from environment variable "(\w+)" for flag ([\w-]+): `)
	flagParseError = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([\w-]+): `)
)

// daemonUsageError turns an error parsing the daemon's flags or their
// environment variables into a one-line error naming the flag or
// variable, with exit code 2.
func daemonUsageError(_ *cli.Context, err error, _ bool) error {
	msg := err.Error()
	if m := envParseError.FindStringSubmatch(msg); m != nil {
		if p := flagField(m[3]); p != nil {
			msg = m[2] + ": " + badValue(p, m[1])
		}
	} else if m := flagParseError.FindStringSubmatch(msg); m != nil {
		if p := flagField(m[2]); p != nil {
			msg = "--" + m[2] + ": " + badValue(p, m[1])
		}
	} else {
		msg += " (see khantara daemon --help)"
	}
	return cli.Exit(msg, exitUsage)
}

// flagField returns a pointer to a zero value of the type of the setting
// of flag, or nil.
func flagField(flag string) any {
	var cfg node.Config
	var ds daemonSettings
	for i := range settings {
		if settings[i].flag == flag {
			return settings[i].field(&cfg, &ds)
		}
	}
	return nil
}
