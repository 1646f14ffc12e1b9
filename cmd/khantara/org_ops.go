package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

// The operations an operator signs with a rotation key from the key
// file: delegate, revoke, rotate. Each reads the head from the daemon,
// derives the next operation (protocol's helpers), seals it here and
// submits it: the rotation keys never reach the daemon.

// keysFlags are the flags of a command signing with a rotation key.
func keysFlags(flags ...cli.Flag) []cli.Flag {
	return withGlobals(append([]cli.Flag{
		&cli.StringFlag{Name: "keys", Usage: "the organisation's key `FILE` (from org init or org rotate)", Required: true},
		&cli.IntFlag{Name: "rotation-key", Usage: "sign with key `N` of the file (0 is the highest priority)"},
	}, flags...)...)
}

// orgOp is what an operation needs: the signing key, the daemon's view
// of the organisation, its head, and the operation's seq and time.
type orgOp struct {
	cl   *api.Client
	key  crypto.PrivKey
	org  api.Organisation
	head *protocol.Signed
	seq  uint64
	now  time.Time
}

// loadOrgOp reads the key file, fetches the organisation and checks that
// the chosen key is a rotation key of its head (exit code 2 if not).
func loadOrgOp(c *cli.Context) (*orgOp, error) {
	kf, err := readKeyFile(c.String("keys"))
	if err != nil {
		return nil, err
	}
	i := c.Int("rotation-key")
	if i < 0 || i >= len(kf.keys) {
		return nil, cli.Exit(fmt.Sprintf("--rotation-key %d: %s holds keys 0 to %d", i, c.String("keys"), len(kf.keys)-1), exitUsage)
	}
	cl, err := daemonClient(c)
	if err != nil {
		return nil, err
	}
	o, err := cl.Org(c.Context, kf.org.String())
	if err != nil {
		return nil, err
	}
	if !slices.Contains(o.Keys, kf.ids[i].String()) {
		return nil, cli.Exit(fmt.Sprintf("key %d of %s (%s) is not a rotation key of the head of %s; its rotation keys are %s",
			i, c.String("keys"), kf.ids[i], o.ID, strings.Join(o.Keys, ", ")), exitUsage)
	}
	head, err := protocol.Open(o.HeadEnvelope)
	if err != nil {
		return nil, fmt.Errorf("the daemon's head of %s does not open: %w", o.ID, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if ht := head.Announcement().Time; now.Before(ht) {
		now = ht // a clock behind the head's
	}
	return &orgOp{cl: cl, key: kf.keys[i], org: o, head: head, seq: max(o.HeadSeq, o.MaxSeq) + 1, now: now}, nil
}

// submit seals ann with the rotation key and submits it.
func (x *orgOp) submit(c *cli.Context, ann *protocol.Announcement, err error) (api.Published, error) {
	if err != nil {
		return api.Published{}, cli.Exit(err.Error(), exitUsage)
	}
	sg, err := protocol.Seal(ann, x.key)
	if err != nil {
		return api.Published{}, cli.Exit(err.Error(), exitUsage)
	}
	return x.cl.Submit(c.Context, sg.Envelope())
}

// parseKeyArg parses the peer ID of a key (exit code 2 if it is not one).
func parseKeyArg(s string) (peer.ID, error) {
	id, err := protocol.DecodeID(s)
	if err != nil || !protocol.IsKey(id) {
		return "", cli.Exit(fmt.Sprintf("%q is not the peer ID of a key (12D3KooW..., as khantara status prints it)", s), exitUsage)
	}
	return id, nil
}

// oneArg returns the command's one positional argument.
func oneArg(c *cli.Context, what string) (string, error) {
	args, err := positionals(c)
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", cli.Exit(fmt.Sprintf("org %s: name one %s", c.Command.Name, what), exitUsage)
	}
	return args[0], nil
}

// parseTime parses an RFC 3339 time or a date of a flag.
func parseTime(flag, s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, cli.Exit(fmt.Sprintf("--%s %q is not a time; write 2026-12-31 or 2026-12-31T17:00:00Z", flag, s), exitUsage)
}

// parseMay parses --may: kinds from protocol.DelegableKinds.
func parseMay(s string) ([]protocol.Kind, error) {
	var out []protocol.Kind
	for _, part := range strings.Split(s, ",") {
		k := protocol.Kind(strings.TrimSpace(part))
		if !slices.Contains(protocol.DelegableKinds, k) {
			kinds := make([]string, len(protocol.DelegableKinds))
			for i, d := range protocol.DelegableKinds {
				kinds[i] = string(d)
			}
			return nil, cli.Exit(fmt.Sprintf("--may: %q is not a kind; use %s", part, strings.Join(kinds, ", ")), exitUsage)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

func orgDelegateCommand() *cli.Command {
	return &cli.Command{
		Name:      "delegate",
		Usage:     "let a key (a second node, a staff member) publish for the organisation",
		ArgsUsage: "PEER-ID",
		Description: "delegate signs, with a rotation key of the key file, an operation that lets\n" +
			"PEER-ID publish the kinds of --may for the organisation (until --until). A\n" +
			"lost node key is replaced this way: delegate the new node's key; the\n" +
			"organisation's practices continue under the same ID.",
		Flags: keysFlags(
			&cli.StringFlag{Name: "may", Usage: "the kinds it may publish: `KINDS` from practice,retract,profile,members,experience", Required: true},
			&cli.StringFlag{Name: "until", Usage: "end the delegation at `TIME` (RFC 3339 or a date)"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "PEER-ID to delegate")
			if err != nil {
				return err
			}
			key, err := parseKeyArg(arg)
			if err != nil {
				return err
			}
			d := protocol.Delegation{Key: key}
			if d.May, err = parseMay(c.String("may")); err != nil {
				return err
			}
			if c.IsSet("until") {
				if d.Until, err = parseTime("until", c.String("until")); err != nil {
					return err
				}
			}
			x, err := loadOrgOp(c)
			if err != nil {
				return err
			}
			ann, err := protocol.Delegate(x.head, x.seq, x.now, d)
			p, err := x.submit(c, ann, err)
			return opDone(c, p, err, fmt.Sprintf("delegated %s (may %s) for %s", key, kindsText(d.May), x.org.Name))
		},
	}
}

func orgRevokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "revoke a delegated key (a leaked or retired one)",
		ArgsUsage: "PEER-ID",
		Description: "revoke signs an operation that revokes PEER-ID from --from (default now): its\n" +
			"records dated before it, up to the highest sequence number this node holds\n" +
			"from that key, stay valid; every node drops the ones after.",
		Flags: keysFlags(
			&cli.StringFlag{Name: "from", Usage: "records dated from `TIME` on are no longer valid (default now)"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "PEER-ID to revoke")
			if err != nil {
				return err
			}
			key, err := parseKeyArg(arg)
			if err != nil {
				return err
			}
			// Now, rounded up to the next second: a record signed in this
			// second was signed before the revocation (times are whole
			// seconds), and through bounds what the key can add.
			from := time.Now().UTC().Truncate(time.Second).Add(time.Second)
			if c.IsSet("from") {
				if from, err = parseTime("from", c.String("from")); err != nil {
					return err
				}
			}
			x, err := loadOrgOp(c)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(x.org.Delegations, func(d api.Delegation) bool { return d.Key == key.String() })
			if i < 0 {
				return cli.Exit(fmt.Sprintf("%s is not a delegate of %s (khantara org show lists them)", key, x.org.ID), exitUsage)
			}
			through := x.org.Delegations[i].MaxSeq
			// What the revocation takes out of the catalogue, asked for
			// before it does.
			held, err := x.cl.Practices(c.Context, api.ListQuery{Publisher: x.org.ID, Retracted: true})
			if err != nil {
				return err
			}
			ann, err := protocol.Revoke(x.head, x.seq, x.now, key, from, through)
			p, err := x.submit(c, ann, err)
			if err := opDone(c, p, err, fmt.Sprintf("revoked %s from %s; its records up to seq %d stay valid", key, from.Format(time.RFC3339), through)); err != nil {
				return err
			}
			if !jsonOutput(c) {
				printDropped(c.App.Writer, held, key, from)
			}
			return nil
		},
	}
}

func orgRotateCommand() *cli.Command {
	return &cli.Command{
		Name:  "rotate",
		Usage: "replace the organisation's rotation keys",
		Description: "rotate generates new rotation keys, writes them to --new-keys-out first, then\n" +
			"signs with a key of --keys an operation that makes them the rotation keys. A\n" +
			"rotation signed by a lower-priority key can be overturned by a higher one\n" +
			"until a key of that priority signs on top of it (PROTOCOL.md 12).",
		Flags: keysFlags(
			&cli.StringFlag{Name: "new-keys-out", Usage: "`FILE` to write the new keys to (- prints them)", Required: true},
			&cli.IntFlag{Name: "rotation-keys", Value: 2, Usage: "how many new rotation keys (`N`, 1-5)"},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action:          runOrgRotate,
	}
}

func runOrgRotate(c *cli.Context) error {
	if args, err := positionals(c); err != nil {
		return err
	} else if len(args) > 0 {
		return cli.Exit("org rotate takes no arguments", exitUsage)
	}
	n := c.Int("rotation-keys")
	if n < 1 || n > protocol.MaxRotationKeys {
		return cli.Exit(fmt.Sprintf("org rotate: --rotation-keys must be 1 to %d", protocol.MaxRotationKeys), exitUsage)
	}
	home, err := requireHome(c)
	if err != nil {
		return err
	}
	out := c.String("new-keys-out")
	if out != "-" {
		if err := outsideHome(out, home); err != nil {
			return err
		}
	}
	x, err := loadOrgOp(c)
	if err != nil {
		return err
	}
	kf, err := newKeys(n)
	if err != nil {
		return err
	}
	kf.org = x.head.Announcement().Publisher
	ann, err := protocol.Rotate(x.head, x.seq, x.now, kf.pubs())
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	text, err := kf.text("organisation rotation keys", x.org.Name, time.Now())
	if err != nil {
		return err
	}
	if err := writeKeyFile(out, home, c.App.Writer, text); err != nil {
		return err
	}
	p, err := x.submit(c, ann, nil)
	msg := fmt.Sprintf("rotated the keys of %s; the new ones are in %s (back it up offline)", x.org.Name, out)
	if c.Int("rotation-key") > 0 {
		msg += fmt.Sprintf("; signed by key %d: a higher-priority key of the old file can overturn it until a key of that priority signs on top", c.Int("rotation-key"))
	}
	if out == "-" {
		c.App.Writer = c.App.ErrWriter // stdout holds the keys
	}
	return opDone(c, p, err, msg)
}

// printDropped lists the records of held that a revocation of key from
// from takes out of every replica's catalogue. A dropped record may have
// replaced an earlier version of its practice, which replicas no longer
// hold (PROTOCOL.md 12.11): the operator publishes it again.
func printDropped(w io.Writer, held []api.Practice, key peer.ID, from time.Time) {
	var gone []api.Practice
	for _, p := range held {
		if p.Signer == key.String() && !p.Time.Before(from) {
			gone = append(gone, p)
		}
	}
	if len(gone) == 0 {
		return
	}
	fmt.Fprintf(w, "Every node now drops %s that key signed from %s on:\n", countText(uint64(len(gone)), "record"), from.Format(time.RFC3339))
	for _, p := range gone {
		fmt.Fprintf(w, "  %s (seq %d, %s, %s)\n", p.ID, p.Seq, p.Kind, p.Time.Format(time.RFC3339))
	}
	fmt.Fprintln(w, "Each of these practices leaves the catalogue, with any earlier version it replaced: publish again those you want (khantara publish FILE).")
}

// opDone prints the outcome of a submitted operation.
func opDone(c *cli.Context, p api.Published, err error, msg string) error {
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return printJSON(c.App.Writer, p)
	}
	fmt.Fprintf(c.App.Writer, "%s (operation seq %d, %s)\n", msg, p.Seq, p.Hash)
	return nil
}

func orgKeygenCommand() *cli.Command {
	return &cli.Command{
		Name:  "keygen",
		Usage: "generate a staff key for an organisation (to delegate, e.g. for membership lists)",
		Description: "keygen writes one new key to --keys-out, for ORG-ID, and prints its peer ID:\n" +
			"delegate it (khantara org delegate) and sign with it (khantara org members\n" +
			"publish --keys FILE).",
		ArgsUsage: "ORG-ID",
		Flags: withGlobals(
			&cli.StringFlag{Name: "keys-out", Usage: "`FILE` to write the key to (- prints it)", Required: true},
		),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "ORG-ID the key is for")
			if err != nil {
				return err
			}
			org, err := parseOrgArg(arg)
			if err != nil {
				return err
			}
			home, err := requireHome(c)
			if err != nil {
				return err
			}
			kf, err := newKeys(1)
			if err != nil {
				return err
			}
			kf.org, _ = protocol.DecodeID(org)
			text, err := kf.text("staff key", "", time.Now())
			if err != nil {
				return err
			}
			if err := writeKeyFile(c.String("keys-out"), home, c.App.Writer, text); err != nil {
				return err
			}
			w := c.App.Writer
			if c.String("keys-out") == "-" {
				w = c.App.ErrWriter
			}
			fmt.Fprintf(w, "new key %s; delegate it: khantara org delegate --keys ROTATION-KEYS %s --may members\n", kf.ids[0], kf.ids[0])
			return nil
		},
	}
}
