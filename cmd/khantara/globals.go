package main

import (
	"github.com/khantara/khantara/home"
	"github.com/urfave/cli/v2"
)

// The global flags. Each command repeats them (withGlobals), so they work
// before the command name and after it: khantara --home D status and
// khantara status --home D mean the same.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "home", Value: home.DefaultRoot(), EnvVars: []string{"KHANTARA_HOME"}, Usage: "data `DIR`: identity, store, config.yaml, api, api.token"},
		&cli.StringFlag{Name: "config", EnvVars: []string{"KHANTARA_CONFIG"}, Usage: "config `FILE` (default: HOME/config.yaml when it exists)"},
		&cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON instead of tables"},
	}
}

// withGlobals returns flags followed by fresh copies of the global flags.
func withGlobals(flags ...cli.Flag) []cli.Flag {
	return append(flags, globalFlags()...)
}

// global returns the value of a global string flag: the innermost one set
// (command, then app; a flag's environment variable counts as set), else
// the default.
func global(c *cli.Context, name string) string {
	for _, x := range c.Lineage() {
		if x.IsSet(name) {
			return x.String(name)
		}
	}
	return c.String(name)
}

// layoutOf is the layout of the data directory dir.
func layoutOf(dir string) home.Layout { return home.Layout{Root: dir} }

// homeDir is the --home of the invocation.
func homeDir(c *cli.Context) string { return global(c, "home") }

// jsonOutput reports whether --json was given, before or after the command.
func jsonOutput(c *cli.Context) bool {
	for _, x := range c.Lineage() {
		if x.IsSet("json") && x.Bool("json") {
			return true
		}
	}
	return false
}
