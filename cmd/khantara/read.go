package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
	"github.com/urfave/cli/v2"
)

// daemonClient is the client for the invocation's home directory.
func daemonClient(c *cli.Context) (*apiClient, error) {
	home, err := requireHome(c)
	if err != nil {
		return nil, err
	}
	return newClient(home)
}

// daemonClientNoArgs refuses arguments (hint, when given, ends the
// refusal with what to do instead), then returns daemonClient.
func daemonClientNoArgs(c *cli.Context, hint string) (*apiClient, error) {
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
			ps, err := cl.practices(c.Context, listQuery{Publisher: c.String("publisher"), Mine: c.Bool("mine"), Retracted: c.Bool("retracted")})
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
func printPractices(w io.Writer, ps []node.APIPractice, width int) {
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
		Usage:     "print one practice in full, with its provenance",
		ArgsUsage: "ID|PUBLISHER/ID",
		Description: "show prints a practice's fact sheet and where it comes from: publisher,\n" +
			"sequence number, hash, whether the signature verifies, when and from which\n" +
			"peer it arrived. With ID alone it picks this node's own practice of that id,\n" +
			"else the only one; when several publishers use the id, name one as\n" +
			"PUBLISHER/ID (khantara list shows them).",
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
			rec, err := cl.record(c.Context, pub, id)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, rec)
			}
			printRecord(c.App.Writer, rec, time.Now(), termWidth())
			return nil
		},
	}
}

// resolvePractice turns show's argument into a publisher and an id. With
// PUBLISHER/ID it takes both as given; with ID alone it asks the daemon
// which publishers have a practice of that id (retracted ones included)
// and picks this node's own, else the only one.
func resolvePractice(ctx context.Context, cl *apiClient, arg string) (publisher, id string, err error) {
	if pub, id, ok := strings.Cut(arg, "/"); ok {
		if pub == "" || id == "" || strings.Contains(id, "/") {
			return "", "", cli.Exit(fmt.Sprintf("show: %q is neither ID nor PUBLISHER/ID", arg), exitUsage)
		}
		return pub, id, nil
	}
	list, err := cl.practices(ctx, listQuery{ID: arg, Retracted: true})
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
	st, err := cl.status(ctx)
	if err != nil {
		return "", "", err
	}
	if slices.Contains(pubs, st.PeerID) {
		return st.PeerID, arg, nil
	}
	slices.Sort(pubs)
	return "", "", cli.Exit(fmt.Sprintf("%d publishers have a practice %s: %s; name one: khantara show PUBLISHER/%s",
		len(pubs), arg, strings.Join(pubs, ", "), arg), exitFailed)
}

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:            "peers",
		Usage:           "list the connected peers",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			cl, err := daemonClientNoArgs(c, "")
			if err != nil {
				return err
			}
			ps, err := cl.peers(c.Context)
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []node.APIPeer{}
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, ps)
			}
			printPeers(c.App.Writer, ps, time.Now())
			return nil
		},
	}
}

// printPeers writes the table of peers.
func printPeers(w io.Writer, ps []node.APIPeer, now time.Time) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "no peers connected")
		return
	}
	t := newTable(w)
	fmt.Fprintln(t, "PEER\tDIRECTION\tSINCE\tSCORE\tLAST SYNC\tORGANISATION\tADDRESS")
	for _, p := range ps {
		last := "-"
		if s := p.LastSync; s != nil {
			last = agoShort(s.At, now)
			if s.Error != "" {
				last += " (failed)"
			}
		}
		addr := "-"
		if len(p.Addrs) > 0 {
			addr = p.Addrs[0]
			if len(p.Addrs) > 1 {
				addr += fmt.Sprintf(" (+%d)", len(p.Addrs)-1)
			}
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n", p.ID, orText(p.Direction, "-"), agoShort(p.Since, now),
			p.Score, last, truncateText(orText(p.Organisation, "-"), 40), addr)
	}
	t.Flush()
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the running node: identity, addresses, peers, catalogue, gossip and sync",
		Description: "Each address printed is a full multiaddr ending in /p2p/<peer ID>: give one to\n" +
			"another node as --bootstrap. Two nodes with the same digest hold the same\n" +
			"catalogue.",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			cl, err := daemonClientNoArgs(c, "")
			if err != nil {
				return err
			}
			st, err := cl.status(c.Context)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, st)
			}
			printStatus(c.App.Writer, st, time.Now(), termWidth())
			return nil
		},
	}
}

