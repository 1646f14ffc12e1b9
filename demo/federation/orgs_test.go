package federation

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// checkOrgs checks, on every node of a running demo of three or more
// nodes, that the first two nodes publish for one organisation, each
// signing its own share; that the network's list names every other
// organisation; that the member's practices are published under the
// member's ID by the network's node; that every node's records are
// authorised by the chain it holds; and that the rotation keys are in
// KeysDir, not in any home.
func checkOrgs(t *testing.T, f *Federation) {
	t.Helper()
	nodes := f.Nodes()
	last := nodes[len(nodes)-1]
	net := f.Network()
	if nodes[0].Org != nodes[1].Org || nodes[0].For != nodes[0].Org || nodes[1].For != nodes[0].Org {
		t.Fatalf("the first two nodes do not publish for one organisation: %s, %s", nodes[0].Org.Slug, nodes[1].Org.Slug)
	}
	if last.Org != net || last.For == net || !last.For.Member {
		t.Fatalf("the last node runs for %s and publishes its share for %s", last.Org.Slug, last.For.Slug)
	}
	for _, d := range nodes {
		st := d.Node().Store()
		// Every share is held under its organisation's ID, signed by the
		// node that holds it.
		for _, p := range nodes {
			for _, s := range p.Publisher.Sheets {
				rec, err := st.Get(p.For.ID, s.ID)
				if err != nil {
					t.Fatalf("%s lacks %s/%s: %v", d.Name, p.For.Slug, s.ID, err)
				}
				if rec.Signed.Signer() != p.Node().ID() {
					t.Fatalf("on %s, %s/%s is signed by %s, want %s", d.Name, p.For.Slug, s.ID, rec.Signed.Signer(), p.Name)
				}
			}
		}
		list, err := st.Get(net.ID, protocol.MembersSlotPrefix+demo.ListName)
		if err != nil {
			t.Fatalf("%s lacks the network's list: %v", d.Name, err)
		}
		var named []peer.ID
		for _, m := range list.Announcement().Members.Members {
			named = append(named, m.ID)
		}
		for _, o := range f.Orgs() {
			if slices.Contains(named, o.ID) == (o == net) {
				t.Errorf("on %s, the network's list names %v; %s (%s) on it: %v", d.Name, named, o.Slug, o.ID, o != net)
			}
			c, err := d.Node().Chain(o.ID)
			if err != nil || !c.Known() || c.Name() != o.Name() {
				t.Fatalf("%s: the chain of %s: %v", d.Name, o.Slug, err)
			}
		}
		if list.Signed.Signer() != last.Node().ID() {
			t.Errorf("the list is signed by %s, want the network's node %s", list.Signed.Signer(), last.Node().ID())
		}
	}
	for _, o := range f.Orgs() {
		keys, err := os.ReadFile(f.KeysFile(o))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(keys), "# DEMO ONLY") || !strings.Contains(string(keys), "\norganisation "+o.ID.String()+"\n") {
			t.Errorf("%s:\n%s", f.KeysFile(o), keys)
		}
	}
	for _, d := range nodes {
		entries, _ := os.ReadDir(d.Home)
		for _, e := range entries {
			if strings.Contains(e.Name(), "rotation") {
				t.Errorf("%s's home holds %s", d.Name, e.Name())
			}
		}
	}
}
