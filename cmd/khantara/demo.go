package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/demo/federation"
	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run a small local federation of throwaway nodes carrying the demo catalogue",
		Description: "The demo starts several real nodes on loopback, each with a new identity in a\n" +
			"home of its own under DIR, on the separate network \"" + federation.Network + "\", and links them\n" +
			"in a line. Each publishes part of the demo catalogue; the demo waits until every\n" +
			"node holds all of it, prints what to try next and runs until SIGINT or SIGTERM.\n" +
			"It never reads or writes your own node's home (--home).",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: 4, Usage: fmt.Sprintf("how many nodes, %d to %d", demo.MinNodes, demo.MaxNodes)},
			&cli.StringFlag{Name: "dir", Usage: "new or empty `DIR` for the nodes' homes, kept at the end (default: a temporary directory, removed at the end)"},
			&cli.BoolFlag{Name: "keep", Usage: "keep the temporary directory at the end"},
			&cli.BoolFlag{Name: "once", Usage: "exit as soon as every node holds the whole catalogue (for tests and CI)"},
			&cli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "how long the nodes may take to connect and converge (`DURATION`)"},
			&cli.BoolFlag{Name: "verbose", Usage: "log the nodes' info messages, not only warnings"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	pubs, err := demo.Publishers(c.Int("nodes"))
	if err != nil {
		return cli.Exit("nodes: "+err.Error(), 2)
	}
	if c.Duration("timeout") <= 0 {
		return cli.Exit("timeout: must be positive, e.g. 60s", 2)
	}
	dir, temp, err := demoDir(c.String("dir"), homeDir(c))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	keep := !temp || c.Bool("keep")
	once := c.Bool("once")
	out := c.App.Writer
	sigs := notifySignals()
	defer sigs.stop()

	f, err := startDemo(c, dir, pubs)
	if err == nil {
		printGuide(out, f, os.Args[0], keep, once)
	}
	var failed error
	switch {
	case c.Context.Err() != nil:
		// Interrupted: the user's choice, but with --once a failure.
		if once && err != nil {
			failed = errors.New("interrupted before the nodes converged")
		}
	case err != nil:
		failed = err
	case !once:
		if sigs.wait(c.Context, f.Done()) {
			failed = f.Err()
		}
	}
	if f != nil {
		if err := stopDemo(out, f, sigs, once); err != nil {
			return err
		}
		if ferr := f.Err(); ferr != nil && !errors.Is(failed, ferr) {
			failed = errors.Join(failed, ferr)
		}
	}
	if keep {
		fmt.Fprintf(out, "The demo files stay in %s.\n", dir)
	} else if err := os.RemoveAll(dir); err != nil {
		failed = errors.Join(failed, fmt.Errorf("remove the demo directory: %w", err))
	} else {
		fmt.Fprintf(out, "Removed %s.\n", dir)
	}
	if failed != nil {
		return cli.Exit(failed.Error(), 1)
	}
	return nil
}

// startDemo starts the federation in dir, publishes the catalogue and
// waits until every node holds it, all within --timeout. It returns the
// federation when it started, even with an error.
func startDemo(c *cli.Context, dir string, pubs []demo.Publisher) (*federation.Federation, error) {
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))
	fmt.Fprintf(c.App.Writer, "Starting %d demo nodes on loopback, network %q, homes in %s\n", len(pubs), federation.Network, dir)
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	defer cancel()
	f, err := federation.Start(ctx, dir, pubs, log)
	if err == nil {
		err = f.Publish(ctx)
	}
	if err == nil {
		err = f.Converge(ctx, c.App.Writer)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the demo nodes were not ready in time (--timeout %v); rerun with --verbose to see why", c.Duration("timeout"))
	}
	return f, err
}

// stopDemo stops the federation (signals.shutdown); its error is the exit
// error of a second signal or of the timeout.
func stopDemo(out io.Writer, f *federation.Federation, sigs *signals, once bool) error {
	if once {
		fmt.Fprintln(out, "Stopping the demo nodes.")
	} else {
		fmt.Fprintln(out, "Stopping the demo nodes; a second signal stops them at once.")
	}
	f.Stop()
	return sigs.shutdown(f.Done(),
		"second signal: stopped without finishing the shutdown; the demo files stay in "+f.Dir(),
		fmt.Sprintf("the demo nodes did not stop within %v; the demo files stay in %s", shutdownTimeout, f.Dir()))
}

