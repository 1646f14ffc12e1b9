package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check fact sheets (YAML or JSON) against protocol v1 without publishing",
		ArgsUsage: "FILE...",
		Description: "Needs no daemon. Every problem of every file is printed, one line each\n" +
			"(FILE:LINE: field.path: message); the exit code is 2 when a sheet is invalid.",
		Flags:  withGlobals(),
		Action: runValidate,
	}
}

// validated is one line of validate --json.
type validated struct {
	File      string       `json:"file"`
	Valid     bool         `json:"valid"`
	ID        string       `json:"id,omitempty"`
	Country   string       `json:"country,omitempty"`
	StartYear int          `json:"start_year,omitempty"`
	Problems  []problemOut `json:"problems,omitempty"`
}

// problemOut is one problem of a file in validate --json.
type problemOut struct {
	Path    string `json:"path,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func runValidate(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("validate: name at least one fact-sheet file", exitUsage)
	}
	var out []validated
	bad := 0
	for _, name := range c.Args().Slice() {
		s := loadSheet(name)
		v := validated{File: name, Valid: s.err == nil}
		if s.err != nil {
			bad++
			v.Problems = problemsOf(unreadError(s.err))
			if !jsonOutput(c) {
				printProblems(c.App.ErrWriter, s)
			}
		} else {
			v.ID, v.Country, v.StartYear = s.sheet.ID, s.sheet.Country, s.sheet.StartYear
			if !jsonOutput(c) {
				fmt.Fprintf(c.App.Writer, "ok  %-48s %s (%s, %d)\n", name, v.ID, v.Country, v.StartYear)
			}
		}
		out = append(out, v)
	}
	if jsonOutput(c) {
		if err := printJSON(c.App.Writer, out); err != nil {
			return err
		}
	} else if bad == 0 && c.NArg() > 1 {
		fmt.Fprintf(c.App.Writer, "all %d sheets are valid fact sheets of protocol v1\n", c.NArg())
	}
	if bad > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d sheets are invalid", bad, c.NArg()), exitUsage)
	}
	return nil
}

// problemsOf lists the problems of a validation error, or the error
// itself as one problem.
func problemsOf(err error) []problemOut {
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		return []problemOut{{Message: err.Error()}}
	}
	out := make([]problemOut, len(ve.Problems))
	for i, p := range ve.Problems {
		out[i] = problemOut{Path: p.Path, Line: p.Line, Message: p.Msg}
	}
	return out
}

// printSheetError writes one line per problem: "file:line: path: message".
func printSheetError(w io.Writer, name string, err error) {
	for _, p := range problemsOf(err) {
		switch {
		case p.Line > 0 && p.Path != "":
			fmt.Fprintf(w, "%s:%d: %s: %s\n", name, p.Line, p.Path, p.Message)
		case p.Path != "":
			fmt.Fprintf(w, "%s: %s: %s\n", name, p.Path, p.Message)
		default:
			fmt.Fprintf(w, "%s: %s\n", name, p.Message)
		}
	}
}
