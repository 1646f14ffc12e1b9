package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	kdaemon "github.com/khantara/khantara/daemon"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

// loadConfig parses args (after "khantara"; they include "daemon") and
// env as the daemon does and returns what loadDaemonConfig makes of them. Every KHANTARA_*
// variable the daemon reads is unset first, then env is applied. An error
// from flag parsing is returned as the daemon's usage error.
func loadConfig(t testing.TB, env map[string]string, args ...string) (kdaemon.Config, error) {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	var (
		cfg     kdaemon.Config
		loadErr error
	)
	cmd := daemonCommand()
	cmd.Action = func(c *cli.Context) error {
		cfg, loadErr = loadDaemonConfig(c)
		return nil
	}
	app := &cli.App{
		Name: "khantara", Flags: globalFlags(), Commands: []*cli.Command{cmd},
		Writer: io.Discard, ErrWriter: io.Discard,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(append([]string{"khantara"}, args...)); err != nil {
		return cfg, err
	}
	return cfg, loadErr
}

// clearEnv unsets, for the test, every environment variable that could
// change the daemon's configuration.
func clearEnv(t testing.TB) {
	t.Helper()
	vars := []string{"KHANTARA_HOME", "KHANTARA_CONFIG"}
	for _, s := range kdaemon.Settings() {
		vars = append(vars, s.Env...)
	}
	for _, v := range vars {
		t.Setenv(v, "") // restores the variable after the test
		os.Unsetenv(v)
	}
}

// writeFile writes text to name in dir and returns its path.
func writeFile(t testing.TB, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// newPeerID returns the peer ID of a fresh Ed25519 key.
func newPeerID(t testing.TB) string {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// picked is the part of a configuration the precedence tests look at.
type picked struct {
	Network           string
	Listen, Bootstrap []string
	MDNS, NAT         bool
	Mode              string
	Allow             []string
	SyncInterval      time.Duration
	ConnLow, ConnHigh int
	API               string
	Level, Format     string
}

func pick(c kdaemon.Config) picked {
	cfg := c.Node
	return picked{cfg.Network, cfg.Listen, cfg.Bootstrap, cfg.MDNS, cfg.NAT, cfg.Trust.Mode, cfg.Trust.Allow,
		cfg.SyncInterval, cfg.ConnLow, cfg.ConnHigh, c.API, c.Log.Level, c.Log.Format}
}

func TestConfigPrecedence(t *testing.T) {
	home, other := t.TempDir(), t.TempDir()
	peerA, peerB := newPeerID(t), newPeerID(t)
	boot := "/ip4/127.0.0.1/tcp/1/p2p/" + peerA
	file := writeFile(t, other, "khantara.yaml", `
network: filenet
listen: [/ip4/127.0.0.1/tcp/1]
bootstrap:
  - `+boot+`
mdns: false
api: 127.0.0.1:1
trust:
  mode: allowlist
  allow:
    - `+peerA+`
sync_interval: 5m
conn_low: 3
conn_high: 5
log:
  level: debug
`)
	writeFile(t, home, "config.yaml", "network: homenet\nlog: {format: json}\n")

	def := pick(kdaemon.DefaultConfig(home))
	fromHome := def
	fromHome.Network, fromHome.Format = "homenet", "json"
	fromFile := picked{"filenet", []string{"/ip4/127.0.0.1/tcp/1"}, []string{boot}, false, true, "allowlist",
		[]string{peerA}, 5 * time.Minute, 3, 5, "127.0.0.1:1", "debug", "text"}

	env := map[string]string{
		"KHANTARA_NETWORK": "envnet", "KHANTARA_LISTEN": "/ip4/127.0.0.1/tcp/2,/ip4/127.0.0.1/udp/2/quic-v1",
		"KHANTARA_BOOTSTRAP": "", "KHANTARA_MDNS": "true", "KHANTARA_TRUST": "open", "KHANTARA_TRUST_ALLOW": peerB,
		"KHANTARA_SYNC_INTERVAL": "10s", "KHANTARA_LOG_LEVEL": "warn", "KHANTARA_API": "127.0.0.1:2",
	}
	fromEnv := fromFile
	fromEnv.Network, fromEnv.Listen = "envnet", []string{"/ip4/127.0.0.1/tcp/2", "/ip4/127.0.0.1/udp/2/quic-v1"}
	fromEnv.Bootstrap, fromEnv.MDNS, fromEnv.Mode, fromEnv.Allow = nil, true, "open", []string{peerB}
	fromEnv.SyncInterval, fromEnv.Level, fromEnv.API = 10*time.Second, "warn", "127.0.0.1:2"

	flags := []string{"--network", "flagnet", "--listen", "/ip4/127.0.0.1/tcp/3", "--mdns=false",
		"--sync-interval", "20s", "--log-level", "error", "--conn-high", "7", "--log-format", "json"}
	fromFlags := fromEnv
	fromFlags.Network, fromFlags.Listen, fromFlags.MDNS = "flagnet", []string{"/ip4/127.0.0.1/tcp/3"}, false
	fromFlags.SyncInterval, fromFlags.Level, fromFlags.ConnHigh, fromFlags.Format = 20*time.Second, "error", 7, "json"

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     picked
		wantFile string
	}{
		{"defaults without a file", nil, []string{"daemon", "--home", other}, def, ""},
		{"HOME/config.yaml", nil, []string{"daemon", "--home", home}, fromHome, filepath.Join(home, "config.yaml")},
		{"KHANTARA_HOME", map[string]string{"KHANTARA_HOME": home}, []string{"daemon"}, fromHome, filepath.Join(home, "config.yaml")},
		{"--config over HOME/config.yaml", nil, []string{"daemon", "--home", home, "--config", file}, fromFile, file},
		{"--config before the command", nil, []string{"--config", file, "daemon", "--home", home}, fromFile, file},
		{"KHANTARA_CONFIG", map[string]string{"KHANTARA_CONFIG": file}, []string{"daemon", "--home", home}, fromFile, file},
		{"env over file", env, []string{"daemon", "--home", home, "--config", file}, fromEnv, file},
		{"flags over env and file", env, append([]string{"daemon", "--home", home, "--config", file}, flags...), fromFlags, file},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tc.env, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := pick(cfg); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if cfg.File != tc.wantFile {
				t.Errorf("config file %q, want %q", cfg.File, tc.wantFile)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	tests := []struct {
		name string
		file string            // the config file's text; none if ""
		env  map[string]string // more environment
		args []string          // more flags
		want string            // the error; FILE stands for the file's path
		code int               // exit code of a usage error; 0 for a load error
	}{
		{name: "unknown key", file: "network: khantara\nlistn: [/ip4/127.0.0.1/tcp/0]\n",
			want: `config FILE: line 2: unknown key "listn"; did you mean "listen"? (known keys: network, listen, bootstrap, mdns, nat, reachability, relay_service, hole_punching, dht, announce, api, trust, org, quota, purge_interval, sync_interval, conn_low, conn_high, disk_reserve_mib, memory_limit_mib, log)`},
		{name: "flag name as key", file: "sync-interval: 30s\n",
			want: `config FILE: line 1: unknown key "sync-interval"; did you mean "sync_interval"? (known keys: network, listen, bootstrap, mdns, nat, reachability, relay_service, hole_punching, dht, announce, api, trust, org, quota, purge_interval, sync_interval, conn_low, conn_high, disk_reserve_mib, memory_limit_mib, log)`},
		{name: "unknown key in a section", file: "trust:\n  mode: open\n  alow: []\n",
			want: `config FILE: line 3: unknown key "trust.alow"; did you mean "trust.allow"? (known keys under trust: mode, allow, deny, follow)`},
		{name: "key outside its section", file: "level: debug\n",
			want: `config FILE: line 1: unknown key "level"; did you mean "log.level"? (known keys: network`},
		{name: "unknown key, nothing close", file: "colour: blue\n",
			want: `config FILE: line 1: unknown key "colour" (known keys: network, listen,`},
		{name: "not a duration", file: "network: x\n\nsync_interval: soon\n",
			want: `config FILE: line 3: sync_interval: "soon" is not a duration such as 30s`},
		{name: "duration without unit", file: "sync_interval: 30\n",
			want: `config FILE: line 1: sync_interval: "30" is not a duration such as 30s: add a unit (s, m or h)`},
		{name: "not a bool", file: "mdns: yes\n", want: `config FILE: line 1: mdns: "yes" is not true or false`},
		{name: "not a number", file: "conn_low: many\n", want: `config FILE: line 1: conn_low: "many" is not a whole number`},
		{name: "list as one value", file: "listen: /ip4/0.0.0.0/tcp/7117\n",
			want: `config FILE: line 1: listen: want a list, found "/ip4/0.0.0.0/tcp/7117"; write [/ip4/0.0.0.0/tcp/7117] or one "- ITEM" line per item`},
		{name: "empty list item", file: "bootstrap:\n  -\n",
			want: `config FILE: line 2: bootstrap: item 1: want a single value, found nothing`},
		{name: "value as list", file: "network: [a, b]\n", want: `config FILE: line 1: network: want a single value, found a list`},
		{name: "section as value", file: "trust: open\n",
			want: `config FILE: line 1: trust: want the keys mode, allow, deny, follow indented below it, found "open"`},
		{name: "key twice", file: "network: a\napi: 127.0.0.1:1\nnetwork: b\n",
			want: `config FILE: line 3: network: set twice (first on line 1); keep one`},
		{name: "bad value", file: "network: Big Net\n",
			want: `config FILE: line 1: network: "Big Net" is not a network name; use 1-32 lower-case letters, digits and '-'`},
		{name: "bad value in a section", file: "log:\n  format: json\n  level: verbose\n",
			want: `config FILE: line 3: log.level: "verbose" is not one of debug, info, warn, error`},
		{name: "bad list item", file: "listen:\n  - /ip4/127.0.0.1/tcp/0\n  - 127.0.0.1:7117\n",
			want: `config FILE: line 3: listen: "127.0.0.1:7117" is not a multiaddr`},
		{name: "bad pair", file: "conn_high: 5\nconn_low: 10\n",
			want: `config FILE: line 1: conn_low, conn_high: need 1 <= conn_low <= conn_high, got 10 and 5`},
		{name: "bad disk reserve", file: "\ndisk_reserve_mib: 268435456\n",
			want: `config FILE: line 2: disk_reserve_mib: 268435456 is outside 0..1048576; give the MiB of free space to keep, e.g. 256 (0 turns the check off)`},
		{name: "bad disk reserve flag", args: []string{"--disk-reserve-mib", "-1"},
			want: `disk_reserve_mib: -1 is outside 0..1048576`},
		{name: "bad dht mode", file: "\ndht: full\n",
			want: `config FILE: line 2: dht: "full" is not one of auto, server, client, off`},
		{name: "bad announce item", file: "announce:\n  - 203.0.113.7:7117\n",
			want: `config FILE: line 2: announce: "203.0.113.7:7117" is not a multiaddr`},
		{name: "bad relay service flag", args: []string{"--relay-service", "yes"},
			want: `relay_service: "yes" is not one of auto, on, off`},
		{name: "bad reachability env", env: map[string]string{"KHANTARA_REACHABILITY": "behind-nat"},
			want: `reachability: "behind-nat" is not one of auto, public, private`},
		{name: "bad hole punching flag", args: []string{"--hole-punching=maybe"}, code: exitUsage,
			want: `--hole-punching: "maybe" is not true or false`},
		{name: "bad api", file: "api: 7118\n", want: `config FILE: line 1: api: "7118" is not HOST:PORT; write e.g. 127.0.0.1:7118`},
		{name: "bad log format", file: "log: {format: xml}\n", want: `config FILE: line 1: log.format: "xml" is neither "text" nor "json"`},
		{name: "flag fixes a bad file value", file: "network: Big Net\n", args: []string{"--network", "big-net"}},
		{name: "bad flag after a good file", file: "network: fine\n", args: []string{"--network", "Big Net"},
			want: `network: "Big Net" is not a network name`},
		{name: "bad env", env: map[string]string{"KHANTARA_TRUST_MODE": "closed"},
			want: `trust.mode: "closed" is not one of "open", "allowlist", "lists"`},
		{name: "not YAML", file: "network: [khantara\n",
			want: `config FILE: line 1: not valid YAML: did not find expected ',' or ']'`},
		{name: "tabs", file: "trust:\n\tmode: open\n",
			want: `config FILE: line 2: not valid YAML: found character that cannot start any token (indent with spaces, not tabs)`},
		{name: "two documents", file: "network: a\n---\nnetwork: b\n",
			want: `config FILE: line 2: a second YAML document; keep one (remove the ---)`},
		{name: "a list", file: "- network: a\n", want: `config FILE: line 1: want keys such as "network: khantara", found a list`},
		{name: "only comments", file: "# nothing here\n"},
		{name: "missing --config", args: []string{"--config", filepath.Join(dir, "missing.yaml")},
			want: "config " + filepath.Join(dir, "missing.yaml") + ": no such file; fix --config or KHANTARA_CONFIG, or unset both to read HOME/config.yaml"},
		{name: "missing KHANTARA_CONFIG", env: map[string]string{"KHANTARA_CONFIG": filepath.Join(dir, "missing.yaml")},
			want: "config " + filepath.Join(dir, "missing.yaml") + ": no such file"},
		{name: "unreadable --config", args: []string{"--config", dir},
			want: "config " + dir + ": cannot read it: is a directory"},
		{name: "bad env duration", env: map[string]string{"KHANTARA_SYNC_INTERVAL": "soon"},
			want: `KHANTARA_SYNC_INTERVAL: "soon" is not a duration such as 30s`, code: 2},
		{name: "bad env bool", env: map[string]string{"KHANTARA_NAT": "maybe"},
			want: `KHANTARA_NAT: "maybe" is not true or false`, code: 2},
		{name: "bad flag number", args: []string{"--conn-high", "lots"},
			want: `--conn-high: "lots" is not a whole number`, code: 2},
		{name: "bad flag bool", args: []string{"--mdns=often"},
			want: `--mdns: "often" is not true or false`, code: 2},
		{name: "unknown flag", args: []string{"--listn", "x"},
			want: `flag provided but not defined: -listn (see khantara daemon --help)`, code: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"daemon", "--home", home}
			file := ""
			if tc.file != "" {
				file = writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.file)
				args = append(args, "--config", file)
			}
			_, err := loadConfig(t, tc.env, append(args, tc.args...)...)
			want := strings.ReplaceAll(tc.want, "FILE", file)
			switch {
			case want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case want == "":
				return
			case err == nil:
				t.Fatalf("no error, want %q", want)
			case !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n"):
				t.Errorf("error\n%s\nwant one line starting\n%s", err, want)
			}
			code := 0
			if ec := exitCoder(nil); errors.As(err, &ec) {
				code = ec.ExitCode()
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
		})
	}
}
