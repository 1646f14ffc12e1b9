package federation

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// KeysDir is the directory, in the demo directory, that holds the
// rotation keys of the demo's organisations, one key file each
// (SLUG.keys, in the format of khantara org init's key files, under a
// "demo only" header): never in a node's home.
const KeysDir = "rotation-keys-DEMO-ONLY"

// Org is one of the demo's organisations, created when the demo starts.
type Org struct {
	demo.Organisation
	// ID is the organisation's ID, derived from Genesis.
	ID peer.ID
	// Genesis is the operation that created it.
	Genesis *protocol.Signed
	// key is its only rotation key, written to KeysFile.
	key crypto.PrivKey
}

// Name is the organisation's name.
func (o *Org) Name() string { return o.Profile.Name }

// organise creates the demo's organisations: a rotation key each, a
// genesis delegating its nodes, submitted to every node it delegates,
// which then publish for it (the network's node for the network); and
// writes KeysFile.
func (f *Federation) organise(ctx context.Context, pubs []demo.Publisher) error {
	now := time.Now().UTC().Truncate(time.Second)
	for _, o := range demo.Organisations(pubs) {
		org := &Org{Organisation: o}
		var err error
		if org.key, _, err = crypto.GenerateEd25519Key(rand.Reader); err != nil {
			return err
		}
		var dels []protocol.Delegation
		for _, d := range o.Delegates {
			dels = append(dels, protocol.Delegation{Key: f.nodes[d.Node].Node().ID(), May: d.May})
		}
		ann, err := protocol.NewGenesis(o.Profile.Name, []crypto.PubKey{org.key.GetPublic()}, now, dels...)
		if err != nil {
			return fmt.Errorf("organisation %s: %w", o.Slug, err)
		}
		if org.Genesis, err = protocol.Seal(ann, org.key); err != nil {
			return fmt.Errorf("organisation %s: %w", o.Slug, err)
		}
		org.ID = org.Genesis.Announcement().Publisher
		for _, d := range o.Delegates {
			if _, err := f.nodes[d.Node].Node().Submit(ctx, org.Genesis.Envelope()); err != nil {
				return fmt.Errorf("%s: the genesis of %s: %w", f.nodes[d.Node].Name, o.Slug, err)
			}
		}
		f.orgs = append(f.orgs, org)
	}
	for i, n := range f.nodes {
		n.Org, n.For = f.orgs[pubs[i].Org], f.orgs[pubs[i].For]
		if err := n.Node().SetOrg(n.Org.ID); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
	}
	return f.writeKeys()
}

// writeKeys writes the rotation keys to KeysDir, readable by the user
// only, one key file per organisation, each under a header that says
// what it is.
func (f *Federation) writeKeys() error {
	dir := filepath.Join(f.dir, KeysDir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("write the demo's rotation keys: %w", err)
	}
	for _, o := range f.orgs {
		raw, err := crypto.MarshalPrivateKey(o.key)
		if err != nil {
			return err
		}
		id, err := peer.IDFromPrivateKey(o.key)
		if err != nil {
			return err
		}
		text := "# DEMO ONLY: the rotation key of a made-up organisation of `khantara demo`,\n" +
			"# generated for this demo and left here unencrypted, in the demo's directory,\n" +
			"# never in a node's home. Never use it, or this file, for a real organisation.\n" +
			"# Organisation: " + o.Name() + "\n" +
			"# The format is that of khantara org init's key files, so the org commands\n" +
			"# take it (--keys): \"key PRIORITY PEER-ID PRIVATE-KEY\", the private key as\n" +
			"# libp2p marshals it (crypto.MarshalPrivateKey, protobuf), in base64.\n" +
			"khantara-keys 1\norganisation " + o.ID.String() + "\n" +
			"key 0 " + id.String() + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
		if err := os.WriteFile(filepath.Join(dir, o.Slug+".keys"), []byte(text), 0o600); err != nil {
			return fmt.Errorf("write the demo's rotation keys: %w", err)
		}
	}
	return nil
}

// KeysFile is the key file of o, under KeysDir.
func (f *Federation) KeysFile(o *Org) string { return filepath.Join(f.dir, KeysDir, o.Slug+".keys") }

// Orgs are the demo's organisations, in the order of demo.Organisations.
func (f *Federation) Orgs() []*Org { return f.orgs }

// Network is the network's organisation.
func (f *Federation) Network() *Org {
	for _, o := range f.orgs {
		if o.Network {
			return o
		}
	}
	return nil
}

// publishOrgs makes each organisation's first node allowed to publish its
// profile publish it, and the network's node publish the membership
// list naming every other organisation.
func (f *Federation) publishOrgs(ctx context.Context) error {
	for _, o := range f.orgs {
		for _, d := range o.Delegates {
			if !slices.Contains(d.May, protocol.KindProfile) {
				continue
			}
			prof := o.Profile
			n := f.nodes[d.Node]
			if _, err := n.Node().PublishAs(ctx, o.ID, &protocol.Announcement{Kind: protocol.KindProfile, Profile: &prof}); err != nil {
				return fmt.Errorf("%s: publish the profile of %s: %w", n.Name, o.Slug, err)
			}
			break
		}
	}
	net := f.Network()
	list := &protocol.MemberList{List: demo.ListName, Title: demo.ListTitle}
	for _, o := range f.orgs {
		if o != net {
			list.Members = append(list.Members, protocol.Member{ID: o.ID, Name: o.Name()})
		}
	}
	n := f.nodes[net.Delegates[0].Node]
	if _, err := n.Node().PublishAs(ctx, net.ID, &protocol.Announcement{Kind: protocol.KindMembers, Members: list}); err != nil {
		return fmt.Errorf("%s: publish the network's list: %w", n.Name, err)
	}
	return nil
}
