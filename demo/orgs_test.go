package demo

import (
	"slices"
	"strings"
	"testing"

	"github.com/khantara/khantara/protocol"
)

// TestOrganisations checks the organisations of every layout: every
// profile is valid and says it is demo data; every share is published
// for one organisation, which delegates the node holding it for
// practices; every node runs for an organisation that delegates it; from
// three nodes on, the first organisation runs the first two nodes, the
// second of them without retract; one network runs the last node, which
// a member without a node delegated and publishes for.
func TestOrganisations(t *testing.T) {
	all, err := ParseAll()
	if err != nil {
		t.Fatal(err)
	}
	for n := MinNodes; n <= MaxNodes; n++ {
		pubs := split(n, all)
		orgs := Organisations(pubs)
		slugs := map[string]bool{}
		shares := map[int]int{}
		var networks, members []int
		for oi, o := range orgs {
			if slugs[o.Slug] {
				t.Errorf("n=%d: slug %s twice", n, o.Slug)
			}
			slugs[o.Slug] = true
			if err := o.Profile.Validate(); err != nil {
				t.Errorf("n=%d: profile of %s: %v", n, o.Slug, err)
			}
			if !strings.Contains(o.Profile.Name, "not a real") {
				t.Errorf("n=%d: profile %q does not say it is made up", n, o.Profile.Name)
			}
			if len(o.Delegates) == 0 {
				t.Errorf("n=%d: %s delegates no node", n, o.Slug)
			}
			for _, s := range o.Shares {
				shares[s]++
				if pubs[s].For != oi || !delegates(o, s, protocol.KindPractice) {
					t.Errorf("n=%d: share %d is %s's, which does not delegate its node for practices (For %d)", n, s, o.Slug, pubs[s].For)
				}
			}
			if o.Network {
				networks = append(networks, oi)
			}
			if o.Member {
				members = append(members, oi)
			}
		}
		for i, p := range pubs {
			if shares[i] != 1 {
				t.Errorf("n=%d: share of %s is published by %d organisations", n, p.Slug, shares[i])
			}
			if !delegates(orgs[p.Org], i, protocol.KindPractice) || orgs[p.Org].Member {
				t.Errorf("n=%d: node %s runs for %s, which does not delegate it", n, p.Slug, orgs[p.Org].Slug)
			}
		}
		if len(networks) != 1 || len(members) != 1 {
			t.Fatalf("n=%d: %d networks and %d members", n, len(networks), len(members))
		}
		last := n - 1
		net, mem := orgs[networks[0]], orgs[members[0]]
		if pubs[last].Org != networks[0] || pubs[last].For != members[0] || !delegates(net, last, protocol.KindMembers) ||
			len(net.Shares) != 0 || !delegates(mem, last, protocol.KindPractice) || len(mem.Delegates) != 1 {
			t.Errorf("n=%d: the last node runs for %d and publishes for %d; want the network %d for the member %d", n, pubs[last].Org, pubs[last].For, networks[0], members[0])
		}
		if n >= 3 {
			first := orgs[0]
			if pubs[0].Org != 0 || pubs[1].Org != 0 || !delegates(first, 0, protocol.KindRetract) ||
				!delegates(first, 1, protocol.KindPractice) || delegates(first, 1, protocol.KindRetract) {
				t.Errorf("n=%d: the first organisation does not run the first two nodes as described: %+v", n, first.Delegates)
			}
			if !strings.Contains(first.Profile.Name, "two nodes") {
				t.Errorf("n=%d: the first profile %q", n, first.Profile.Name)
			}
		}
		if n == 4 && len(orgs) != 4 {
			t.Errorf("the default demo has %d organisations, want 4", len(orgs))
		}
	}
}

func delegates(o Organisation, node int, k protocol.Kind) bool {
	return slices.ContainsFunc(o.Delegates, func(d Delegate) bool { return d.Node == node && slices.Contains(d.May, k) })
}
