package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/urfave/cli/v2"
)

// What experience records add to search and stats: the practices'
// filters adapted, adapted-max, has-lessons and endorsed-by (in
// queryFlags, so export takes them too), search's --kind experience with
// its filters, and the output of experience records, of the records a
// practice matched through, and of stats --by adaptation.

// expQueryFlagNames are the flags of the parameters experience records
// bring, by URL name, for error messages (see queryFlagNames).
var expQueryFlagNames = map[string]string{
	"adapted": "--adapted", "adapted_max": "--adapted-max", "has_lessons": "--has-lessons",
	"endorsed_by": "--endorsed-by", "kind": "--kind", "type": "--type", "about": "--about",
	"about_state": "--about-state",
}

// expQueryFlags are the practices' filters that experience records bring.
func expQueryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "adapted", DefaultText: "none", Usage: "only practices adapted at least `N` times (live adaptation records)"},
		&cli.IntFlag{Name: "adapted-max", DefaultText: "none", Usage: "only practices adapted at most `N` times (0: never adapted)"},
		&cli.BoolFlag{Name: "has-lessons", Usage: "only practices with a lesson learned by another organisation (=false: only those without)"},
		&cli.StringSliceFlag{Name: "endorsed-by", Usage: "only practices endorsed by publisher `PEER_ID`"},
	}
}

// expSearchFlags are search's flags for experience records.
func expSearchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kind", Usage: "find `KIND`: practice (default) or experience (records about practices)"},
		&cli.StringSliceFlag{Name: "type", Usage: "with --kind experience: only records of `TYPE`: " + strings.Join(protocol.ExperienceTypes, ", ")},
		&cli.StringSliceFlag{Name: "about", Usage: "with --kind experience: only records about practice `PUBLISHER/ID`"},
		&cli.StringSliceFlag{Name: "about-state", Usage: "with --kind experience: only records about a practice `STATE` here: held, retracted, not_held"},
	}
}

// expQueryFromFlags sets the parameters of q that experience records
// bring from the flags the command has.
func expQueryFromFlags(c *cli.Context, q *search.Query) {
	if c.IsSet("adapted") {
		q.Adapted = c.Int("adapted")
	}
	if c.IsSet("adapted-max") {
		n := c.Int("adapted-max")
		q.AdaptedMax = &n
	}
	if c.IsSet("has-lessons") {
		b := c.Bool("has-lessons")
		q.HasLessons = &b
	}
	q.EndorsedBy = c.StringSlice("endorsed-by")
	// --about stands for expSearchFlags: export has a --kind of its own
	// (practice, experience, all: which records a jsonl export holds),
	// which is not search's and stays out of the query.
	if commandFlag(c.Command, "about") != nil {
		q.Kind = c.String("kind")
		q.Type, q.About, q.AboutState = c.StringSlice("type"), c.StringSlice("about"), c.StringSlice("about-state")
	}
}

// printExperienceHits writes search's human output for a page of
// experience records: the count, then a table of them.
func printExperienceHits(w io.Writer, res search.Result, q search.Query, width int) {
	took := "took " + tookText(res.Took)
	n := "experience records"
	if res.Total == 1 {
		n = "experience record"
	}
	switch {
	case res.Total == 0:
		fmt.Fprintf(w, "no experience records match (%s)\n", took)
		return
	case q.Offset == 0 && len(res.Experiences) >= res.Total:
		fmt.Fprintf(w, "%s %s (%s)\n", groupDigits(int64(res.Total)), n, took)
	default:
		fmt.Fprintf(w, "%s %s, %d–%d shown (%s)\n", groupDigits(int64(res.Total)), n, q.Offset+1, q.Offset+len(res.Experiences), took)
	}
	rows := [][]string{{"AUTHOR", "TYPE", "ID", "ABOUT", "STATE", "TITLE"}}
	for _, h := range res.Experiences {
		title := orText(h.Title, h.Excerpt)
		rows = append(rows, []string{shortPeer(h.Publisher), h.Type, orText(h.ID, "-"),
			shortPeer(h.About.Publisher) + "/" + h.About.ID, h.AboutState, title})
	}
	if width > 0 {
		used := 0
		for col := range 5 {
			used += columnWidth(rows, col) + 2
		}
		for _, r := range rows[1:] {
			r[5] = truncateText(r[5], max(20, width-used))
		}
	}
	printColumns(w, rows, nil)
}

// printMatched writes, under a page of practices, the experience records
// through which they matched the text.
func printMatched(w io.Writer, hits []search.Hit) {
	for _, h := range hits {
		if len(h.MatchedExperiences) == 0 {
			continue
		}
		var parts []string
		for _, m := range h.MatchedExperiences {
			s := m.Type
			if m.Title != "" {
				s += " " + strconv.Quote(m.Title)
			}
			parts = append(parts, s+" by "+shortPeer(m.Publisher))
		}
		fmt.Fprintf(w, "%s matched in: %s\n", h.ID, strings.Join(parts, "; "))
	}
}

// printFlows writes the flows of stats --by adaptation.
func printFlows(w io.Writer, flows []search.Flow) {
	if len(flows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nAdaptations by the practice's country and the adaptation's:")
	rows := [][]string{{"FROM", "TO", "ADAPTATIONS", "PRACTICES"}}
	for _, f := range flows {
		rows = append(rows, []string{f.From, f.To, groupDigits(int64(f.Adaptations)), groupDigits(int64(f.Practices))})
	}
	printColumns(w, rows, map[int]bool{2: true, 3: true})
}
