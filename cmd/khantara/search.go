package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/urfave/cli/v2"
)

// The researcher's commands: search, stats, export and reindex. Each
// turns its flags into a search.Query, checks it locally (exit code 2
// naming the flag), and makes one call to the daemon.

const (
	// searchDefaultLimit is the page size when --limit is not given, as
	// documented on search.Query.
	searchDefaultLimit = 20
	// facetValues bounds the values printed per facet.
	facetValues = 10
)

// queryFlagNames maps the URL names of search.Query's parameters to the
// flags (or argument) that set them, for error messages.
var queryFlagNames = map[string]string{
	"q": "QUERY", "country": "--country", "dimension": "--dimension", "target_group": "--target-group",
	"funding_source": "--funding-source", "achievement": "--achievement", "evaluation": "--evaluation",
	"publisher": "--publisher", "language": "--language", "has_translation": "--has-translation",
	"ongoing": "--ongoing", "funding_min": "--funding-min", "funding_max": "--funding-max",
	"year_from": "--year-from", "year_to": "--year-to", "sort": "--sort", "offset": "--page", "limit": "--limit",
}

// queryFlags returns fresh copies of the filters that search, stats and
// export share.
func queryFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "country", Usage: "only practices in country `CODE` (ISO 3166-1: IT, FR...)"},
		&cli.StringSliceFlag{Name: "dimension", Usage: "only practices of dimension `DIM`: " + strings.Join(protocol.Dimensions, ", ")},
		&cli.StringSliceFlag{Name: "target-group", Usage: "only practices serving `GROUP` (migrants, refugees, women, youth...)"},
		&cli.StringSliceFlag{Name: "funding-source", Usage: "only practices funded from `SOURCE`: " + strings.Join(protocol.FundingSources, ", ")},
		&cli.StringSliceFlag{Name: "achievement", Usage: "only practices that achieved their objectives `HOW`: " + strings.Join(protocol.Achievements, ", ")},
		&cli.StringSliceFlag{Name: "evaluation", Usage: "only practices evaluated `HOW`: " + strings.Join(protocol.Evaluations, ", ")},
		&cli.StringSliceFlag{Name: "publisher", Usage: "only practices of publisher `PEER_ID`"},
		&cli.StringSliceFlag{Name: "language", Usage: "only practices written or translated in `LANG` (en, it, pt-BR...)"},
		&cli.BoolFlag{Name: "has-translation", Usage: "only practices with a translation (=false: only those without)"},
		&cli.BoolFlag{Name: "ongoing", Usage: "only ongoing practices (=false: only ended ones)"},
		&cli.Int64Flag{Name: "funding-min", DefaultText: "none", Usage: "only practices funded with at least `EUR` whole euros"},
		&cli.Int64Flag{Name: "funding-max", DefaultText: "none", Usage: "only practices funded with at most `EUR` whole euros"},
		&cli.IntFlag{Name: "year-from", DefaultText: "none", Usage: "only practices running in `YEAR` or later"},
		&cli.IntFlag{Name: "year-to", DefaultText: "none", Usage: "only practices running in `YEAR` or earlier"},
	}, expQueryFlags()...)
}

// queryHelp ends the descriptions of the commands that take queryFlags.
const queryHelp = "QUERY is free text, matched in every language the catalogue holds. Each filter\n" +
	"flag may be repeated, or given values separated by commas: --country IT,FR\n" +
	"means in Italy or in France. Different filters must all match. Coded filters\n" +
	"take the fact sheet's codes; a wrong value lists them all."

// queryFromFlags builds the query of search, stats or export from the
// arguments (the free text) and the flags, normalised and checked: a bad
// value fails with exit code 2 and one line naming the flag.
func queryFromFlags(c *cli.Context, args []string) (search.Query, error) {
	q := search.Query{
		Text:          strings.Join(args, " "),
		Country:       c.StringSlice("country"),
		Dimension:     c.StringSlice("dimension"),
		TargetGroup:   c.StringSlice("target-group"),
		FundingSource: c.StringSlice("funding-source"),
		Achievement:   c.StringSlice("achievement"),
		Evaluation:    c.StringSlice("evaluation"),
		Publisher:     c.StringSlice("publisher"),
		Language:      c.StringSlice("language"),
		YearFrom:      c.Int("year-from"),
		YearTo:        c.Int("year-to"),
		Sort:          c.String("sort"),
		Limit:         c.Int("limit"),
	}
	expQueryFromFlags(c, &q)
	for name, dst := range map[string]**bool{"has-translation": &q.HasTranslation, "ongoing": &q.Ongoing} {
		if c.IsSet(name) {
			b := c.Bool(name)
			*dst = &b
		}
	}
	for name, dst := range map[string]**int64{"funding-min": &q.FundingMin, "funding-max": &q.FundingMax} {
		if c.IsSet(name) {
			n := c.Int64(name)
			*dst = &n
		}
	}
	for _, name := range []string{"year-from", "year-to"} {
		if c.IsSet(name) && c.Int(name) == 0 {
			return q, cli.Exit(fmt.Sprintf("--%s: 0 is not a year", name), exitUsage)
		}
	}
	if commandFlag(c.Command, "page") != nil {
		page, limit := c.Int("page"), q.Limit
		if limit == 0 {
			limit = searchDefaultLimit
		}
		if page < 1 {
			return q, cli.Exit(fmt.Sprintf("--page: %d is not a page; pages count from 1", page), exitUsage)
		}
		if limit > 0 && page-1 > (1<<30)/limit {
			return q, cli.Exit(fmt.Sprintf("--page: %d is past the end of any result", page), exitUsage)
		}
		if limit > 0 {
			q.Offset = (page - 1) * limit
		}
	}
	q = q.Normalized()
	if err := q.Validate(); err != nil {
		return q, flagError(err)
	}
	return q, nil
}

