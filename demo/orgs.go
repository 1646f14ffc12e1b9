package demo

import (
	"slices"
	"strings"

	"github.com/khantara/khantara/protocol"
)

// Organisation is one of the demo's made-up organisations: the nodes it
// delegates and, through them, the shares of the catalogue it publishes.
// Organisations lays them out; package federation creates them (a
// genesis sealed with a throwaway rotation key) when the nodes run.
type Organisation struct {
	// Slug names the organisation in file names and lists.
	Slug string
	// Profile is the organisation's profile; it says it is demo data.
	Profile protocol.Profile
	// Delegates are the nodes (indices into the publishers) whose keys
	// the organisation delegates, with what each may publish.
	Delegates []Delegate
	// Network is set for the network's coordinator: it publishes
	// ListName, naming every other demo organisation.
	Network bool
	// Member is set for the network's member that has no node: the
	// network's node publishes for it.
	Member bool
	// Shares are the publishers (indices) whose sheets are published
	// under the organisation's ID.
	Shares []int
}

// Delegate is a node an organisation delegates, and what it may publish.
type Delegate struct {
	// Node is the node's index among the publishers.
	Node int
	// May are the kinds it may publish.
	May []protocol.Kind
}

// ListName and ListTitle name the network's membership list.
const (
	ListName  = "demo-members"
	ListTitle = "Members of the demo network (made-up organisations)"
)

var (
	mayAll      = []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile, protocol.KindExperience}
	mayPractice = []protocol.Kind{protocol.KindPractice}
	mayNetwork  = []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile, protocol.KindMembers, protocol.KindExperience}
)

// Organisations lays the demo's organisations out over pubs (from
// Publishers), the same way for the same pubs:
//   - the first organisation runs the first two nodes: the first may
//     publish practices, retract them and publish the profile, the second
//     only publish practices (with two nodes in all, the first node runs
//     an organisation alone);
//   - every further node but the last runs an organisation of its own;
//   - the last node runs the network: its coordinator's node publishes
//     the network's profile and its membership list, and, for a member
//     that has no node and delegated the network's node, the last share
//     under the member's ID.
//
// Publisher.Org and Publisher.For say the same per node.
func Organisations(pubs []Publisher) []Organisation {
	last := len(pubs) - 1
	var orgs []Organisation
	first := Organisation{Slug: pubs[0].Slug, Delegates: []Delegate{{0, mayAll}}, Shares: []int{0}}
	rest := 1
	if len(pubs) > 2 {
		first.Slug += "-" + pubs[1].Slug
		first.Delegates = append(first.Delegates, Delegate{1, mayPractice})
		first.Shares = append(first.Shares, 1)
		rest = 2
	}
	orgs = append(orgs, first)
	for i := rest; i < last; i++ {
		orgs = append(orgs, Organisation{Slug: pubs[i].Slug, Delegates: []Delegate{{i, mayAll}}, Shares: []int{i}})
	}
	orgs = append(orgs,
		Organisation{Slug: "network", Network: true, Delegates: []Delegate{{last, mayNetwork}}},
		Organisation{Slug: pubs[last].Slug + "-member", Member: true, Delegates: []Delegate{{last, mayAll}}, Shares: []int{last}})
	for i := range orgs {
		orgs[i].Profile = orgProfile(&orgs[i], pubs)
	}
	return orgs
}

// assignOrgs sets each publisher's Org and For from Organisations.
func assignOrgs(pubs []Publisher) {
	for oi, o := range Organisations(pubs) {
		for _, d := range o.Delegates {
			if !o.Member {
				pubs[d.Node].Org = oi
			}
		}
		for _, s := range o.Shares {
			pubs[s].For = oi
		}
	}
}

// orgProfile describes a demo organisation as what it is: made up, run
// by throwaway nodes carrying demo data.
func orgProfile(o *Organisation, pubs []Publisher) protocol.Profile {
	if o.Network {
		member := &pubs[len(pubs)-1]
		return protocol.Profile{
			Name:      "Demo network (not a real network)",
			Country:   countryOf(member),
			Level:     "network",
			Languages: []string{"en"},
			Description: "A made-up network of the demo's made-up organisations, started by `khantara demo` on the " +
				"separate network \"khantara-demo\". Its coordinator publishes the list \"" + ListName + "\" of its " +
				"members; its node also publishes for a member that has no node of its own.",
		}
	}
	var regions, countries, langs []string
	perCountry := map[string]int{}
	for _, i := range o.Shares {
		p := &pubs[i]
		regions = append(regions, p.Region)
		countries = append(countries, p.Countries...)
		for _, s := range p.Sheets {
			perCountry[s.Country]++
			langs = append(langs, s.Language)
		}
	}
	slices.Sort(countries)
	countries = slices.Compact(countries)
	slices.Sort(langs)
	langs = slices.Compact(langs)
	country := mostSheets(countries, perCountry)
	name := "Demo organisation: " + strings.Join(regions, " and ")
	how := "It runs one throwaway node"
	switch {
	case len(o.Shares) > 1:
		name += " (two nodes; not a real organisation)"
		how = "It runs two throwaway nodes, both delegated to publish for it"
	case o.Member:
		name = "Demo member of the demo network: " + regions[0] + " (not a real organisation)"
		how = "It has no node: it delegated the demo network's node, which publishes for it"
	default:
		name += " (not a real organisation)"
	}
	return protocol.Profile{
		Name:      name,
		Country:   country,
		Level:     "network",
		Languages: langs,
		Description: how + ", started by `khantara demo` on the separate network \"khantara-demo\". It republishes " +
			"demo fact sheets on practices in " + strings.Join(countries, ", ") + ", written from the 2012 Committee " +
			"of the Regions study and other public sources. It does not speak for the organisations that run them.",
	}
}

// countryOf is the country with the most sheets in p's share.
func countryOf(p *Publisher) string {
	perCountry := map[string]int{}
	for _, s := range p.Sheets {
		perCountry[s.Country]++
	}
	return mostSheets(p.Countries, perCountry)
}

// mostSheets is the country of countries (sorted) with the most sheets
// by perCountry, the first in alphabetical order on a tie.
func mostSheets(countries []string, perCountry map[string]int) string {
	country := countries[0]
	for _, c := range countries {
		if perCountry[c] > perCountry[country] {
			country = c
		}
	}
	return country
}
