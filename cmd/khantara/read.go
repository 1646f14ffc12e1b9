package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
)

// daemonClient is the client for the invocation's home directory.
func daemonClient(c *cli.Context) (*api.Client, error) {
	home, err := requireHome(c)
	if err != nil {
		return nil, err
	}
	return api.NewClient(home)
}

// daemonClientNoArgs refuses arguments (hint, when given, ends the
// refusal with what to do instead), then returns daemonClient.
func daemonClientNoArgs(c *cli.Context, hint string) (*api.Client, error) {
	args, err := positionals(c)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		msg := c.Command.Name + " takes no arguments"
		if hint != "" {
			msg += "; " + hint
		}
		return nil, cli.Exit(msg, exitUsage)
	}
	return daemonClient(c)
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the practices this node holds, from every publisher",
		Description: "list prints one line per practice: publisher (shortened; --json has the full\n" +
			"peer ID), id, sequence number, country and title. On a terminal, titles are\n" +
			"cut to fit its width ($COLUMNS, else 80). --retracted adds the retracted\n" +
			"practices. khantara show PUBLISHER/ID prints one in full.",
		Flags: withGlobals(
			&cli.StringFlag{Name: "publisher", Usage: "only the practices of publisher `PEER_ID`"},
			&cli.BoolFlag{Name: "mine", Usage: "only this node's own practices"},
			&cli.BoolFlag{Name: "retracted", Usage: "include retracted practices"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			if c.IsSet("publisher") && c.Bool("mine") {
				return cli.Exit("list: use either --publisher or --mine", exitUsage)
			}
			cl, err := daemonClientNoArgs(c, "filter with --publisher, --mine or --retracted")
			if err != nil {
				return err
			}
			ps, err := cl.Practices(c.Context, api.ListQuery{Publisher: c.String("publisher"), Mine: c.Bool("mine"), Retracted: c.Bool("retracted")})
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, ps)
			}
			width := 0 // piped: whole titles, for grep and friends
			if isTerminal(c.App.Writer) {
				width = termWidth()
			}
			printPractices(c.App.Writer, ps, width)
			return nil
		},
	}
}

// printPractices writes the table of list, titles cut to fit width (0:
// whole titles).
func printPractices(w io.Writer, ps []api.Practice, width int) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "no practices known here")
		return
	}
	idw, seqw := len("ID"), len("SEQ")
	for _, p := range ps {
		idw = max(idw, utf8.RuneCountInString(p.ID))
		seqw = max(seqw, len(strconv.FormatUint(p.Seq, 10)))
	}
	// PUBLISHER is 9 wide, COUNTRY 7, each column followed by 2 spaces.
	tw := 0
	if width > 0 {
		tw = max(20, width-(9+2+idw+2+seqw+2+7+2))
	}
	t := newTable(w)
	fmt.Fprintln(t, "PUBLISHER\tID\tSEQ\tCOUNTRY\tTITLE")
	for _, p := range ps {
		title := truncateText(p.Title, tw)
		if p.Kind == protocol.KindRetract {
			title = "(retracted)"
		}
		fmt.Fprintf(t, "%s\t%s\t%d\t%s\t%s\n", shortPeer(p.Publisher), p.ID, p.Seq, orText(p.Country, "-"), title)
	}
	t.Flush()
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print one practice in full, with its provenance",
		ArgsUsage: "ID|PUBLISHER/ID",
		Description: "show prints a practice's fact sheet and where it comes from: publisher,\n" +
			"sequence number, hash, whether the signature verifies, when and from which\n" +
			"peer it arrived. With ID alone it picks this node's own practice of that id,\n" +
			"else the only one; when several publishers use the id, name one as\n" +
			"PUBLISHER/ID (khantara list shows them).",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			args, err := positionals(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return cli.Exit("show: name one practice: ID or PUBLISHER/ID", exitUsage)
			}
			cl, err := daemonClient(c)
			if err != nil {
				return err
			}
			pub, id, err := resolvePractice(c.Context, cl, args[0])
			if err != nil {
				return err
			}
			rec, err := cl.Record(c.Context, pub, id)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, rec)
			}
			printRecord(c.App.Writer, rec, time.Now(), termWidth())
			return nil
		},
	}
}

