package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

func publishCommand() *cli.Command {
	return &cli.Command{
		Name:      "publish",
		Usage:     "sign and publish fact sheets (YAML or JSON) through the running daemon",
		ArgsUsage: "FILE...",
		Description: "publish checks every file first; if any is invalid it prints every problem\n" +
			"(FILE:LINE: field.path: message) and publishes nothing (exit code 2).\n" +
			"Publishing a sheet whose id was published before replaces it, with the next\n" +
			"sequence number. --dry-run only checks the files and needs no daemon.",
		Flags: withGlobals(
			&cli.BoolFlag{Name: "dry-run", Usage: "check the files only; publish nothing"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runPublish,
	}
}

// sheetFile is a fact-sheet file read and checked locally.
type sheetFile struct {
	name  string
	data  []byte
	sheet *protocol.FactSheet
	err   error // why the file cannot be published
}

// loadSheet reads and validates one fact-sheet file.
func loadSheet(name string) sheetFile {
	s := sheetFile{name: name}
	s.data, s.err = readLimited(name, protocol.MaxSheetFileSize)
	if s.err == nil {
		s.sheet, s.err = protocol.ParseSheet(s.data)
	}
	return s
}

// readLimited reads a file of at most limit bytes, refusing larger ones
// before reading them whole.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("is a directory, not a file")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the file is over the limit of %d bytes", limit)
	}
	return data, nil
}

// unreadError strips the "open NAME: " of a file error, since every
// problem line already starts with the file name.
func unreadError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// printProblems writes every problem of an unpublishable file, one line
// each: "FILE:LINE: path: message".
func printProblems(w io.Writer, s sheetFile) {
	printSheetError(w, s.name, unreadError(s.err))
}

// duplicateID returns the earlier file with the same sheet id as s.
func duplicateID(seen map[string]string, s sheetFile) (string, bool) {
	if prev, ok := seen[s.sheet.ID]; ok {
		return prev, true
	}
	seen[s.sheet.ID] = s.name
	return "", false
}

func runPublish(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return cli.Exit("publish: name at least one fact-sheet file", exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	var sheets []sheetFile
	bad := 0
	ids := map[string]string{}
	for _, name := range args {
		s := loadSheet(name)
		if s.err == nil {
			if prev, dup := duplicateID(ids, s); dup {
				s.err = fmt.Errorf("id: %q is also the id of %s; the second would replace the first", s.sheet.ID, prev)
			}
		}
		if s.err != nil {
			bad++
			printProblems(c.App.ErrWriter, s)
		}
		sheets = append(sheets, s)
	}
	if bad > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d files cannot be published; nothing was published", bad, len(sheets)), exitUsage)
	}

	if c.Bool("dry-run") {
		type checked struct {
			File   string `json:"file"`
			ID     string `json:"id"`
			DryRun bool   `json:"dry_run"`
		}
		var out []checked
		for _, s := range sheets {
			out = append(out, checked{File: s.name, ID: s.sheet.ID, DryRun: true})
			if !jsonOutput(c) {
				fmt.Fprintf(c.App.Writer, "%s: valid (%s)\n", s.name, s.sheet.ID)
			}
		}
		if jsonOutput(c) {
			return printJSON(c.App.Writer, out)
		}
		return nil
	}

	cl, err := api.NewClient(home)
	if err != nil {
		return err
	}
	var done []api.Published
	for i, s := range sheets {
		p, err := cl.Publish(c.Context, s.data, false)
		if err != nil {
			if i == 0 && errors.Is(err, api.ErrDaemonNotRunning) {
				return err
			}
			if jsonOutput(c) && len(done) > 0 {
				_ = printJSON(c.App.Writer, done) // best effort: the publish error is what matters
			}
			if len(sheets) == 1 {
				return fmt.Errorf("publish %s: %w", s.name, err)
			}
			return fmt.Errorf("publish %s: %w (%d of %d files published before it)", s.name, err, i, len(sheets))
		}
		done = append(done, p)
		if !jsonOutput(c) {
			fmt.Fprintf(c.App.Writer, "published %s seq %d\n", p.ID, p.Seq)
		}
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, done)
	}
	return nil
}

