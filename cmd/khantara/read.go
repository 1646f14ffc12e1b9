package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

// daemonClient is the client for the invocation's home directory.
func daemonClient(c *cli.Context) (*api.Client, error) {
	home, err := requireHome(c)
	if err != nil {
		return nil, err
	}
	return api.NewClient(home)
}

// daemonClientNoArgs refuses arguments (hint, when given, ends the
// refusal with what to do instead), then returns daemonClient.
func daemonClientNoArgs(c *cli.Context, hint string) (*api.Client, error) {
	args, err := positionals(c)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		msg := c.Command.Name + " takes no arguments"
		if hint != "" {
			msg += "; " + hint
		}
		return nil, cli.Exit(msg, exitUsage)
	}
	return daemonClient(c)
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the practices this node holds, from every publisher",
		Description: "list prints one line per practice: publisher (shortened; --json has the full\n" +
			"peer ID), id, sequence number, country and title. On a terminal, titles are\n" +
			"cut to fit its width ($COLUMNS, else 80). --retracted adds the retracted\n" +
			"practices. khantara show PUBLISHER/ID prints one in full.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "publisher", Usage: "only the practices of publisher `PEER_ID`"},
			&cli.BoolFlag{Name: "mine", Usage: "only this node's own practices"},
			&cli.BoolFlag{Name: "retracted", Usage: "include retracted practices"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			if c.IsSet("publisher") && c.Bool("mine") {
				return cli.Exit("list: use either --publisher or --mine", exitUsage)
			}
			cl, err := daemonClientNoArgs(c, "filter with --publisher, --mine or --retracted")
			if err != nil {
				return err
			}
			ps, err := cl.Practices(c.Context, api.ListQuery{Publisher: c.String("publisher"), Mine: c.Bool("mine"), Retracted: c.Bool("retracted")})
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, ps)
			}
			width := 0 // piped: whole titles, for grep and friends
			if isTerminal(c.App.Writer) {
				width = termWidth()
			}
			printPractices(c.App.Writer, ps, width)
			return nil
		},
	}
}

// printPractices writes the table of list, titles cut to fit width (0:
// whole titles).
func printPractices(w io.Writer, ps []api.Practice, width int) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "no practices known here")
		return
	}
	idw, seqw := len("ID"), len("SEQ")
	for _, p := range ps {
		idw = max(idw, utf8.RuneCountInString(p.ID))
		seqw = max(seqw, len(strconv.FormatUint(p.Seq, 10)))
	}
	// PUBLISHER is 9 wide, COUNTRY 7, each column followed by 2 spaces.
	tw := 0
	if width > 0 {
		tw = max(20, width-(9+2+idw+2+seqw+2+7+2))
	}
	t := newTable(w)
	fmt.Fprintln(t, "PUBLISHER\tID\tSEQ\tCOUNTRY\tTITLE")
	for _, p := range ps {
		title := truncateText(p.Title, tw)
		if p.Kind == protocol.KindRetract {
			title = "(retracted)"
		}
		fmt.Fprintf(t, "%s\t%s\t%d\t%s\t%s\n", shortPeer(p.Publisher), p.ID, p.Seq, orText(p.Country, "-"), title)
	}
	t.Flush()
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print one practice in full, with its provenance and experience records",
		ArgsUsage: "ID|PUBLISHER/ID",
		Description: "show prints a practice's fact sheet and where it comes from: publisher,\n" +
			"sequence number, hash, whether the signature verifies, when and from which\n" +
			"peer it arrived; then the experience records about it (counts by type, where it\n" +
			"was adapted, each record, answers under what they answer). With ID alone it\n" +
			"picks this node's own practice of that id, else the only one; when several\n" +
			"publishers use the id, name one as PUBLISHER/ID (khantara list shows them).",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			args, err := positionals(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return cli.Exit("show: name one practice: ID or PUBLISHER/ID", exitUsage)
			}
			cl, err := daemonClient(c)
			if err != nil {
				return err
			}
			pub, id, err := resolvePractice(c.Context, cl, args[0])
			if err != nil {
				return err
			}
			rec, err := cl.Record(c.Context, pub, id)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, rec)
			}
			now := time.Now()
			printRecord(c.App.Writer, rec, now, termWidth())
			if rec.Kind != protocol.KindPractice && rec.Kind != protocol.KindRetract {
				return nil
			}
			pe, err := cl.PracticeExperiences(c.Context, pub, id)
			if err != nil {
				return err
			}
			printPracticeExperiences(c.App.Writer, pe, now, termWidth())
			return nil
		},
	}
}

// resolvePractice turns show's argument into a publisher and an id. With
// PUBLISHER/ID it takes both as given; with ID alone it asks the daemon
// which publishers have a practice of that id (retracted ones included)
// and picks this node's own (its organisation's first), else the only one.
func resolvePractice(ctx context.Context, cl *api.Client, arg string) (publisher, id string, err error) {
	return resolvePracticeFor(ctx, cl, "show", arg)
}

// resolvePracticeFor is resolvePractice for the command cmd ("show",
// "experience list"), which its messages name.
func resolvePracticeFor(ctx context.Context, cl *api.Client, cmd, arg string) (publisher, id string, err error) {
	if pub, id, ok := strings.Cut(arg, "/"); ok {
		if pub == "" || id == "" || strings.Contains(id, "/") {
			return "", "", cli.Exit(fmt.Sprintf("%s: %q is neither ID nor PUBLISHER/ID", cmd, arg), exitUsage)
		}
		return pub, id, nil
	}
	list, err := cl.Practices(ctx, api.ListQuery{ID: arg, Retracted: true})
	if err != nil {
		return "", "", err
	}
	var pubs []string
	for _, p := range list {
		if p.ID == arg && !slices.Contains(pubs, p.Publisher) {
			pubs = append(pubs, p.Publisher)
		}
	}
	switch len(pubs) {
	case 0:
		return "", "", cli.Exit(fmt.Sprintf("no practice %s is known here (khantara list shows the ids)", arg), exitFailed)
	case 1:
		return pubs[0], arg, nil
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return "", "", err
	}
	// The node's own: its organisation's first (its plain copy of an
	// adopted practice is a retraction "moved to ORG-ID").
	for _, own := range []string{st.Org, st.PeerID} {
		if own != "" && slices.Contains(pubs, own) {
			return own, arg, nil
		}
	}
	slices.Sort(pubs)
	return "", "", cli.Exit(fmt.Sprintf("%d publishers have a practice %s: %s; name one: khantara %s PUBLISHER/%s",
		len(pubs), arg, strings.Join(pubs, ", "), cmd, arg), exitFailed)
}
