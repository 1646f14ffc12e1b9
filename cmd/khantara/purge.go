package main

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

func purgeCommand() *cli.Command {
	return &cli.Command{
		Name:  "purge",
		Usage: "erase retracted, superseded and removed content from the daemon's disk now",
		Description: "A retracted or superseded sheet leaves the catalogue at once, but its bytes stay\n" +
			"in the store's files until the daemon purges them, which it does by itself within\n" +
			"purge_interval (default 1h) and at start. purge does it now: it rewrites the store\n" +
			"without them and rebuilds the search index, so no file under the data directory\n" +
			"holds them any more. With --publisher ID it first removes every record of that\n" +
			"publisher; add the ID to trust.deny as well, or gossip and sync bring them back.\n" +
			"It needs the API token and free space for one copy of the store.",
		Flags: withGlobals(&cli.StringFlag{Name: "publisher", Usage: "remove every record of publisher `PEER_ID` first"}),

		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			pub := c.String("publisher")
			if _, err := peer.Decode(pub); pub != "" && err != nil {
				return cli.Exit(fmt.Sprintf("--publisher: %q is not a publisher ID (a peer ID such as 12D3KooW...)", pub), exitUsage)
			}
			cl, err := daemonClientNoArgs(c, "")
			if err != nil {
				return err
			}
			r, err := cl.Purge(c.Context, pub)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, r)
			}
			w := c.App.Writer
			if r.Publisher != "" {
				fmt.Fprintf(w, "removed %d records of %s\n", r.Removed, r.Publisher)
				if r.StillKept {
					fmt.Fprintf(w, "note: %s is not on trust.deny, so gossip and sync will bring its records back; add it there and restart\n", r.Publisher)
				}
			}
			// Before and after differ little: Badger's files are allocated
			// in advance; --json has both.
			fmt.Fprintf(w, "purged the store (%s on disk) and reindexed %s in %.1f s\n",
				bytesText(r.BytesAfter), practicesText(int64(r.Reindexed)), r.Seconds)
			return nil
		},
	}
}
