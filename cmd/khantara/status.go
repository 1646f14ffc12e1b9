package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/search"
	"github.com/urfave/cli/v2"
)

// The daemon's state: the peers and status commands.

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
			ps, err := cl.Peers(c.Context)
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []api.Peer{}
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
func printPeers(w io.Writer, ps []api.Peer, now time.Time) {
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
		Usage: "show the running node: identity, addresses, peers, reachability, catalogue, gossip and sync",
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
			st, err := cl.Status(c.Context)
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

// bytesText is a byte count in binary units (api.FormatBytes).
func bytesText(n int64) string { return api.FormatBytes(uint64(max(n, 0))) }

// diskText is status's line on the data directory's free space.
func diskText(d *api.Disk, now time.Time) string {
	free, reserve := api.FormatBytes(d.FreeBytes), api.FormatBytes(d.ReserveBytes)
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

// publisherText says who this node publishes as: itself, or an
// organisation, and what the organisation's chain says of the node's key.
func publisherText(st api.Status) string {
	if st.Org == "" {
		return "itself, its peer ID (khantara org init makes an organisation the publisher)"
	}
	name := orText(st.OrgName, "organisation")
	switch st.OrgKey {
	case "delegated":
		return fmt.Sprintf("%s %s; this node's key is delegated for %s", name, st.Org, strings.Join(st.OrgMay, ", "))
	case "revoked":
		return fmt.Sprintf("%s %s; this node's key is REVOKED: it cannot publish for the organisation", name, st.Org)
	case "rotation":
		return fmt.Sprintf("%s %s; this node's key is a rotation key, which signs operations only: delegate a key to publish", name, st.Org)
	}
	return fmt.Sprintf("%s %s; this node's key is not delegated (yet): its chain has not arrived here, or does not name the key", name, st.Org)
}

// printStatus writes status's human output.
func printStatus(w io.Writer, st api.Status, now time.Time, width int) {
	f := fields{w: w, width: width}
	f.add("Peer ID", st.PeerID)
	f.add("Network", st.Network)
	f.add("Organisation", orText(st.Organisation, "(no profile yet: khantara profile FILE)"))
	f.add("Publishes as", publisherText(st))
	if st.Trust != "" {
		f.add("Trust", st.Trust)
	}
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
	if st.Reach != nil {
		addReach(f, st.Reach, now)
	}
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
