package demo

import (
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/khantara/khantara/protocol"
)

// MinNodes and MaxNodes bound the size of a demo federation.
const (
	MinNodes = 2
	MaxNodes = 8
)

// Publisher is one demo node's part of the demo: the region it speaks
// for, its share of the demo catalogue and the organisations it publishes
// it for (Organisations, whose profiles say plainly that they are demo
// data, not organisations).
type Publisher struct {
	// Slug names the region in file names: "italy", "nordics".
	Slug string
	// Region is the human name: "Italy", "Northern Europe".
	Region string
	// Countries are the ISO codes of the region, sorted.
	Countries []string
	// Org is the organisation the node runs for (an index into
	// Organisations): it publishes as that organisation.
	Org int
	// For is the organisation whose ID the node's share is published
	// under: Org, except on the network's node, which publishes its
	// share for a member.
	For int
	// Sheets are the practices the node publishes, sorted by ID.
	Sheets []*protocol.FactSheet
}

// region is a group of countries one demo node publishes for.
type region struct {
	slug, name string
	countries  []string
}

var (
	italy         = region{"italy", "Italy", []string{"IT"}}
	nordics       = region{"nordics", "Northern Europe", []string{"FI", "SE"}}
	central       = region{"central", "Central and Eastern Europe", []string{"AT", "CZ", "DE", "HU", "PL", "RO"}}
	germanic      = region{"germany-austria", "Germany and Austria", []string{"AT", "DE"}}
	germany       = region{"germany", "Germany", []string{"DE"}}
	austria       = region{"austria", "Austria", []string{"AT"}}
	east          = region{"east", "Central and Eastern Europe", []string{"CZ", "HU", "PL", "RO"}}
	west          = region{"west", "Western and Southern Europe", []string{"BE", "ES", "FR", "GB", "GR", "IE", "NL"}}
	northWest     = region{"north-west", "North-western Europe", []string{"BE", "FR", "GB", "IE", "NL"}}
	franceBenelux = region{"france-benelux", "France and the Low Countries", []string{"BE", "FR", "NL"}}
	britishIsles  = region{"british-isles", "Britain and Ireland", []string{"GB", "IE"}}
	south         = region{"iberia-greece", "Spain and Greece", []string{"ES", "GR"}}
	southWest     = region{"south-west", "Southern and Western Europe", []string{"BE", "ES", "FR", "GB", "GR", "IE", "IT", "NL"}}
	northCentral  = region{"north-central", "Northern, Central and Eastern Europe", []string{"AT", "CZ", "DE", "FI", "HU", "PL", "RO", "SE"}}
)

// layouts[n-MinNodes] splits Europe into n regions of similar weight in the
// demo catalogue; each layout refines the one before it. Countries that no
// region names go to the last region.
var layouts = [MaxNodes - MinNodes + 1][]region{
	{southWest, northCentral},
	{italy, west, northCentral},
	{italy, nordics, central, west},
	{italy, nordics, central, northWest, south},
	{italy, nordics, germanic, east, northWest, south},
	{italy, nordics, germanic, east, franceBenelux, britishIsles, south},
	{italy, nordics, germany, austria, east, franceBenelux, britishIsles, south},
}

// Publishers parses the embedded sheets and deals them out to n demo
// publishers by region, in a fixed order: the same n always gives the same
// split. n must be within MinNodes..MaxNodes.
func Publishers(n int) ([]Publisher, error) {
	if n < MinNodes || n > MaxNodes {
		return nil, fmt.Errorf("a demo federation has %d to %d nodes, not %d", MinNodes, MaxNodes, n)
	}
	sheets, err := ParseAll()
	if err != nil {
		return nil, err
	}
	return split(n, sheets), nil
}

// split deals sheets out to the n regions of layouts[n-MinNodes].
func split(n int, sheets []*protocol.FactSheet) []Publisher {
	regions := layouts[n-MinNodes]
	pubs := make([]Publisher, len(regions))
	home := map[string]int{}
	for i, r := range regions {
		pubs[i] = Publisher{Slug: r.slug, Region: r.name, Countries: slices.Clone(r.countries)}
		for _, c := range r.countries {
			home[c] = i
		}
	}
	for _, s := range sheets {
		i, ok := home[s.Country]
		if !ok {
			i = len(pubs) - 1
			if !slices.Contains(pubs[i].Countries, s.Country) {
				pubs[i].Countries = append(pubs[i].Countries, s.Country)
				slices.Sort(pubs[i].Countries)
			}
		}
		pubs[i].Sheets = append(pubs[i].Sheets, s)
	}
	assignOrgs(pubs)
	return pubs
}

// ParseAll parses every embedded sheet, sorted by ID. An invalid sheet is
// an error naming its file.
func ParseAll() ([]*protocol.FactSheet, error) {
	names, err := fs.Glob(Sheets, "sheets/*.yaml")
	if err != nil {
		return nil, err
	}
	out := make([]*protocol.FactSheet, 0, len(names))
	for _, name := range names {
		data, err := Sheets.ReadFile(name)
		if err != nil {
			return nil, err
		}
		s, err := protocol.ParseSheet(data)
		if err != nil {
			return nil, fmt.Errorf("demo sheet %s: %w", path.Base(name), err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *protocol.FactSheet) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// TrySheetID is the ID of TrySheet.
const TrySheetID = "demo-language-cafe"

// TrySheet is a small fact sheet that no demo node publishes: the demo
// writes it next to the nodes' homes for the user to publish by hand.
const TrySheet = `# A made-up practice to publish from one demo node and watch arrive on the others.
id: demo-language-cafe
title: Language café (demo)
language: en
country: IT
city: Prova
organiser: Comune di Prova (a made-up municipality)
start_year: 2024
ongoing: true
objective: Let newcomers practise Italian with residents every week.
dimensions: [cultural]
issues: [language, social_cohesion]
target_groups: [newcomers, host_community]
tags: [demo]
`
