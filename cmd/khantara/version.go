package main

import (
	"fmt"
	"runtime"

	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

// versionInfo is what version prints, and its --json form.
type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// PayloadType, SyncProtocol and Topic name protocol v1 on the wire.
	PayloadType  string `json:"payload_type"`
	SyncProtocol string `json:"sync_protocol"`
	Topic        string `json:"topic"`
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version and the protocol it speaks",
		Flags: withGlobals(),
		Action: func(c *cli.Context) error {
			v := versionInfo{
				Version: buildVersion(), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
				PayloadType: string(protocol.PayloadType), SyncProtocol: string(protocol.SyncProtocolID),
				Topic: protocol.Topic(protocol.DefaultNetwork),
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, v)
			}
			fmt.Fprintf(c.App.Writer, "khantara %s (%s, %s/%s)\nprotocol: %s, %s, %s\n",
				v.Version, v.Go, v.OS, v.Arch, v.PayloadType, v.SyncProtocol, v.Topic)
			return nil
		},
	}
}