// demoDir returns the directory for the demo's homes: dir, created if
// missing, or a new temporary directory when dir is empty (then temp is
// true). It refuses the user's own home (own), a directory holding an identity
// (a real node's home) and any directory that is not empty.
func demoDir(dir, own string) (_ string, temp bool, _ error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "khantara-demo-")
		if err != nil {
			return "", false, fmt.Errorf("create a temporary directory for the demo: %w", err)
		}
		return d, true, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, fmt.Errorf("dir: %w", err)
	}
	if h, err := filepath.Abs(own); err == nil && own != "" && h == abs {
		return "", false, fmt.Errorf("dir: %s is your node's home (--home); the demo needs a directory of its own", dir)
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", false, fmt.Errorf("dir: %w", err)
		}
		return abs, false, nil
	case err != nil:
		return "", false, fmt.Errorf("dir: %w", err)
	}
	if _, err := os.Lstat(layoutOf(abs).Identity()); err == nil {
		return "", false, fmt.Errorf("dir: %s holds %s, so it is a node's home; the demo never publishes under a real identity: name a new or empty directory", dir, home.IdentityFile)
	}
	if len(entries) > 0 {
		return "", false, fmt.Errorf("dir: %s is not empty; name a new or empty directory, or leave out --dir for a temporary one", dir)
	}
	return abs, false, nil
}

// printGuide tells the user what runs where and what to try next; prog is
// how the user called this binary.
func printGuide(w io.Writer, f *federation.Federation, prog string, keep, once bool) {
	nodes := f.Nodes()
	first, last := nodes[0], nodes[len(nodes)-1]
	fmt.Fprintf(w, "\nThe demo federation is running: %d nodes linked in a line, %s.\n", len(nodes), f.Chain())
	fmt.Fprintf(w, "Each node has a new, throwaway identity and publishes for a made-up organisation; your own node is not involved.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE\tPUBLISHES\tFOR\tHOLDS\tPEER ID\tAPI")
	for _, d := range nodes {
		fmt.Fprintf(tw, "  %s\t%d (%s)\t%s\t%d\t%s\thttp://%s\n", d.Name, len(d.Publisher.Sheets), strings.Join(d.Publisher.Countries, " "),
			d.For.Slug, d.Practices(), d.Node().ID(), d.APIAddr())
	}
	tw.Flush()
	printOrgs(w, f)

	example := first.Publisher.Sheets[0].ID
	if slices.ContainsFunc(first.Publisher.Sheets, func(s *protocol.FactSheet) bool { return s.ID == "al-khantara-sicilia" }) {
		example = "al-khantara-sicilia"
	}
	via := "straight from " + first.Name
	if len(nodes) > 2 {
		via = fmt.Sprintf("published by %s, %d hops away, delivered by %s", first.Name, len(nodes)-1, nodes[len(nodes)-2].Name)
	}
	withHome := func(d *federation.Node) string { return prog + " --home " + d.Home }
	fmt.Fprintf(w, "\nOpen the web page of %s in a browser: http://%s/\n", last.Name, last.APIAddr())
	fmt.Fprintf(w, "(every node serves one at its API address: search, facets, charts, the map with the adaptations as arcs,\n")
	fmt.Fprintf(w, "each practice with its provenance and its experiences, the network)\n")
	fmt.Fprintf(w, "\nEach node's home (under %s) tells the CLI where its API is. Try, in another terminal:\n\n", f.Dir())
	fmt.Fprintf(w, "  %s list\n", withHome(last))
	fmt.Fprintf(w, "  %s show %s/%s\n", withHome(last), first.For.ID, example)
	fmt.Fprintf(w, "      # %s\n", via)
	fmt.Fprintf(w, "  %s search integrazione lavoro      # Italian, stemmed\n", withHome(last))
	fmt.Fprintf(w, "  %s stats --by dimension\n", withHome(last))
	fmt.Fprintf(w, "  %s status\n", withHome(last))
	fmt.Fprintf(w, "  %s peers\n", withHome(nodes[1]))
	fmt.Fprintf(w, "  %s org show      # %s's organisation: its keys and delegations\n", withHome(first), first.Name)
	fmt.Fprintf(w, "  curl -s http://%s/api/v1/status\n", last.APIAddr())
	printDemoExperiences(w, f, withHome(last), last.APIAddr())
	fmt.Fprintf(w, "\nPublish at one end of the line, read at the other:\n\n")
	fmt.Fprintf(w, "  %s publish %s\n", withHome(first), filepath.Join(f.Dir(), federation.TryFile))
	fmt.Fprintf(w, "  %s show %s/%s\n", withHome(last), first.Org.ID, demo.TrySheetID)
	fmt.Fprintf(w, "  %s retract %s --reason \"just trying\"\n", withHome(first), demo.TrySheetID)
	fmt.Fprintf(w, "  %s list --retracted      # retracted on %s too\n", withHome(last), last.Name)
	fmt.Fprintf(w, "\nAfter that, README.md's five-minute tour sets up a node of your own, with your own identity.\n")
	switch {
	case once:
		fmt.Fprintf(w, "--once: the demo stops now.\n")
	case keep:
		fmt.Fprintf(w, "Stop the demo with Ctrl-C; its files stay in %s.\n", f.Dir())
	default:
		fmt.Fprintf(w, "Stop the demo with Ctrl-C; it then removes %s (--keep keeps it).\n", f.Dir())
	}
}

