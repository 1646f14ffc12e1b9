package main

// The daemon's configuration comes from four places, each overriding the
// one before: the defaults (daemon.DefaultConfig), the config file,
// KHANTARA_* environment variables, flags. Package daemon describes every
// key (kdaemon.Settings) and reads the file; this file turns the settings
// into flags and the flags set into overrides.

import (
	"fmt"
	"regexp"
	"time"

	// Aliased: the tests of this package have a type daemon.
	kdaemon "github.com/khantara/khantara/daemon"
	"github.com/urfave/cli/v2"
)

// daemonFlags are the daemon's flags, one per setting, with the defaults
// as values.
func daemonFlags() []cli.Flag {
	settings := kdaemon.Settings()
	flags := make([]cli.Flag, 0, len(settings))
	for _, s := range settings {
		name, env, usage := s.Flag, s.Env, s.Usage
		switch s.Kind {
		case kdaemon.KindString:
			flags = append(flags, &cli.StringFlag{Name: name, EnvVars: env, Usage: usage, Value: s.Default.(string)})
		case kdaemon.KindList:
			f := &cli.StringSliceFlag{Name: name, EnvVars: env, Usage: usage}
			if def := s.Default.([]string); len(def) > 0 {
				f.Value = cli.NewStringSlice(def...)
			}
			flags = append(flags, f)
		case kdaemon.KindBool:
			flags = append(flags, &cli.BoolFlag{Name: name, EnvVars: env, Usage: usage, Value: s.Default.(bool)})
		case kdaemon.KindDuration:
			flags = append(flags, &cli.DurationFlag{Name: name, EnvVars: env, Usage: usage, Value: s.Default.(time.Duration)})
		case kdaemon.KindInt:
			flags = append(flags, &cli.IntFlag{Name: name, EnvVars: env, Usage: usage, Value: s.Default.(int)})
		default:
			panic(fmt.Sprintf("setting %s: kind %d", s.Key, s.Kind))
		}
	}
	return flags
}

// loadDaemonConfig returns the daemon's configuration: the defaults,
// overridden by the config file (--config or KHANTARA_CONFIG, else
// HOME/config.yaml when it exists), overridden by the flags and
// environment variables set. The error is one line naming the key (and,
// for a value from the file, the file and line).
func loadDaemonConfig(c *cli.Context) (kdaemon.Config, error) {
	src := kdaemon.Sources{Home: homeDir(c), File: global(c, "config"), Overrides: map[string]any{}}
	for _, s := range kdaemon.Settings() {
		if c.IsSet(s.Flag) {
			src.Overrides[s.Key] = flagValue(c, s)
		}
	}
	return kdaemon.Load(src)
}

// flagValue is the value of s's flag, of the Go type of s.Kind.
func flagValue(c *cli.Context, s kdaemon.Setting) any {
	switch s.Kind {
	case kdaemon.KindList:
		// An empty environment variable means an empty list, not [""].
		var list []string
		for _, v := range c.StringSlice(s.Flag) {
			if v != "" {
				list = append(list, v)
			}
		}
		return list
	case kdaemon.KindBool:
		return c.Bool(s.Flag)
	case kdaemon.KindDuration:
		return c.Duration(s.Flag)
	case kdaemon.KindInt:
		return c.Int(s.Flag)
	}
	return c.String(s.Flag)
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
		if s, ok := kdaemon.SettingByFlag(m[3]); ok {
			msg = m[2] + ": " + s.Invalid(m[1])
		}
	} else if m := flagParseError.FindStringSubmatch(msg); m != nil {
		if s, ok := kdaemon.SettingByFlag(m[2]); ok {
			msg = "--" + m[2] + ": " + s.Invalid(m[1])
		}
	} else {
		msg += " (see khantara daemon --help)"
	}
	return cli.Exit(msg, exitUsage)
}
