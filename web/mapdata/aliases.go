package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/khantara/khantara/internal/placename"
)

// aliasesFile is the list of names the gazetteer learns (aliases.txt):
// each an alternate name GeoNames records for a place of the gazetteer,
// with the place's GeoNames ID as its source.
//
//go:embed aliases.txt
var aliasesFile []byte

// alias is one line of aliases.txt.
type alias struct {
	country, name, target, lang string
	geonameID                   int
}

// readAliases parses aliases.txt.
func readAliases(data []byte) ([]alias, error) {
	var out []alias
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 || len(f[0]) != 2 || f[1] == "" || f[2] == "" || f[4] == "" {
			return nil, fmt.Errorf("aliases.txt:%d: want country, alias, name, GeoNames ID, language (tab-separated), got %q", n, line)
		}
		id, err := strconv.Atoi(f[3])
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("aliases.txt:%d: GeoNames ID %q is not a positive number", n, f[3])
		}
		out = append(out, alias{country: f[0], name: f[1], target: f[2], geonameID: id, lang: f[4]})
	}
	return out, sc.Err()
}

// aliasPlaces returns the gazetteer lines the aliases add, by country, in
// the order of the file: the alias's name with its place's coordinates.
// kept are the gazetteer's places. An alias whose place the gazetteer
// lacks, or whose name is already a place of its country, is an error:
// the list is small and every line of it is checked by hand.
func aliasPlaces(aliases []alias, kept []place) (map[string][]place, error) {
	byKey := map[string]place{}
	for _, p := range kept {
		byKey[p.country+"|"+placename.Normal(p.name)] = p
	}
	out := map[string][]place{}
	for _, a := range aliases {
		p, ok := byKey[a.country+"|"+placename.Normal(a.target)]
		if !ok {
			return nil, fmt.Errorf("alias %s/%s: the gazetteer has no %q", a.country, a.name, a.target)
		}
		key := a.country + "|" + placename.Normal(a.name)
		if _, taken := byKey[key]; taken {
			return nil, fmt.Errorf("alias %s/%s: already a place of the gazetteer", a.country, a.name)
		}
		byKey[key] = p
		p.name = a.name
		out[a.country] = append(out[a.country], p)
	}
	return out, nil
}
