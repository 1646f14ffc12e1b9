package main

import (
	"fmt"
	"runtime"

	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version and the protocol it speaks",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "khantara %s (%s, %s/%s)\nprotocol: %s, %s, %s\n",
				buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH,
				protocol.PayloadType, protocol.SyncProtocolID, protocol.Topic(protocol.DefaultNetwork))
			return nil
		},
	}
}