// printOrgs lists the demo's organisations: who runs which node, the
// network's list and the member it publishes for, and where the rotation
// keys are.
func printOrgs(w io.Writer, f *federation.Federation) {
	fmt.Fprintf(w, "\nThe nodes publish for made-up organisations, each created by the demo with a rotation key of its own:\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ORGANISATION\tID\tDELEGATES")
	for _, o := range f.Orgs() {
		var dels []string
		for _, d := range o.Delegates {
			var may []string
			for _, k := range d.May {
				may = append(may, string(k))
			}
			dels = append(dels, fmt.Sprintf("%s (%s)", f.Nodes()[d.Node].Name, strings.Join(may, ", ")))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Slug, o.ID, strings.Join(dels, "; "))
	}
	tw.Flush()
	for _, o := range f.Orgs() {
		switch {
		case o.Network:
			fmt.Fprintf(w, "  %s: its coordinator's list %q names the others.\n", o.Slug, demo.ListName)
		case o.Member:
			fmt.Fprintf(w, "  %s: a member of the network without a node; it delegated %s, which publishes for it.\n",
				o.Slug, f.Nodes()[o.Delegates[0].Node].Name)
		}
	}
	fmt.Fprintf(w, "\nTheir rotation keys are in %s (demo only: never in a node's home).\n",
		filepath.Join(f.Dir(), federation.KeysDir))
}

// experienceExample is the demo practice the guide shows experiences of:
// an adaptation, a question and its answer are about it.
const experienceExample = "where-the-rivers-meet"

// printDemoExperiences says what the demo's experience records are and where
// to read them; cli is the CLI command of a node's home, api its API
// address.
func printDemoExperiences(w io.Writer, f *federation.Federation, cli, api string) {
	org := f.PracticeOrg(experienceExample)
	if org == nil || f.Experiences() == 0 {
		return
	}
	path := org.ID.String() + "/" + experienceExample
	fmt.Fprintf(w, "\nThe organisations also published %d experience records about each other's practices:\n", f.Experiences())
	fmt.Fprintf(w, "adaptations with their outcomes, lessons, questions with their answers, endorsements. Read them:\n\n")
	fmt.Fprintf(w, "  %s show %s      # its adaptations, and a question with its answer\n", cli, path)
	fmt.Fprintf(w, "  curl -s http://%s/api/v1/practices/%s/experiences\n", api, path)
	fmt.Fprintf(w, "  http://%s/#/practice/%s      # the same on the web page\n", api, path)
	fmt.Fprintf(w, "  http://%s/#/map      # where the practices are, and arcs to where they were adapted\n", api)
}
