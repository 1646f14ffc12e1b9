package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/search"
	"github.com/urfave/cli/v2"
)

// export and reindex: the catalogue out of the daemon, and its index rebuilt.

// exportFormats are the values of export --format; exportKinds those
// of --kind, which only jsonl takes.
var (
	exportFormats = []string{"csv", "jsonl", "dcat", "adaptations-csv", "graphml"}
	exportKinds   = []string{"practice", "experience", "all"}
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the practices matching a query, or the whole catalogue, as CSV, JSON Lines or DCAT, or the adaptation graph",
		ArgsUsage: "[QUERY...]",
		Description: "export streams every practice matching QUERY and the filters (the whole\n" +
			"catalogue by default; there is no paging) to standard output, or with -o to\n" +
			"FILE: it writes FILE.tmp, then renames it, so FILE is never half written, and\n" +
			"it refuses to overwrite FILE unless --force. --format is csv (one row per\n" +
			"practice, flattened), jsonl (one practice with its signed provenance per line)\n" +
			"or dcat (a DCAT catalogue in JSON-LD); without it, -o FILE's extension decides\n" +
			"(.csv, .jsonl, .ndjson, .jsonld, .graphml), else csv. With -o, a summary goes\n" +
			"to standard error.\n\n" +
			"Experience records: --format jsonl --kind experience writes the experience\n" +
			"records (adaptations, lessons, questions, answers, endorsements) with their\n" +
			"signed envelopes, --kind all practices and experience records. The adaptation\n" +
			"graph, one edge per adaptation from the practice adapted to the practice that\n" +
			"resulted (or to the adaptation itself), is --format adaptations-csv (an edge\n" +
			"list) or graphml (for networkx, Gephi). A query selects practices; the\n" +
			"experience records exported are those about the practices it matches.\n\n" + queryHelp,
		Flags: withGlobals(append(queryFlags(),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "`FORMAT`: " + strings.Join(exportFormats, ", ")},
			&cli.StringFlag{Name: "kind", Usage: "with --format jsonl, the records: `KIND`, one of " + strings.Join(exportKinds, ", ") + " (default practice)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output (- is standard output)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite FILE if it exists"})...),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runExport,
	}
}

// exportFormat is the format of an export: the flag's, else the output
// file's extension's, else csv.
func exportFormat(flag, out string) (string, error) {
	if flag != "" {
		f := strings.ToLower(strings.TrimSpace(flag))
		if !slices.Contains(exportFormats, f) {
			return "", cli.Exit(fmt.Sprintf("--format: %q is not one of %s", flag, strings.Join(exportFormats, ", ")), exitUsage)
		}
		return f, nil
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	case ".jsonld":
		return "dcat", nil
	case ".graphml":
		return "graphml", nil
	}
	return "csv", nil
}

// exportKind checks --kind against the format: "" (the default,
// practices) or one of exportKinds, with jsonl only.
func exportKind(flag, format string) (string, error) {
	if flag == "" {
		return "", nil
	}
	k := strings.ToLower(strings.TrimSpace(flag))
	switch {
	case !slices.Contains(exportKinds, k):
		return "", cli.Exit(fmt.Sprintf("--kind: %q is not one of %s", flag, strings.Join(exportKinds, ", ")), exitUsage)
	case format != "jsonl":
		return "", cli.Exit(fmt.Sprintf("--kind: only --format jsonl takes it, not %s (csv and dcat hold practices, adaptations-csv and graphml adaptations)", format), exitUsage)
	}
	return k, nil
}

// exportWhat says what an export to a file wrote, from the records its
// counter saw.
func exportWhat(format, kind, out string, rc *recordCounter) string {
	n := rc.records()
	switch {
	case format == "dcat" || format == "graphml":
		return out
	case format == "adaptations-csv":
		return recordsText(n, "adaptation") + " to " + out
	case kind == "experience":
		return recordsText(n, "experience record") + " to " + out
	case kind == "all":
		return recordsText(n, "record") + " to " + out
	}
	return practicesText(n) + " to " + out
}

// recordsText is n with its noun: "1 record", "1,200 records".
func recordsText(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return groupDigits(n) + " " + noun + "s"
}

func runExport(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	out := c.String("output")
	format, err := exportFormat(c.String("format"), out)
	if err != nil {
		return err
	}
	kind, err := exportKind(c.String("kind"), format)
	if err != nil {
		return err
	}
	q, err := queryFromFlags(c, args)
	if err != nil {
		return err
	}
	if out == "" || out == "-" {
		cl, err := daemonClient(c)
		if err != nil {
			return err
		}
		_, err = cl.ExportKind(c.Context, q, format, kind, c.App.Writer)
		return err
	}
	force := c.Bool("force")
	if _, err := os.Lstat(out); err == nil && !force {
		return cli.Exit(fmt.Sprintf("%s exists; add --force to overwrite it", out), exitFailed)
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	rc, err := exportToFile(c.Context, cl, q, format, kind, out, force)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s (%s, %s)\n", exportWhat(format, kind, out, rc), format, bytesText(rc.n))
	return nil
}

// exportToFile writes the export to out.tmp, syncs it and renames it to
// out; on failure it removes out.tmp and leaves out as it was.
func exportToFile(ctx context.Context, cl *api.Client, q search.Query, format, kind, out string, force bool) (_ *recordCounter, err error) {
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s exists: another export to %s is running, or one was killed; delete it and try again", tmp, out)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	rc := &recordCounter{w: f, csv: format == "csv" || format == "adaptations-csv"}
	if _, err := cl.ExportKind(ctx, q, format, kind, rc); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp, err)
	}
	if _, err := os.Lstat(out); err == nil && !force {
		return nil, fmt.Errorf("%s appeared during the export; add --force to overwrite it (the export was not kept)", out)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return rc, nil
}

// recordCounter passes bytes to w, counting the bytes and the records
// of CSV (newlines outside double quotes) or JSON Lines (newlines). Not
// safe for concurrent use.
type recordCounter struct {
	w       io.Writer
	csv     bool
	inQuote bool
	lines   int64
	n       int64
	last    byte
}

func (r *recordCounter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	for _, b := range p[:n] {
		switch {
		case b == '"' && r.csv:
			r.inQuote = !r.inQuote
		case b == '\n' && !r.inQuote:
			r.lines++
		}
	}
	if n > 0 {
		r.n += int64(n)
		r.last = p[n-1]
	}
	return n, err
}

// records is the number of records written: lines, one more when the
// last has no newline, less the header of a CSV.
func (r *recordCounter) records() int64 {
	lines := r.lines
	if r.n > 0 && r.last != '\n' {
		lines++
	}
	if r.csv {
		lines--
	}
	return max(lines, 0)
}

func reindexCommand() *cli.Command {
	return &cli.Command{
		Name:  "reindex",
		Usage: "rebuild the daemon's search index from its store",
		Description: "The store is the truth; the search index is derived from it. reindex rebuilds\n" +
			"the index from the store, e.g. after a crash or an upgrade, and prints how\n" +
			"many practices it indexed. It needs the API token and may take minutes on a\n" +
			"large catalogue.",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			cl, err := daemonClientNoArgs(c, "")
			if err != nil {
				return err
			}
			r, err := cl.Reindex(c.Context)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, r)
			}
			fmt.Fprintf(c.App.Writer, "indexed %s in %.1f s\n", practicesText(int64(r.Indexed)), r.Seconds)
			return nil
		},
	}
}