func retractCommand() *cli.Command {
	return &cli.Command{
		Name:      "retract",
		Usage:     "withdraw one of this node's practices from the federation",
		ArgsUsage: "ID",
		Description: "retract publishes a signed retraction of practice ID: every honest peer drops\n" +
			"the sheet and keeps the retraction. Publishing a sheet with the same id later\n" +
			"brings the practice back.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "reason", Usage: "why the practice is withdrawn (`TEXT`, public)"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			args, err := positionals(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return cli.Exit("retract: name one practice ID", exitUsage)
			}
			// Checked here: the client's JSON encoder would send invalid
			// UTF-8 as U+FFFD, which the daemon would accept and sign.
			if err := protocol.ValidateReason(c.String("reason")); err != nil {
				return cli.Exit("retract: --"+err.Error(), exitUsage)
			}
			cl, err := daemonClient(c)
			if err != nil {
				return err
			}
			p, err := cl.Retract(c.Context, args[0], c.String("reason"))
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, p)
			}
			fmt.Fprintf(c.App.Writer, "retracted %s seq %d\n", p.ID, p.Seq)
			return nil
		},
	}
}

func profileCommand() *cli.Command {
	return &cli.Command{
		Name:      "profile",
		Usage:     "publish this node's organisation profile from FILE, or show it",
		ArgsUsage: "[FILE]",
		Description: "With FILE (YAML or JSON: name, country, level, website, languages,\n" +
			"description), profile checks it and publishes it as this node's profile,\n" +
			"replacing the previous one. Without FILE it shows the current profile, this\n" +
			"node's or, with --publisher, another publisher's.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "publisher", Usage: "show the profile of publisher `PEER_ID`"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runProfile,
	}
}

func runProfile(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		return cli.Exit("profile: name at most one profile file", exitUsage)
	}
	if len(args) == 1 && c.IsSet("publisher") {
		return cli.Exit("profile: --publisher is for showing a profile; a file publishes this node's own", exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		cl, err := api.NewClient(home)
		if err != nil {
			return err
		}
		p, err := cl.Profile(c.Context, c.String("publisher"))
		var ae *api.ResponseError
		if errors.As(err, &ae) && ae.Status == 404 && !c.IsSet("publisher") {
			return cli.Exit("this node has no profile yet; publish one with: khantara profile --home "+shellQuote(home)+" FILE", exitFailed)
		}
		if err != nil {
			return err
		}
		if jsonOutput(c) {
			return printJSON(c.App.Writer, p)
		}
		printProfile(c.App.Writer, p)
		return nil
	}

	name := args[0]
	data, err := readLimited(name, protocol.MaxSheetFileSize)
	if err == nil {
		_, err = protocol.ParseProfile(data)
	}
	if err != nil {
		printSheetError(c.App.ErrWriter, name, unreadError(err))
		return cli.Exit(fmt.Sprintf("%s is not a valid profile; nothing was published", name), exitUsage)
	}
	cl, err := api.NewClient(home)
	if err != nil {
		return err
	}
	p, err := cl.PutProfile(c.Context, data)
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, p)
	}
	fmt.Fprintf(c.App.Writer, "published the profile seq %d\n", p.Seq)
	return nil
}

// printProfile writes a profile as labelled lines.
func printProfile(w io.Writer, p api.Profile) {
	t := newTable(w)
	fmt.Fprintf(t, "Publisher:\t%s\n", p.Publisher)
	fmt.Fprintf(t, "Name:\t%s\n", p.Profile.Name)
	fmt.Fprintf(t, "Country:\t%s\n", p.Profile.Country)
	fmt.Fprintf(t, "Level:\t%s\n", p.Profile.Level)
	if p.Profile.Website != "" {
		fmt.Fprintf(t, "Website:\t%s\n", p.Profile.Website)
	}
	if len(p.Profile.Languages) > 0 {
		fmt.Fprintf(t, "Languages:\t%s\n", strings.Join(p.Profile.Languages, ", "))
	}
	fmt.Fprintf(t, "Sequence:\t%d\n", p.Seq)
	t.Flush()
	if p.Profile.Description != "" {
		fmt.Fprintf(w, "Description:\n%s", wrapText(p.Profile.Description, termWidth()-2, "  "))
	}
}
