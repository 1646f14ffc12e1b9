package main

import (
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func newApp() *cli.App {
	return &cli.App{
		Name:                 "khantara",
		Usage:                "a federated, peer-to-peer catalogue of migrant-integration practices",
		Version:              buildVersion(),
		EnableBashCompletion: true,
		HideVersion:          true,
		Flags:                globalFlags(),
		Commands: []*cli.Command{
			initCommand(),
			daemonCommand(),
			demoCommand(),
			publishCommand(),
			importCommand(),
			retractCommand(),
			experienceCommand(),
			profileCommand(),
			orgCommand(),
			trustCommand(),
			listCommand(),
			showCommand(),
			searchCommand(),
			statsCommand(),
			exportCommand(),
			reindexCommand(),
			purgeCommand(),
			peersCommand(),
			statusCommand(),
			validateCommand(),
			completionCommand(),
			versionCommand(),
		},
		// Errors are printed once, by main.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
