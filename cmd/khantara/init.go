package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	kdaemon "github.com/khantara/khantara/daemon"

	"github.com/urfave/cli/v2"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a node's home directory: identity key, API token and config.yaml",
		Description: "init creates HOME (mode 0700) with a new Ed25519 identity key (identity.key,\n" +
			"mode 0600: it is the node's libp2p identity and its publisher key), the local\n" +
			"API token (api.token) and a commented config file (config.yaml, or the file\n" +
			"named by --config). It never overwrites: if the identity key or the config\n" +
			"file exists, it stops and changes nothing. Back up identity.key: whoever holds\n" +
			"it can publish in this node's name, and without it the node cannot update or\n" +
			"retract what it published.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "network", Usage: "federation `NAME` written into the config (default: the example's)"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runInit,
	}
}

func runInit(c *cli.Context) error {
	if args, err := positionals(c); err != nil {
		return err
	} else if len(args) > 0 {
		return cli.Exit("init takes no arguments; write e.g. khantara init --home DIR", exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(home); err == nil {
		home = abs
	}
	cfgPath := global(c, "config")
	if cfgPath == "" {
		cfgPath = layoutOf(home).Config()
	} else if abs, err := filepath.Abs(cfgPath); err == nil {
		cfgPath = abs
	}
	keyPath := layoutOf(home).Identity()

	var network string
	if c.IsSet("network") {
		network = c.String("network")
		if err := kdaemon.CheckNetwork(home, network); err != nil {
			return cli.Exit(err.Error(), exitUsage)
		}
	}
	id, err := kdaemon.Init(home, cfgPath, network)
	if errors.Is(err, kdaemon.ErrInitialised) {
		return cli.Exit(err.Error(), exitFailed)
	} else if err != nil {
		return cli.Exit("init: "+err.Error(), exitFailed)
	}

	if jsonOutput(c) {
		return printJSON(c.App.Writer, struct {
			PeerID string `json:"peer_id"`
			Home   string `json:"home"`
			Config string `json:"config"`
		}{id.String(), home, cfgPath})
	}
	daemonArgs := "--home " + shellQuote(home)
	if cfgPath != layoutOf(home).Config() {
		daemonArgs += " --config " + shellQuote(cfgPath)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Initialised a Khantara node.\n\n")
	t := newTable(w)
	fmt.Fprintf(t, "  peer ID:\t%s\n", id)
	fmt.Fprintf(t, "  home:\t%s\n", home)
	fmt.Fprintf(t, "  config:\t%s\n", cfgPath)
	if c.IsSet("network") {
		fmt.Fprintf(t, "  network:\t%s\n", c.String("network"))
	}
	t.Flush()
	fmt.Fprintf(w, "\nKeep a backup of %s: it is this node's identity and publisher key.\n\n", keyPath)
	fmt.Fprintf(w, "Next steps:\n")
	fmt.Fprintf(w, "  1. review the config:  ${EDITOR:-vi} %s\n", shellQuote(cfgPath))
	fmt.Fprintf(w, "  2. start the node:     khantara daemon %s\n", daemonArgs)
	fmt.Fprintf(w, "  3. describe yourself:  khantara profile --home %s profile.yaml\n", shellQuote(home))
	fmt.Fprintf(w, "  4. publish a practice: khantara publish --home %s sheet.yaml\n", shellQuote(home))
	return nil
}

// requireHome is --home, refused when empty.
func requireHome(c *cli.Context) (string, error) {
	home := homeDir(c)
	if home == "" {
		return "", cli.Exit("home: no data directory given; pass --home or set KHANTARA_HOME", exitUsage)
	}
	return home, nil
}

// usageError gives flag errors exit code 2 and a hint to the help.
func usageError(c *cli.Context, err error, _ bool) error {
	return cli.Exit(fmt.Sprintf("%v (see khantara %s --help)", err, c.Command.Name), exitUsage)
}

// positionals returns the command's arguments, applying the flags written
// among or after them: urfave/cli stops parsing flags at the first
// argument, but "khantara retract ID --reason TEXT" should work as
// written. An argument "--" ends the flags; "-" is an argument.
func positionals(c *cli.Context) ([]string, error) {
	in := c.Args().Slice()
	var out []string
	for i := 0; i < len(in); i++ {
		a := in[i]
		if a == "--" {
			out = append(out, in[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := commandFlag(c.Command, name)
		if f == nil {
			return nil, cli.Exit(fmt.Sprintf("flag provided but not defined: %s (see khantara %s --help; for a file of that name write ./%s)", a, c.Command.Name, a), exitUsage)
		}
		if name == "h" || name == "help" {
			if err := cli.ShowCommandHelp(c.Lineage()[1], c.Command.Name); err != nil {
				return nil, err
			}
			return nil, cli.Exit("", 0)
		}
		if _, isBool := f.(*cli.BoolFlag); isBool && !hasValue {
			value = "true"
		} else if !hasValue {
			if i+1 == len(in) {
				return nil, cli.Exit(fmt.Sprintf("flag needs an argument: %s (see khantara %s --help)", a, c.Command.Name), exitUsage)
			}
			i++
			value = in[i]
		}
		if err := c.Set(name, value); err != nil {
			return nil, cli.Exit(fmt.Sprintf("invalid value %q for flag %s: %v", value, a, err), exitUsage)
		}
	}
	return out, nil
}

// commandFlag finds a flag of cmd by any of its names.
func commandFlag(cmd *cli.Command, name string) cli.Flag {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}
