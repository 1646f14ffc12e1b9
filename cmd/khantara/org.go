package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

// orgCommand is `khantara org`: an organisation as the publisher
// (PROTOCOL.md section 12). The rotation keys live in a file the
// operator keeps offline; the daemon never sees them.
func orgCommand() *cli.Command {
	return &cli.Command{
		Name:  "org",
		Usage: "create and manage the organisation this node publishes for",
		Description: "An organisation publishes through delegated keys (this node's key, a second\n" +
			"node's, a staff member's) and is controlled by rotation keys kept offline in a\n" +
			"key file: they sign its delegations, revocations and rotations.",
		HideHelpCommand: true,
		Subcommands: []*cli.Command{
			orgInitCommand(), orgShowCommand(), orgDelegateCommand(), orgRevokeCommand(),
			orgRotateCommand(), orgKeygenCommand(), orgMembersCommand(), orgAdoptCommand(),
		},
	}
}

func orgInitCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create an organisation and publish for it from now on",
		Description: "init generates the rotation keys here, writes them to --keys-out (never inside\n" +
			"the node's home; - prints them), builds the organisation's genesis (its name,\n" +
			"the rotation keys, a delegation of this node's key for every kind), submits it\n" +
			"to the daemon, writes org: ID into the config file and makes the running daemon\n" +
			"publish for the organisation. --adopt makes the organisation continue this\n" +
			"node's plain publisher: its practices and profile move under the organisation\n" +
			"(same IDs) and the plain copies are retracted (\"moved to ORG-ID\").",
		Flags: withGlobals(
			&cli.StringFlag{Name: "name", Usage: "the organisation's `NAME`", Required: true},
			&cli.IntFlag{Name: "rotation-keys", Value: 2, Usage: "how many rotation keys to generate (`N`, 1-5)"},
			&cli.StringFlag{Name: "keys-out", Value: "-", Usage: "`FILE` to write the rotation keys to (created, mode 0600); - prints them"},
			&cli.BoolFlag{Name: "adopt", Usage: "move this node's own practices and profile into the organisation"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runOrgInit,
	}
}

// orgInitResult is the JSON of org init.
type orgInitResult struct {
	Org     string       `json:"org"`
	Name    string       `json:"name"`
	Keys    []string     `json:"rotation_keys"`
	KeysOut string       `json:"keys_out"`
	Config  string       `json:"config"`
	Adopted *api.Adopted `json:"adopted,omitempty"`
}

func runOrgInit(c *cli.Context) error {
	if args, err := positionals(c); err != nil {
		return err
	} else if len(args) > 0 {
		return cli.Exit("org init takes no arguments; write e.g. khantara org init --name NAME --keys-out FILE", exitUsage)
	}
	n, out := c.Int("rotation-keys"), c.String("keys-out")
	if n < 1 || n > protocol.MaxRotationKeys {
		return cli.Exit(fmt.Sprintf("org init: --rotation-keys must be 1 to %d", protocol.MaxRotationKeys), exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	if out != "-" {
		if err := outsideHome(out, home); err != nil {
			return err
		}
	}
	cfg, err := openConfig(c)
	if err != nil {
		return err
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	st, err := cl.Status(c.Context)
	if err != nil {
		return err
	}
	if st.Org != "" {
		return cli.Exit(fmt.Sprintf("this node publishes for organisation %s already (khantara org show)", st.Org), exitFailed)
	}
	self, err := peer.Decode(st.PeerID)
	if err != nil {
		return fmt.Errorf("the daemon's peer ID %q: %w", st.PeerID, err)
	}
	kf, genesis, err := newGenesis(c.String("name"), n, self, c.Bool("adopt"))
	if err != nil {
		return err
	}
	text, err := kf.text("organisation rotation keys", c.String("name"), time.Now())
	if err != nil {
		return err
	}
	// The keys first: nothing leaves this process before they are safe.
	if err := writeKeyFile(out, home, c.App.Writer, text); err != nil {
		return err
	}
	res := orgInitResult{Org: kf.org.String(), Name: c.String("name"), Keys: idStrings(kf.ids), KeysOut: out, Config: cfg.path}
	if err := startOrg(c, cl, cfg, genesis); err != nil {
		return err
	}
	if c.Bool("adopt") {
		ad, err := cl.Adopt(c.Context)
		if err != nil {
			return fmt.Errorf("the organisation is created, but moving this node's records stopped (khantara org adopt finishes it): %w", err)
		}
		res.Adopted = &ad
	}
	w := c.App.Writer
	if out == "-" {
		w = c.App.ErrWriter // stdout holds the keys
	}
	if jsonOutput(c) {
		return printJSON(w, res)
	}
	printOrgInit(w, res)
	return nil
}

// newGenesis generates n rotation keys and seals the genesis of an
// organisation that delegates self for every kind.
func newGenesis(name string, n int, self peer.ID, adopt bool) (*keyFile, *protocol.Signed, error) {
	kf, err := newKeys(n)
	if err != nil {
		return nil, nil, err
	}
	ann, err := protocol.NewGenesis(name, kf.pubs(), time.Now().Truncate(time.Second),
		protocol.Delegation{Key: self, May: protocol.DelegableKinds})
	if err != nil {
		return nil, nil, cli.Exit("org init: "+err.Error(), exitUsage)
	}
	if adopt {
		ann.Org.Adopts = self
	}
	sg, err := protocol.Seal(ann, kf.keys[0])
	if err != nil {
		return nil, nil, cli.Exit("org init: "+err.Error(), exitUsage)
	}
	kf.org = sg.Announcement().Publisher
	return kf, sg, nil
}

// startOrg makes the daemon publish for the new organisation, submits its
// genesis and writes org: ID into the config file. The daemon is set
// first, so that a selective trust policy keeps the genesis (a node
// always keeps its own organisation); it is set back if the genesis is
// refused.
func startOrg(c *cli.Context, cl *api.Client, cfg *configFile, genesis *protocol.Signed) error {
	org := genesis.Announcement().Publisher.String()
	if err := cl.SetOrg(c.Context, org); err != nil {
		return err
	}
	if _, err := cl.Submit(c.Context, genesis.Envelope()); err != nil {
		if err2 := cl.SetOrg(c.Context, ""); err2 != nil {
			return errors.Join(err, err2)
		}
		return err
	}
	setScalar(cfg.root(), "org", org)
	if err := cfg.save(); err != nil {
		return fmt.Errorf("the organisation %s is created and the daemon publishes for it, but the config file was not updated (add org: %s to it): %w", org, org, err)
	}
	return nil
}

func printOrgInit(w io.Writer, r orgInitResult) {
	fmt.Fprintf(w, "Created the organisation %q.\n\n", r.Name)
	t := newTable(w)
	fmt.Fprintf(t, "  organisation ID:\t%s\n", r.Org)
	for i, k := range r.Keys {
		fmt.Fprintf(t, "  rotation key %d:\t%s\n", i, k)
	}
	where := r.KeysOut
	if where == "-" {
		where = "printed above (standard output)"
	}
	fmt.Fprintf(t, "  keys:\t%s\n", where)
	fmt.Fprintf(t, "  config:\t%s (org: %s)\n", r.Config, r.Org)
	t.Flush()
	if r.Adopted != nil {
		fmt.Fprintf(w, "\nMoved %d practices into the organisation; their plain copies are retracted (\"moved to %s\").\n", r.Adopted.Moved, r.Org)
	}
	fmt.Fprintf(w, "\nThis node publishes for the organisation from now on.\n")
	fmt.Fprintf(w, "Back the key file up offline and remove it from this machine: it signs the\n")
	fmt.Fprintf(w, "organisation's delegations, revocations and rotations (khantara org delegate).\n")
}

func orgShowCommand() *cli.Command {
	return &cli.Command{
		Name:            "show",
		Usage:           "print an organisation: keys, delegations, revocations, lists",
		ArgsUsage:       "[ORG-ID]",
		Description:     "show prints the organisation as this node holds it; without ORG-ID, the one it publishes for.",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			args, err := positionals(c)
			if err != nil {
				return err
			}
			if len(args) > 1 {
				return cli.Exit("org show: name at most one organisation ID", exitUsage)
			}
			cl, err := daemonClient(c)
			if err != nil {
				return err
			}
			var org string
			if len(args) == 1 {
				if org, err = parseOrgArg(args[0]); err != nil {
					return err
				}
			} else {
				st, err := cl.Status(c.Context)
				if err != nil {
					return err
				}
				if org = st.Org; org == "" {
					return cli.Exit("this node publishes for no organisation; name one (khantara org show ORG-ID) or create one (khantara org init)", exitFailed)
				}
			}
			o, err := cl.Org(c.Context, org)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, o)
			}
			printOrg(c.App.Writer, o, time.Now())
			return nil
		},
	}
}

