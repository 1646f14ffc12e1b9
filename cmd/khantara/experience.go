package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

// experienceCommand is `khantara experience`: experience records
// (PROTOCOL.md section 13), what one publisher says about a practice.
func experienceCommand() *cli.Command {
	return &cli.Command{
		Name:  "experience",
		Usage: "publish, list and retract experience records about practices",
		Description: "An experience record is what this node's publisher says about a practice, its\n" +
			"own or another node's: an adaptation (\"we replicated it\"), a lesson, a question,\n" +
			"an answer, an endorsement. Others cannot delete yours; you can answer theirs.",
		HideHelpCommand: true,
		Subcommands:     []*cli.Command{experienceAddCommand(), experienceListCommand(), experienceRetractCommand()},
	}
}

func experienceAddCommand() *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "sign and publish an experience record (YAML or JSON) through the running daemon",
		ArgsUsage: "FILE",
		Description: "add checks the file first; if it is invalid it prints every problem\n" +
			"(FILE:LINE: field.path: message) and publishes nothing (exit code 2). A file\n" +
			"whose id (or, for an endorsement, whose practice) was published before replaces\n" +
			"that record. --dry-run only checks the file and needs no daemon; the daemon\n" +
			"checks the signed record's size when it publishes.",
		Flags: withGlobals(
			&cli.BoolFlag{Name: "dry-run", Usage: "check the file only; publish nothing"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runExperienceAdd,
	}
}

func runExperienceAdd(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return cli.Exit("experience add: name one experience file", exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	name := args[0]
	data, err := readLimited(name, protocol.MaxSheetFileSize)
	var e *protocol.Experience
	if err == nil {
		e, err = protocol.ParseExperience(data)
	}
	if err != nil {
		printSheetError(c.App.ErrWriter, name, unreadError(err))
		return cli.Exit(fmt.Sprintf("%s is not a valid experience record; nothing was published", name), exitUsage)
	}
	if c.Bool("dry-run") {
		if jsonOutput(c) {
			return printJSON(c.App.Writer, struct {
				File   string `json:"file"`
				ID     string `json:"id"`
				DryRun bool   `json:"dry_run"`
			}{name, e.Slot(), true})
		}
		fmt.Fprintf(c.App.Writer, "%s: valid (%s %s)\n", name, e.Type, e.Slot())
		return nil
	}
	cl, err := api.NewClient(home)
	if err != nil {
		return err
	}
	p, err := cl.PublishExperience(c.Context, data, false)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, p)
	}
	fmt.Fprintf(c.App.Writer, "published %s %s seq %d\n", e.Type, p.ID, p.Seq)
	return nil
}

func experienceListCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "list the experience records this node holds, or those about one practice",
		ArgsUsage: "[PRACTICE]",
		Description: "list prints one line per record: author (its name, or its shortened ID), type,\n" +
			"ID, the practice it is about (marked when retracted or not held here), date\n" +
			"and title. PRACTICE is PUBLISHER/ID, or ID alone for this node's own practice\n" +
			"(else the only one of that id). khantara show PUBLISHER/ID threads a practice's\n" +
			"questions and answers.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "type", Usage: "only records of `TYPE`: " + strings.Join(protocol.ExperienceTypes, ", ")},
			&cli.StringFlag{Name: "author", Usage: "only the records of publisher `PEER_ID`"},
			&cli.BoolFlag{Name: "mine", Usage: "only this node's own records"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runExperienceList,
	}
}

func runExperienceList(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	switch {
	case len(args) > 1:
		return cli.Exit("experience list: name at most one practice: ID or PUBLISHER/ID", exitUsage)
	case c.IsSet("author") && c.Bool("mine"):
		return cli.Exit("experience list: use either --author or --mine", exitUsage)
	case c.IsSet("type") && !slices.Contains(protocol.ExperienceTypes, c.String("type")):
		return cli.Exit(fmt.Sprintf("experience list: --type %q is not one of %s", c.String("type"), strings.Join(protocol.ExperienceTypes, ", ")), exitUsage)
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	q := api.ExperienceQuery{Author: c.String("author"), Type: c.String("type"), Mine: c.Bool("mine")}
	if len(args) == 1 {
		if q.Publisher, q.ID, err = resolvePracticeFor(c.Context, cl, "experience list", args[0]); err != nil {
			return err
		}
	}
	es, err := cl.Experiences(c.Context, q)
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, es)
	}
	width := 0 // piped: whole titles
	if isTerminal(c.App.Writer) {
		width = termWidth()
	}
	printExperiences(c.App.Writer, es, width)
	return nil
}

