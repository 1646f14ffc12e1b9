package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/node"
	"github.com/urfave/cli/v2"
)

// trustCommand is `khantara trust`: the organisations whose membership
// lists decide what this node keeps (trust mode lists).
func trustCommand() *cli.Command {
	return &cli.Command{
		Name:  "trust",
		Usage: "follow organisations whose membership lists decide what this node keeps",
		Description: "In trust mode lists a node keeps the records of the organisations it follows,\n" +
			"of the members of their membership lists, and of trust.allow, never of\n" +
			"trust.deny. follow and unfollow edit the config file and apply the change to\n" +
			"the running daemon at once.",
		HideHelpCommand: true,
		Subcommands: []*cli.Command{
			trustEditCommand("follow", "follow an organisation's membership lists (turns trust mode lists on)", true),
			trustEditCommand("unfollow", "stop following an organisation", false),
			{
				Name:            "lists",
				Usage:           "show the followed organisations, their lists and members, and what is kept",
				Flags:           withGlobals(),
				HideHelpCommand: true,
				OnUsageError:    usageError,
				Action: func(c *cli.Context) error {
					cl, err := daemonClientNoArgs(c, "")
					if err != nil {
						return err
					}
					t, err := cl.Trust(c.Context)
					if err != nil {
						return err
					}
					if jsonOutput(c) {
						return printJSON(c.App.Writer, t)
					}
					printTrust(c.App.Writer, t)
					return nil
				},
			},
		},
	}
}

func trustEditCommand(name, usage string, follow bool) *cli.Command {
	return &cli.Command{
		Name:            name,
		Usage:           usage,
		ArgsUsage:       "ORG-ID",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			args, err := positionals(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return cli.Exit(fmt.Sprintf("trust %s: name one ORG-ID", name), exitUsage)
			}
			org, err := parseOrgArg(args[0])
			if err != nil {
				return err
			}
			return runTrustEdit(c, org, follow)
		},
	}
}

// runTrustEdit follows (or unfollows) org in the config file, then in
// the running daemon.
func runTrustEdit(c *cli.Context, org string, follow bool) error {
	cfg, err := openConfig(c)
	if err != nil {
		return err
	}
	tm, err := mapping(cfg.root(), "trust")
	if err != nil {
		return cli.Exit(fmt.Sprintf("%s: %v; fix it first", cfg.path, err), exitUsage)
	}
	w := c.App.Writer
	was := orText(scalar(tm, "mode"), node.TrustOpen)
	list := stringList(tm, "follow")
	changed := false
	if follow {
		list, changed = addUnique(list, org)
		if was != node.TrustLists {
			setScalar(tm, "mode", node.TrustLists)
			fmt.Fprintf(w, "trust mode is now lists (was %s): this node keeps only the followed organisations, the members of their lists, trust.allow and itself\n", was)
		}
	} else if i := slices.Index(list, org); i >= 0 {
		list, changed = slices.Delete(list, i, i+1), true
	}
	if changed || (follow && was != node.TrustLists) {
		setList(tm, "follow", list)
		if err := cfg.save(); err != nil {
			return err
		}
	}
	verb := map[bool]string{true: "follows", false: "no longer follows"}[follow]
	if !changed {
		verb = map[bool]string{true: "already follows", false: "did not follow"}[follow]
	}
	fmt.Fprintf(w, "%s %s %s\n", cfg.path, verb, org)
	if !follow && len(list) == 0 && was == node.TrustLists {
		fmt.Fprintf(w, "no organisation is followed any more: in lists mode this node keeps only trust.allow and itself; set trust.mode to open to keep everyone\n")
	}
	return applyTrust(c, org, follow)
}

// applyTrust makes the same change in the running daemon's policy.
func applyTrust(c *cli.Context, org string, follow bool) error {
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	t, err := cl.Trust(c.Context)
	if errors.Is(err, api.ErrDaemonNotRunning) {
		fmt.Fprintln(c.App.Writer, "no daemon is running: it applies the change when it starts")
		return nil
	}
	if err != nil {
		return err
	}
	if follow {
		t.Follow, _ = addUnique(t.Follow, org)
		t.Mode = node.TrustLists
	} else {
		t.Follow = slices.DeleteFunc(t.Follow, func(s string) bool { return s == org })
	}
	if _, err := cl.SetTrust(c.Context, t); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "the running daemon applies it now")
	return nil
}

// printTrust writes trust lists' human output.
func printTrust(w io.Writer, t api.Trust) {
	f := fields{w: w, width: termWidth()}
	f.add("Trust mode", t.Mode)
	for _, s := range t.Follow {
		f.add("Follows", s)
	}
	for _, s := range t.Allow {
		f.add("Allows", s)
	}
	for _, s := range t.Deny {
		f.add("Denies", s)
	}
	if t.Mode != node.TrustLists {
		fmt.Fprintln(w, "\n(membership lists decide nothing outside trust mode lists)")
		return
	}
	if len(t.Lists) == 0 {
		fmt.Fprintln(w, "\nNo membership list of a followed organisation is held here yet.")
		return
	}
	for _, l := range t.Lists {
		fmt.Fprintf(w, "\n%s / %s: %s (seq %d, %d members)\n", orText(l.PublisherName, l.Publisher), l.List, l.Title, l.Seq, len(l.Members))
		tw := newTable(w)
		for _, m := range l.Members {
			kept := "kept"
			if m.Kept != nil && !*m.Kept {
				kept = "NOT kept"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", m.ID, orText(m.Name, "-"), kept)
		}
		tw.Flush()
	}
}