// resolvePractice turns show's argument into a publisher and an id. With
// PUBLISHER/ID it takes both as given; with ID alone it asks the daemon
// which publishers have a practice of that id (retracted ones included)
// and picks this node's own, else the only one.
func resolvePractice(ctx context.Context, cl *api.Client, arg string) (publisher, id string, err error) {
	if pub, id, ok := strings.Cut(arg, "/"); ok {
		if pub == "" || id == "" || strings.Contains(id, "/") {
			return "", "", cli.Exit(fmt.Sprintf("show: %q is neither ID nor PUBLISHER/ID", arg), exitUsage)
		}
		return pub, id, nil
	}
	list, err := cl.Practices(ctx, api.ListQuery{ID: arg, Retracted: true})
	if err != nil {
		return "", "", err
	}
	var pubs []string
	for _, p := range list {
		if p.ID == arg && !slices.Contains(pubs, p.Publisher) {
			pubs = append(pubs, p.Publisher)
		}
	}
	switch len(pubs) {
	case 0:
		return "", "", cli.Exit(fmt.Sprintf("no practice %s is known here (khantara list shows the ids)", arg), exitFailed)
	case 1:
		return pubs[0], arg, nil
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return "", "", err
	}
	if slices.Contains(pubs, st.PeerID) {
		return st.PeerID, arg, nil
	}
	slices.Sort(pubs)
	return "", "", cli.Exit(fmt.Sprintf("%d publishers have a practice %s: %s; name one: khantara show PUBLISHER/%s",
		len(pubs), arg, strings.Join(pubs, ", "), arg), exitFailed)
}

// labelWidth is the width of the labels of show and status.
const labelWidth = 19

// fields writes "Label:  value" lines, values wrapped under each other.
type fields struct {
	w     io.Writer
	width int
}

// add writes one field; an empty value writes nothing.
func (f fields) add(label, value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	pad := strings.Repeat(" ", labelWidth)
	text := wrapText(value, max(20, f.width-labelWidth), pad)
	head := label + ":"
	if n := utf8.RuneCountInString(head); n < labelWidth {
		head += strings.Repeat(" ", labelWidth-n)
	} else {
		head += " "
	}
	fmt.Fprint(f.w, head+strings.TrimPrefix(text, pad))
}

// text writes a heading and a wrapped paragraph below it.
func (f fields) text(heading, value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	fmt.Fprintf(f.w, "\n%s\n%s", heading, wrapText(value, f.width-2, "  "))
}

// words turns vocabulary codes into words: "socio_economic" reads
// "socio economic".
func words(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = strings.ReplaceAll(c, "_", " ")
	}
	return strings.Join(out, ", ")
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// yearsText is "2011-ongoing", "2011-2014" or "2011", with the duration.
func yearsText(s *protocol.FactSheet) string {
	if s.StartYear == 0 {
		return ""
	}
	t := strconv.Itoa(s.StartYear)
	switch {
	case s.Ongoing:
		t += "–ongoing"
	case s.EndYear != 0:
		t += "–" + strconv.Itoa(s.EndYear)
	}
	if s.DurationYears > 0 {
		t += fmt.Sprintf(" (planned for %s)", plural(s.DurationYears, "year"))
	}
	return t
}

func plural(n float64, unit string) string {
	s := strconv.FormatFloat(n, 'f', -1, 64)
	if n != 1 {
		unit += "s"
	}
	return s + " " + unit
}

// fundingText is "EUR 8,000 over 1 year; sources: local".
func fundingText(f *protocol.Funding) string {
	if f == nil {
		return ""
	}
	var parts []string
	if f.AmountEUR != nil {
		a := "EUR " + groupDigits(*f.AmountEUR)
		if f.PeriodYears > 0 {
			a += " over " + plural(f.PeriodYears, "year")
		}
		parts = append(parts, a)
	}
	if len(f.Sources) > 0 {
		parts = append(parts, "sources: "+words(f.Sources))
	}
	return strings.Join(parts, "; ")
}