// flagError turns an error of search.Query.Validate into a usage error
// naming the flag instead of the URL parameter.
func flagError(err error) error {
	var pe *search.ParamError
	if !errors.As(err, &pe) {
		return cli.Exit(err.Error(), exitUsage)
	}
	name := queryFlagNames[pe.Param]
	if name == "" {
		name = expQueryFlagNames[pe.Param]
	}
	if name == "" {
		name = pe.Param
	}
	msg := pe.Msg
	for _, names := range []map[string]string{queryFlagNames, expQueryFlagNames} {
		for param, flag := range names { // "funding_max 5" reads "--funding-max 5"
			if strings.Contains(param, "_") {
				msg = strings.ReplaceAll(msg, " "+param+" ", " "+flag+" ")
			}
		}
	}
	msg = strings.ReplaceAll(msg, "kind="+search.KindExperience, "--kind "+search.KindExperience)
	return cli.Exit(name+": "+msg, exitUsage)
}

func searchCommand() *cli.Command {
	flags := append(queryFlags(),
		&cli.StringFlag{Name: "sort", Usage: "order by `KEY`: relevance (default; year without QUERY), year, funding, beneficiaries, adapted, endorsements; -year etc. descending; records: relevance, time, -time"},
		&cli.IntFlag{Name: "limit", DefaultText: strconv.Itoa(searchDefaultLimit), Usage: "`N` practices per page, at most 1000"},
		&cli.IntFlag{Name: "page", Value: 1, Usage: "print page `N` of the results, counting from 1"},
		&cli.BoolFlag{Name: "facets", Usage: "also count the matching practices per country, dimension, ..."},
	)
	flags = append(flags, expSearchFlags()...)
	return &cli.Command{
		Name:      "search",
		Usage:     "search the whole federated catalogue: free text, filters, facets",
		ArgsUsage: "[QUERY...]",
		Description: "search prints how many practices match, then one page of them: publisher\n" +
			"(shortened; --json has the full peer ID), id, country, years, funding in euros\n" +
			"and title (cut to fit a terminal). khantara show PUBLISHER/ID prints one.\n" +
			"--facets adds, per filter, how many of the matching practices have each value.\n\n" + queryHelp,
		Flags:           withGlobals(flags...),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runSearch,
	}
}

func runSearch(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	q, err := queryFromFlags(c, args)
	if err != nil {
		return err
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	res, err := cl.Search(c.Context, q)
	if err != nil {
		return err
	}
	if res.Hits == nil {
		res.Hits = []search.Hit{}
	}
	if res.Facets == nil {
		res.Facets = map[string][]search.FacetValue{}
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, res)
	}
	width := 0 // piped: whole titles
	if isTerminal(c.App.Writer) {
		width = termWidth()
	}
	if q.Kind == search.KindExperience {
		printExperienceHits(c.App.Writer, res, q, width)
		if c.Bool("facets") {
			printFacets(c.App.Writer, res.Facets)
		}
		return nil
	}
	printSearch(c.App.Writer, res, q, width, c.Bool("facets"))
	return nil
}

