package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/khantara/khantara/search"
	"github.com/urfave/cli/v2"
)

// The stats command: counts and sums of the practices a query matches,
// by one key.

// statsKeys are the values of stats --by.
var statsKeys = []string{"country", "dimension", "year", "source", "adaptation"}

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "count practices, funding and beneficiaries by country, dimension, year, funding source or adaptation",
		ArgsUsage: "[QUERY...]",
		Description: "stats groups the practices matching QUERY and the filters (all of them by\n" +
			"default) by one key and prints, per group, the practices, how many of them give\n" +
			"a funding amount, the sum of those amounts in euros and the sum of the\n" +
			"beneficiaries, then the totals. A practice of several dimensions or funding\n" +
			"sources counts in each of their groups, and once in the total. --by adaptation\n" +
			"groups the practices by how many times they were adapted (live adaptation\n" +
			"records), then counts the adaptations from the practices' countries to the\n" +
			"adaptations'.\n\n" + queryHelp,
		Flags: withGlobals(append(queryFlags(),
			&cli.StringFlag{Name: "by", Value: "country", Usage: "group by `KEY`: " + strings.Join(statsKeys, ", ")})...),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runStats,
	}
}

func runStats(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	by := strings.ToLower(strings.TrimSpace(c.String("by")))
	if !slices.Contains(statsKeys, by) {
		return cli.Exit(fmt.Sprintf("--by: %q is not one of %s", c.String("by"), strings.Join(statsKeys, ", ")), exitUsage)
	}
	q, err := queryFromFlags(c, args)
	if err != nil {
		return err
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	st, err := cl.Stats(c.Context, q, by)
	if err != nil {
		return err
	}
	if st.Groups == nil {
		st.Groups = []search.Group{}
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, st)
	}
	printStats(c.App.Writer, st)
	return nil
}

// printStats writes stats' human output: one row per group, then the
// total.
func printStats(w io.Writer, st search.Stats) {
	if st.Total.Practices == 0 && len(st.Groups) == 0 {
		fmt.Fprintln(w, "no practices match")
		return
	}
	row := func(g search.Group, key string) []string {
		eur := "-"
		if g.Funded > 0 {
			eur = groupDigits(g.FundingEUR)
		}
		return []string{key, groupDigits(int64(g.Practices)), groupDigits(int64(g.Funded)), eur, groupDigits(g.Beneficiaries)}
	}
	head := strings.ToUpper(orText(st.By, "key"))
	if st.By == "adaptation" {
		head = "ADAPTED (TIMES)"
	}
	rows := [][]string{{head, "PRACTICES", "FUNDED", "EUR", "BENEFICIARIES"}}
	sum := 0
	for _, g := range st.Groups {
		rows = append(rows, row(g, orText(g.Key, "(none)")))
		sum += g.Practices
	}
	rows = append(rows, row(st.Total, "total"))
	printColumns(w, rows, map[int]bool{1: true, 2: true, 3: true, 4: true})
	if sum > st.Total.Practices {
		fmt.Fprintf(w, "(a practice with several values of %s counts in each of their rows, and once in the total)\n", orText(st.By, "the key"))
	}
	printFlows(w, st.Flows)
}
