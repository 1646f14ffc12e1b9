package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

// versionInfo is what version prints, and its --json form.
type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// PayloadType, SyncProtocol and Topic name protocol v1 on the wire;
	// SyncProtocol2 and Topic2 what organisations added (PROTOCOL.md 12.8).
	// SyncProtocols lists every sync protocol the node serves, in the
	// order it offers them (PROTOCOL.md 9.1, 9.13).
	PayloadType   string   `json:"payload_type"`
	SyncProtocol  string   `json:"sync_protocol"`
	SyncProtocol2 string   `json:"sync_protocol_2"`
	SyncProtocols []string `json:"sync_protocols"`
	Topic         string   `json:"topic"`
	Topic2        string   `json:"topic_2"`
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
				SyncProtocol2: string(protocol.SyncProtocolID2), SyncProtocols: protocol.SyncProtocols(),
				Topic: protocol.Topic(protocol.DefaultNetwork), Topic2: protocol.TopicV2(protocol.DefaultNetwork),
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, v)
			}
			fmt.Fprintf(c.App.Writer, "khantara %s (%s, %s/%s)\nprotocol: %s, %s, %s and %s\n",
				v.Version, v.Go, v.OS, v.Arch, v.PayloadType, strings.Join(v.SyncProtocols, ", "), v.Topic, v.Topic2)
			return nil
		},
	}
}
