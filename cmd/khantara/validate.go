package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check fact sheets (YAML or JSON) against protocol v1 without publishing",
		ArgsUsage: "FILE...",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.Exit("validate: name at least one fact-sheet file", 2)
			}
			bad := 0
			for _, name := range c.Args().Slice() {
				sheet, err := readSheet(name)
				if err != nil {
					bad++
					printSheetError(c.App.ErrWriter, name, err)
					continue
				}
				fmt.Fprintf(c.App.Writer, "ok  %-48s %s (%s, %d)\n", name, sheet.ID, sheet.Country, sheet.StartYear)
			}
			if bad > 0 {
				return cli.Exit(fmt.Sprintf("%d of %d sheets are invalid", bad, c.NArg()), 1)
			}
			if c.NArg() > 1 {
				fmt.Fprintf(c.App.Writer, "all %d sheets are valid fact sheets of protocol v1\n", c.NArg())
			}
			return nil
		},
	}
}

func readSheet(name string) (*protocol.FactSheet, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return protocol.ParseSheet(data)
}

// printSheetError writes one line per problem: "file:line: path: message".
func printSheetError(w interface{ Write([]byte) (int, error) }, name string, err error) {
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		fmt.Fprintf(w, "%s: %v\n", name, err)
		return
	}
	for _, p := range ve.Problems {
		if p.Line > 0 {
			fmt.Fprintf(w, "%s:%d: %s\n", name, p.Line, p.Error())
		} else {
			fmt.Fprintf(w, "%s: %s\n", name, p.Error())
		}
	}
}