// printExperiences writes the table of experience list, titles cut to fit
// width (0: whole titles).
func printExperiences(w io.Writer, es []api.Experience, width int) {
	if len(es) == 0 {
		fmt.Fprintln(w, "no experience records known here")
		return
	}
	rows := make([][5]string, len(es))
	widths := [5]int{len("AUTHOR"), len("TYPE"), len("ID"), len("ABOUT"), len("DATE")}
	for i, e := range es {
		about := shortPeer(e.Experience.About.Publisher.String()) + "/" + e.Experience.About.ID
		switch e.AboutState {
		case api.AboutRetracted:
			about += " (retracted)"
		case api.AboutNotHeld:
			about += " (not held)"
		}
		rows[i] = [5]string{authorText(e.AuthorName, e.Publisher, 24), string(e.Experience.Type),
			orText(e.Experience.ID, "-"), about, e.Time.Local().Format(time.DateOnly)}
		for j, s := range rows[i] {
			widths[j] = max(widths[j], utf8.RuneCountInString(s))
		}
	}
	tw := 0
	if width > 0 {
		used := 0
		for _, n := range widths {
			used += n + 2
		}
		tw = max(20, width-used)
	}
	t := newTable(w)
	fmt.Fprintln(t, "AUTHOR\tTYPE\tID\tABOUT\tDATE\tTITLE")
	for i, e := range es {
		r := rows[i]
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3], r[4], truncateText(experienceTitle(e.Experience), tw))
	}
	t.Flush()
}

// authorText is an author's name cut to n characters, else its shortened
// ID.
func authorText(name, id string, n int) string {
	if name == "" {
		return shortPeer(id)
	}
	return truncateText(name, n)
}

// experienceTitle is a record's title, else the start of its text, on one
// line.
func experienceTitle(e *protocol.Experience) string {
	if e.Title != "" {
		return e.Title
	}
	return strings.Join(strings.Fields(e.Text), " ")
}

func experienceRetractCommand() *cli.Command {
	return &cli.Command{
		Name:      "retract",
		Usage:     "withdraw one of this node's experience records",
		ArgsUsage: "ID | --endorsement PUBLISHER/ID",
		Description: "retract publishes a signed retraction of this node's adaptation, lesson,\n" +
			"question or answer ID, or with --endorsement of its endorsement of the practice\n" +
			"PUBLISHER/ID. Every honest peer drops the record and keeps the retraction.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "endorsement", Usage: "retract the endorsement of practice `PUBLISHER/ID`"},
			&cli.StringFlag{Name: "reason", Usage: "why the record is withdrawn (`TEXT`, public)"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runExperienceRetract,
	}
}

func runExperienceRetract(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	endorsed := c.String("endorsement")
	pub, id, _ := strings.Cut(endorsed, "/")
	switch {
	case c.IsSet("endorsement") && len(args) > 0:
		return cli.Exit("experience retract: name an experience ID or --endorsement PUBLISHER/ID, not both", exitUsage)
	case c.IsSet("endorsement") && (pub == "" || id == "" || strings.Contains(id, "/")):
		return cli.Exit(fmt.Sprintf("experience retract: --endorsement %q is not PUBLISHER/ID", endorsed), exitUsage)
	case !c.IsSet("endorsement") && len(args) != 1:
		return cli.Exit("experience retract: name one experience ID, or --endorsement PUBLISHER/ID", exitUsage)
	}
	// Checked here: the client's JSON encoder would send invalid UTF-8 as
	// U+FFFD, which the daemon would accept and sign.
	if err := protocol.ValidateReason(c.String("reason")); err != nil {
		return cli.Exit("experience retract: --"+err.Error(), exitUsage)
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	var p api.Published
	if c.IsSet("endorsement") {
		p, err = cl.RetractEndorsement(c.Context, pub, id, c.String("reason"))
	} else {
		p, err = cl.RetractExperience(c.Context, args[0], c.String("reason"))
	}
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, p)
	}
	fmt.Fprintf(c.App.Writer, "retracted %s seq %d\n", p.ID, p.Seq)
	return nil
}
