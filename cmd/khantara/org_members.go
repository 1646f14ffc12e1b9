package main

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/urfave/cli/v2"
	yaml "go.yaml.in/yaml/v3"
)

// Membership lists (`org members publish`) and the migration of a plain
// publisher (`org adopt`).

// maxListFile bounds a membership list file.
const maxListFile = 1 << 20

// listFile is the YAML of a membership list file.
type listFile struct {
	List    string `yaml:"list"`
	Title   string `yaml:"title"`
	Members []struct {
		ID   string `yaml:"id"`
		Name string `yaml:"name"`
	} `yaml:"members"`
}

func orgMembersCommand() *cli.Command {
	return &cli.Command{
		Name:            "members",
		Usage:           "publish the organisation's membership lists",
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name:      "publish",
			Usage:     "publish (or update) a membership list from a YAML file",
			ArgsUsage: "LIST-FILE.yaml",
			Description: "The file holds list (a name: a-z, 0-9, '-'), title, and members, each {id,\n" +
				"name}: organisation or peer IDs. A new version of a list replaces the old one\n" +
				"everywhere; nodes that follow the organisation (trust mode lists) keep the\n" +
				"members' records. --as-node has the daemon sign (its key must be delegated\n" +
				"for members); --keys signs with a staff key file (khantara org keygen).",
			Flags: withGlobals(
				&cli.StringFlag{Name: "keys", Usage: "sign with the staff key `FILE`"},
				&cli.IntFlag{Name: "key", Usage: "use key `N` of the file"},
				&cli.BoolFlag{Name: "as-node", Usage: "the daemon signs with its own key"},
			),
			HideHelpCommand: true,
			OnUsageError:    usageError,
			Action:          runMembersPublish,
		}},
	}
}

// readListFile reads and checks a membership list file (exit code 2 on
// any problem).
func readListFile(path string) (*protocol.MemberList, error) {
	raw, err := readLimited(path, maxListFile)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("%s: %v", path, unreadError(err)), exitUsage)
	}
	var lf listFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&lf); err != nil {
		return nil, cli.Exit(fmt.Sprintf("%s: %v", path, err), exitUsage)
	}
	in := api.MemberList{List: lf.List, Title: lf.Title}
	for _, m := range lf.Members {
		in.Members = append(in.Members, api.Member{ID: m.ID, Name: m.Name})
	}
	m, err := in.Protocol()
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("%s: %v", path, err), exitUsage)
	}
	return m, nil
}

func runMembersPublish(c *cli.Context) error {
	args, err := positionals(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return cli.Exit("org members publish: name one LIST-FILE.yaml", exitUsage)
	}
	if c.IsSet("keys") == c.Bool("as-node") {
		return cli.Exit("org members publish: give either --keys FILE or --as-node", exitUsage)
	}
	m, err := readListFile(args[0])
	if err != nil {
		return err
	}
	cl, err := daemonClient(c)
	if err != nil {
		return err
	}
	var p api.Published
	if c.Bool("as-node") {
		l := api.MemberList{List: m.List, Title: m.Title}
		for _, x := range m.Members {
			l.Members = append(l.Members, api.Member{ID: x.ID.String(), Name: x.Name})
		}
		p, err = cl.PublishMembers(c.Context, l)
	} else {
		p, err = publishMembersWithKey(c, cl, m)
	}
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, p)
	}
	fmt.Fprintf(c.App.Writer, "published list %s (%d members) for %s, seq %d\n", m.List, len(m.Members), p.Publisher, p.Seq)
	return nil
}

// publishMembersWithKey seals the list with a staff key delegated for
// members and submits it.
func publishMembersWithKey(c *cli.Context, cl *api.Client, m *protocol.MemberList) (api.Published, error) {
	kf, err := readKeyFile(c.String("keys"))
	if err != nil {
		return api.Published{}, err
	}
	i := c.Int("key")
	if i < 0 || i >= len(kf.keys) {
		return api.Published{}, cli.Exit(fmt.Sprintf("--key %d: %s holds keys 0 to %d", i, c.String("keys"), len(kf.keys)-1), exitUsage)
	}
	o, err := cl.Org(c.Context, kf.org.String())
	if err != nil {
		return api.Published{}, err
	}
	id := kf.ids[i].String()
	if !slices.ContainsFunc(o.Delegations, func(d api.Delegation) bool {
		return d.Key == id && slices.Contains(d.May, protocol.KindMembers)
	}) {
		return api.Published{}, cli.Exit(fmt.Sprintf("key %d of %s (%s) is not delegated for members by %s; delegate it first (khantara org delegate --may members)", i, c.String("keys"), id, o.ID), exitUsage)
	}
	head, err := protocol.Open(o.HeadEnvelope)
	if err != nil {
		return api.Published{}, fmt.Errorf("the daemon's head of %s does not open: %w", o.ID, err)
	}
	ann := &protocol.Announcement{V: protocol.Version, Publisher: kf.org, Seq: o.MaxSeq + 1,
		Time: time.Now().UTC().Truncate(time.Second), Kind: protocol.KindMembers, Auth: head.Hash(), Members: m}
	sg, err := protocol.Seal(ann, kf.keys[i])
	if err != nil {
		return api.Published{}, cli.Exit(err.Error(), exitUsage)
	}
	return cl.Submit(c.Context, sg.Envelope())
}

func orgAdoptCommand() *cli.Command {
	return &cli.Command{
		Name:  "adopt",
		Usage: "move this node's own practices and profile into its organisation",
		Description: "adopt republishes each practice this node published as itself under its\n" +
			"organisation (same IDs) and retracts the plain copy (\"moved to ORG-ID\"). org\n" +
			"init --adopt does it; run adopt to finish after an interruption.",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			cl, err := daemonClientNoArgs(c, "")
			if err != nil {
				return err
			}
			ad, err := cl.Adopt(c.Context)
			if err != nil {
				return err
			}
			if jsonOutput(c) {
				return printJSON(c.App.Writer, ad)
			}
			fmt.Fprintf(c.App.Writer, "moved %d practices into %s\n", ad.Moved, ad.Org)
			return nil
		},
	}
}