// reasonCounts is "3 (bad_signature 2, too_large 1)" for a map of counts.
func reasonCounts(m map[string]uint64) string {
	var total uint64
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		total += m[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// countText is "1 practice" or "2 practices".
func countText(n uint64, unit string) string {
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// bytesText is a byte count in binary units (store.FormatBytes).
func bytesText(n int64) string { return store.FormatBytes(uint64(max(n, 0))) }

// diskText is status's line on the data directory's free space.
func diskText(d *node.APIDisk, now time.Time) string {
	free, reserve := store.FormatBytes(d.FreeBytes), store.FormatBytes(d.ReserveBytes)
	if !d.WritesPaused {
		return fmt.Sprintf("%s free in %s (writes pause below %s)", free, d.Dir, reserve)
	}
	since := ""
	if d.PausedSince != nil {
		since = " since " + whenText(*d.PausedSince, now)
	}
	return fmt.Sprintf("WRITES PAUSED%s: %s free in %s, below the reserve of %s; free space there and writes resume by themselves",
		since, free, d.Dir, reserve)
}

// indexText is status's line on the search index.
func indexText(ix *search.Status) string {
	var s string
	switch {
	case ix.State == search.StateRebuilding && ix.Total > 0:
		s = fmt.Sprintf("rebuilding: %d of %d practices indexed; search answers 503 until done", ix.Done, ix.Total)
	case ix.State == search.StateRebuilding:
		s = "rebuilding; search answers 503 until done"
	case ix.State == search.StateCatchingUp:
		s = fmt.Sprintf("catching up with the store: %d of %d changes; search answers 503 until done", ix.Done, ix.Total)
	default:
		s = fmt.Sprintf("%s, at store position %d of %d", ix.State, ix.Position, ix.StorePosition)
	}
	if ix.Paused {
		s += "; writes paused: " + ix.Error
	} else if ix.Error != "" {
		s += "; last write failed (retrying): " + truncateText(ix.Error, 80)
	}
	return s
}

// printStatus writes status's human output.
func printStatus(w io.Writer, st node.APIStatus, now time.Time, width int) {
	f := fields{w: w, width: width}
	f.add("Peer ID", st.PeerID)
	f.add("Network", st.Network)
	f.add("Organisation", orText(st.Organisation, "(no profile yet: khantara profile FILE)"))
	if !st.StartedAt.IsZero() {
		f.add("Running since", whenText(st.StartedAt, now))
	}
	if len(st.Addrs) == 0 {
		f.add("Addresses", "(none: the node listens nowhere)")
	} else {
		fmt.Fprintln(w, "Addresses:         (each usable as another node's --bootstrap)")
		for _, a := range st.Addrs {
			fmt.Fprintf(w, "  %s\n", a)
		}
	}
	f.add("Peers", fmt.Sprintf("%d connected", st.Peers))
	f.add("Catalogue", fmt.Sprintf("%s, %d retracted, %s, from %s",
		countText(st.Practices, "practice"), st.Retracted, countText(st.Profiles, "profile"), countText(st.Publishers, "publisher")))
	f.add("Equivocations", fmt.Sprintf("%d seen", st.Equivocations))
	f.add("Digest", st.Digest)
	if st.Disk != nil {
		f.add("Disk", diskText(st.Disk, now))
	}
	if st.Index != nil {
		f.add("Search index", indexText(st.Index))
	}
	f.add("Gossip", fmt.Sprintf("%d accepted, %s rejected, %s ignored",
		st.Gossip.Accepted, reasonCounts(st.Gossip.Rejected), reasonCounts(st.Gossip.Ignored)))
	if len(st.Syncs) == 0 {
		f.add("Last sync", "none yet")
		return
	}
	fmt.Fprintln(w, "\nLast sync per peer:")
	t := newTable(w)
	fmt.Fprintln(t, "  PEER\tWHEN\tFETCHED\tAPPLIED\tSERVED\tSENT\tRECEIVED\tTOOK\tRESULT")
	for _, s := range st.Syncs {
		result := "ok"
		if s.Error != "" {
			result = truncateText(s.Error, 60)
		}
		fmt.Fprintf(t, "  %s\t%s\t%d\t%d\t%d\t%s\t%s\t%.2fs\t%s\n", shortPeer(s.Peer), agoShort(s.At, now),
			s.Fetched, s.Applied, s.Served, bytesText(s.BytesSent), bytesText(s.BytesReceived), s.Seconds, result)
	}
	t.Flush()
}
