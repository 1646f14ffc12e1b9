package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/khantara/khantara/api"
	"github.com/urfave/cli/v2"
)

// The import command: every fact sheet of a directory, through the daemon.

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "publish every fact sheet (*.yaml, *.yml, *.json) of a directory",
		ArgsUsage: "DIR",
		Description: "import publishes the sheets of DIR in name order (not its subdirectories).\n" +
			"An invalid sheet, or a second sheet with an id already seen, is reported with\n" +
			"its problems and skipped; the others are still published. A sheet the daemon\n" +
			"refuses is counted as failed and the import goes on; it stops at once if the\n" +
			"daemon is not running or refuses the API token.\n\n" +
			"On a terminal a progress bar shows on stderr; otherwise each file gets a line.\n" +
			"The summary reads \"imported N, skipped N (invalid), failed N\", on stdout when\n" +
			"all went well, else on stderr.\n\n" +
			"Exit code: 0 when every sheet was published; 1 when any was skipped or\n" +
			"failed (the others are published all the same); 2 when DIR cannot be read;\n" +
			"3 when no daemon is running.",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runImport,
	}
}

// importFailure is a sheet that was not imported, and why.
type importFailure struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// importReport is the --json output of import.
type importReport struct {
	Imported []api.Published `json:"imported"`
	Skipped  []importFailure `json:"skipped"`
	Failed   []importFailure `json:"failed"`
}

// sheetFiles lists the *.yaml, *.yml and *.json regular files of dir,
// sorted by name.
func sheetFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

func runImport(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return cli.Exit("import: name one directory of fact sheets", exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	dir := args[0]
	files, err := sheetFiles(dir)
	if err != nil {
		return cli.Exit(fmt.Sprintf("import: %v", err), exitUsage)
	}
	if len(files) == 0 {
		return cli.Exit(fmt.Sprintf("import: %s holds no *.yaml, *.yml or *.json file", dir), exitUsage)
	}
	cl, err := api.NewClient(home)
	if err != nil {
		return err
	}
	im := newImporter(c, cl, len(files))
	for i, name := range files {
		if err := im.one(i, name); err != nil {
			if i == 0 {
				return err
			}
			return fmt.Errorf("import stopped at %s after %d of %d files: %w", name, i, len(files), err)
		}
	}
	return im.finish(len(files))
}

// importer publishes the sheets of one import, reporting as it goes.
type importer struct {
	c      *cli.Context
	cl     *api.Client
	out    io.Writer
	errOut io.Writer
	asJSON bool
	bar    *progressBar // nil when stderr is not a terminal
	rep    importReport
	ids    map[string]string // sheet id -> the file that had it first
}

func newImporter(c *cli.Context, cl *api.Client, files int) *importer {
	im := &importer{
		c: c, cl: cl, out: c.App.Writer, errOut: c.App.ErrWriter, asJSON: jsonOutput(c),
		rep: importReport{Imported: []api.Published{}, Skipped: []importFailure{}, Failed: []importFailure{}},
		ids: map[string]string{},
	}
	if isTerminal(im.errOut) {
		im.bar = newProgressBar(im.errOut, files)
		im.bar.show(0, "")
	}
	return im
}

// note writes a per-file line: to stdout when no bar shows it.
func (im *importer) note(format string, args ...any) {
	if im.bar == nil && !im.asJSON {
		fmt.Fprintf(im.out, format+"\n", args...)
	}
}

// complain writes problems to stderr, below the bar.
func (im *importer) complain(f func(io.Writer)) {
	if im.bar != nil {
		im.bar.clear()
	}
	f(im.errOut)
}

// one imports file i, name. It returns an error only when the import must
// stop: no daemon, a refused token, or an interruption.
func (im *importer) one(i int, name string) error {
	if im.bar != nil {
		im.bar.show(i, filepath.Base(name))
	}
	s := loadSheet(name)
	if s.err == nil {
		if prev, dup := duplicateID(im.ids, s); dup {
			s.err = fmt.Errorf("id: %q is also the id of %s, imported before; skipped", s.sheet.ID, prev)
		}
	}
	if s.err != nil {
		im.complain(func(w io.Writer) { printProblems(w, s) })
		im.rep.Skipped = append(im.rep.Skipped, importFailure{File: name, Error: unreadError(s.err).Error()})
		im.note("skipped %s: invalid", name)
		return nil //nolint:nilerr // an invalid sheet is reported and skipped; the import goes on
	}
	p, err := im.cl.Publish(im.c.Context, s.data, false)
	if err != nil {
		var ae *api.ResponseError
		if errors.Is(err, api.ErrDaemonNotRunning) || (errors.As(err, &ae) && ae.Status == 401) || im.c.Context.Err() != nil {
			if im.bar != nil {
				im.bar.clear()
			}
			return err
		}
		im.complain(func(w io.Writer) { fmt.Fprintf(w, "%s: %v\n", name, err) })
		im.rep.Failed = append(im.rep.Failed, importFailure{File: name, Error: err.Error()})
		im.note("failed %s", name)
		return nil
	}
	im.rep.Imported = append(im.rep.Imported, p)
	im.note("imported %s: %s seq %d", name, p.ID, p.Seq)
	return nil
}

// finish clears the bar and prints the report and the summary, which is
// the error (exit code 1) when a sheet was skipped or failed.
func (im *importer) finish(files int) error {
	if im.bar != nil {
		im.bar.show(files, "")
		im.bar.clear()
	}
	if im.asJSON {
		if err := printJSON(im.out, im.rep); err != nil {
			return err
		}
	}
	rep := im.rep
	summary := fmt.Sprintf("imported %d, skipped %d (invalid), failed %d", len(rep.Imported), len(rep.Skipped), len(rep.Failed))
	if len(rep.Skipped)+len(rep.Failed) > 0 {
		// The summary is the error: main prints it on stderr.
		return cli.Exit(summary, exitFailed)
	}
	if !im.asJSON {
		fmt.Fprintln(im.out, summary)
	}
	return nil
}