// parseOrgArg parses an organisation ID argument (exit code 2 if it is
// not one).
func parseOrgArg(s string) (string, error) {
	id, err := protocol.DecodeID(s)
	if err != nil || !protocol.IsOrg(id) {
		return "", cli.Exit(fmt.Sprintf("%q is not an organisation ID (khantara org show prints one)", s), exitUsage)
	}
	return id.String(), nil
}

// printOrg writes org show's human output.
func printOrg(w io.Writer, o api.Organisation, now time.Time) {
	f := fields{w: w, width: termWidth()}
	fmt.Fprintf(w, "%s\n%s\n\n", o.Name, strings.Repeat("=", max(3, min(60, len(o.Name)))))
	f.add("ID", o.ID)
	f.add("Head", fmt.Sprintf("seq %d, %s", o.HeadSeq, o.Head))
	for i, k := range o.Keys {
		f.add(fmt.Sprintf("Rotation key %d", i), k)
	}
	for _, d := range o.Delegations {
		s := fmt.Sprintf("%s may %s", d.Key, kindsText(d.May))
		if d.Until != nil {
			s += ", until " + whenText(*d.Until, now)
		}
		f.add("Delegate", s)
	}
	for _, r := range o.Revocations {
		f.add("Revoked", fmt.Sprintf("%s from %s, records up to seq %d stay", r.Key, whenText(r.From, now), r.Through))
	}
	if o.Adopts != "" {
		f.add("Formerly", o.Adopts)
	}
	for _, l := range o.Lists {
		f.add("Publishes list", fmt.Sprintf("%s (%s): %d members, seq %d", l.List, l.Title, len(l.Members), l.Seq))
	}
	for _, l := range o.MemberOf {
		f.add("Member of", fmt.Sprintf("%s/%s (%s)", orText(l.PublisherName, l.Publisher), l.List, l.Title))
	}
	f.add("Operations", fmt.Sprintf("%d held", o.Ops))
	for _, x := range o.Forks {
		f.add("Off the chain", fmt.Sprintf("%s seq %d by %s: %s", x.Hash, x.Seq, x.Signer, x.State))
	}
	for _, e := range o.Equivocations {
		f.add("EQUIVOCATION", fmt.Sprintf("%s signed %d operations after %s", e.Signer, len(e.Hashes), e.Prev))
	}
}

// kindsText is "practice, retract".
func kindsText(ks []protocol.Kind) string {
	ss := make([]string, len(ks))
	for i, k := range ks {
		ss[i] = string(k)
	}
	return strings.Join(ss, ", ")
}

func idStrings(ids []peer.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