// printSearch writes search's human output for the page of q: the count,
// the table of hits (titles cut to fit width; 0: whole titles), a hint
// to the next page, and with facets the facet counts.
func printSearch(w io.Writer, res search.Result, q search.Query, width int, facets bool) {
	limit := q.Limit
	if limit == 0 {
		limit = searchDefaultLimit
	}
	page := q.Offset/limit + 1
	took := "took " + tookText(res.Took)
	switch {
	case res.Total == 0:
		fmt.Fprintf(w, "no practices match (%s)\n", took)
		return
	case len(res.Hits) == 0:
		fmt.Fprintf(w, "%s; page %d is past the end (%s)\n", practicesText(int64(res.Total)), page, took)
		return
	case q.Offset == 0 && len(res.Hits) >= res.Total:
		fmt.Fprintf(w, "%s (%s)\n", practicesText(int64(res.Total)), took)
	default:
		fmt.Fprintf(w, "%s, %d–%d shown (%s)\n", practicesText(int64(res.Total)), q.Offset+1, q.Offset+len(res.Hits), took)
	}

	rows := [][]string{{"PUBLISHER", "ID", "COUNTRY", "YEARS", "EUR", "TITLE"}}
	for _, h := range res.Hits {
		eur := "-"
		if h.FundingEUR != nil {
			eur = groupDigits(*h.FundingEUR)
		}
		rows = append(rows, []string{shortPeer(h.Publisher), h.ID, orText(h.Country, "-"), hitYears(h), eur, h.Title})
	}
	if width > 0 {
		used := 0
		for col := range 5 {
			used += columnWidth(rows, col) + 2
		}
		tw := max(20, width-used)
		for _, r := range rows[1:] {
			r[5] = truncateText(r[5], tw)
		}
	}
	printColumns(w, rows, map[int]bool{4: true})
	printMatched(w, res.Hits)
	if q.Offset+len(res.Hits) < res.Total {
		fmt.Fprintf(w, "more: add --page %d\n", page+1)
	}
	if facets {
		printFacets(w, res.Facets)
	}
}

// facetOrder is the order facets are printed in; others follow by name.
var facetOrder = []string{"country", "dimension", "target_group", "funding_source", "achievement",
	"evaluation", "publisher", "language", "start_year", "funding_range", "has_translation",
	"adapted", "has_lessons", "endorsed_by", "adapted_in", "type", "about_state"}

// printFacets writes one line per facet: "  country: IT 9, DE 5, FR 2".
func printFacets(w io.Writer, facets map[string][]search.FacetValue) {
	names := slices.Sorted(maps.Keys(facets))
	slices.SortStableFunc(names, func(a, b string) int {
		ia, ib := slices.Index(facetOrder, a), slices.Index(facetOrder, b)
		if ia < 0 {
			ia = len(facetOrder)
		}
		if ib < 0 {
			ib = len(facetOrder)
		}
		return ia - ib
	})
	heading := false
	for _, name := range names {
		vals := facets[name]
		if len(vals) == 0 {
			continue
		}
		if !heading {
			fmt.Fprintln(w, "\nFacets (matching practices per value):")
			heading = true
		}
		var parts []string
		for _, v := range vals[:min(len(vals), facetValues)] {
			value := orText(v.Value, "(none)")
			if name == "publisher" || name == "endorsed_by" {
				value = shortPeer(value)
			}
			parts = append(parts, fmt.Sprintf("%s %d", value, v.Count))
		}
		if n := len(vals) - facetValues; n > 0 {
			parts = append(parts, fmt.Sprintf("+%d more", n))
		}
		fmt.Fprintf(w, "  %s: %s\n", name, strings.Join(parts, ", "))
	}
}

// hitYears is "2011", "2011–2014" or "2011–now"; "-" when unknown.
func hitYears(h search.Hit) string {
	switch {
	case h.StartYear == 0:
		return "-"
	case h.Ongoing:
		return fmt.Sprintf("%d–now", h.StartYear)
	case h.EndYear != 0 && h.EndYear != h.StartYear:
		return fmt.Sprintf("%d–%d", h.StartYear, h.EndYear)
	}
	return strconv.Itoa(h.StartYear)
}

// tookText is a duration in milliseconds: "0.4 ms", "12 ms".
func tookText(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// practicesText is "1 practice" or "1,234 practices".
func practicesText(n int64) string {
	if n == 1 {
		return "1 practice"
	}
	return groupDigits(n) + " practices"
}

// columnWidth is the width in characters of column col of rows.
func columnWidth(rows [][]string, col int) int {
	n := 0
	for _, r := range rows {
		n = max(n, utf8.RuneCountInString(r[col]))
	}
	return n
}

// printColumns writes rows as a table, columns two spaces apart, those
// in right aligned to the right (numbers), the others to the left.
func printColumns(w io.Writer, rows [][]string, right map[int]bool) {
	if len(rows) == 0 {
		return
	}
	widths := make([]int, len(rows[0]))
	for col := range widths {
		widths[col] = columnWidth(rows, col)
	}
	for _, r := range rows {
		var b strings.Builder
		for col, cell := range r {
			pad := strings.Repeat(" ", widths[col]-utf8.RuneCountInString(cell))
			if col > 0 {
				b.WriteString("  ")
			}
			if right[col] {
				b.WriteString(pad + cell)
			} else {
				b.WriteString(cell + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
