package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/khantara/khantara/api"
	"github.com/urfave/cli/v2"
)

// The trust modes (node.TrustOpen and friends; the CLI does not import
// package node).
const (
	trustOpen      = "open"
	trustAllowlist = "allowlist"
	trustLists     = "lists"
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
			trustEditCommand("unfollow", "stop following an organisation (--mode for the last one)", false,
				&cli.StringFlag{Name: "mode", Usage: "the trust `MODE` (open or allowlist) once no organisation is followed"}),
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

func trustEditCommand(name, usage string, follow bool, flags ...cli.Flag) *cli.Command {
	return &cli.Command{
		Name:            name,
		Usage:           usage,
		ArgsUsage:       "ORG-ID",
		Flags:           withGlobals(flags...),
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
	was := orText(scalar(tm, "mode"), trustOpen)
	list := stringList(tm, "follow")
	changed := false
	if follow {
		list, changed = addUnique(list, org)
		if was != trustLists {
			fmt.Fprintf(w, "trust mode is now lists (was %s): this node keeps only the followed organisations, the members of their lists, trust.allow and itself\n", was)
		}
	} else if i := slices.Index(list, org); i >= 0 {
		list, changed = slices.Delete(list, i, i+1), true
	}
	mode, err := modeAfter(c, was, follow, len(list))
	if err != nil {
		return err
	}
	if mode != was {
		setScalar(tm, "mode", mode)
	}
	if changed || mode != was {
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
	if !follow && mode != was {
		fmt.Fprintf(w, "no organisation is followed any more: trust mode is now %s (was %s)\n", mode, was)
	}
	return applyTrust(c, org, follow, mode)
}

// modeAfter is the trust mode after the edit: lists after a follow; after
// an unfollow, --mode when no organisation is left in lists mode (which
// needs one), else unchanged.
func modeAfter(c *cli.Context, was string, follow bool, left int) (string, error) {
	switch {
	case follow:
		return trustLists, nil
	case was != trustLists || left > 0:
		return was, nil
	}
	switch m := c.String("mode"); m {
	case trustOpen, trustAllowlist:
		return m, nil
	case "":
		return "", cli.Exit("that is the last organisation followed, and trust mode lists needs one: give --mode open or --mode allowlist", exitUsage)
	default:
		return "", cli.Exit(fmt.Sprintf("--mode %q: use open or allowlist", m), exitUsage)
	}
}

// applyTrust makes the same change in the running daemon's policy.
func applyTrust(c *cli.Context, org string, follow bool, mode string) error {
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
	} else {
		t.Follow = slices.DeleteFunc(t.Follow, func(s string) bool { return s == org })
	}
	if follow || len(t.Follow) == 0 {
		t.Mode = mode
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
	if t.Mode != trustLists {
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