// placeText joins the non-empty parts with commas.
func placeText(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// printRecord writes show's human output: the sheet, then the provenance.
func printRecord(w io.Writer, rec api.Record, now time.Time, width int) {
	f := fields{w: w, width: width}
	s := rec.Practice
	switch {
	case rec.Kind == protocol.KindRetract:
		fmt.Fprintf(w, "Practice %s is retracted: its publisher withdrew it.\n\n", rec.ID)
		reason := "(none given)"
		if rec.Retraction != nil && rec.Retraction.Reason != "" {
			reason = rec.Retraction.Reason
		}
		f.add("Reason", reason)
	case s != nil:
		fmt.Fprintf(w, "%s\n%s\n\n", s.Title, strings.Repeat("=", min(width, max(3, utf8.RuneCountInString(s.Title)))))
		f.add("ID", s.ID)
		f.add("Country", s.Country)
		f.add("Region / city", placeText(s.Region, s.City))
		f.add("Organiser", s.Organiser)
		f.add("Language", s.Language)
		if len(s.Translations) > 0 {
			f.add("Translations", strings.Join(slices.Sorted(maps.Keys(s.Translations)), ", "))
		}
		f.add("Years", yearsText(s))
		f.add("Dimensions", words(s.Dimensions))
		f.add("Issues", words(s.Issues))
		f.add("Target groups", words(s.TargetGroups))
		f.add("Funding", fundingText(s.Funding))
		if s.Partners != nil {
			f.add("Partner types", words(s.Partners.Types))
			f.add("Partners", strings.Join(s.Partners.Names, "; "))
		}
		if s.Beneficiaries != nil {
			f.add("Beneficiaries", groupDigits(*s.Beneficiaries))
		}
		f.add("Achievement", words([]string{s.Achievement}))
		f.add("Evaluation", s.Evaluation)
		f.add("National programme", yesNo(s.PartOfNationalProgramme))
		if s.Transferability != nil {
			f.add("Replicable", yesNo(s.Transferability.Replicable))
		}
		if ct := s.Contact; ct != nil {
			f.add("Contact", placeText(ct.Organisation, ct.Unit, ct.Email, ct.Website))
		}
		for _, l := range s.Links {
			f.add("Link", strings.TrimSpace(l.Title+" "+l.URL))
		}
		f.add("Tags", strings.Join(s.Tags, ", "))

		f.text("Summary", s.Summary)
		f.text("Objective", s.Objective)
		f.text("Context", s.Context)
		f.text("Policy challenges", s.Challenges)
		f.text("Issues in detail", s.IssuesText)
		f.text("Target groups in detail", s.TargetGroupsText)
		f.text("Assistance", s.Assistance)
		f.text("Activities", s.Activities)
		f.text("Staff training", s.StaffTraining)
		if s.Funding != nil {
			f.text("Funding notes", s.Funding.Notes)
		}
		if s.Partners != nil {
			f.text("Partnership", s.Partners.Description)
		}
		f.text("Beneficiaries in detail", s.BeneficiariesText)
		f.text("Outcomes", s.Outcomes)
		if s.Transferability != nil {
			f.text("Transferability", s.Transferability.Lessons)
		}
		f.text("Evaluation in detail", s.EvaluationText)
		f.text("Other information", s.OtherInformation)
	default:
		fmt.Fprintf(w, "%s\n\n", orText(rec.Title, rec.ID))
		f.add("ID", rec.ID)
		f.add("Kind", string(rec.Kind))
	}

	fmt.Fprintf(w, "\nProvenance\n----------\n")
	pub := rec.Publisher
	if p := rec.Profile; p != nil {
		pub += " (" + placeText(p.Name, p.Country) + ")"
	} else {
		pub += " (no profile known here)"
	}
	f.add("Publisher", pub)
	f.add("Sequence", strconv.FormatUint(rec.Seq, 10))
	if !rec.Time.IsZero() {
		f.add("Signed at", whenText(rec.Time, now))
	}
	f.add("Hash", rec.Hash)
	if rec.SignatureVerified {
		f.add("Signature", "verified against the publisher's key")
	} else {
		f.add("Signature", "NOT verified")
	}
	from := "published here"
	if rec.From != "" {
		from = "from peer " + rec.From
	}
	f.add("Received", whenText(rec.ReceivedAt, now)+", "+from)
}
