package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// A vendored library: which files of its npm package go where under
// static/vendor/<name>@<version>/.
type library struct {
	name string
	// files maps a path in the package to a path in the vendor directory;
	// a path ending in "/" copies every .js file below it.
	files map[string]string
}

// libraries are the libraries the map imports. d3-geo and d3-array ship
// bundled ES modules (dist/*.mjs); d3-array's bundles internmap, whose
// licence goes next to it. topojson-client ships its ES module sources.
var libraries = []library{
	{"d3-array", map[string]string{"dist/d3-array.mjs": "d3-array.mjs", "LICENSE": "LICENSE.txt"}},
	{"internmap", map[string]string{"LICENSE": "LICENSE-internmap.txt"}},
	{"d3-geo", map[string]string{"dist/d3-geo.mjs": "d3-geo.mjs", "LICENSE": "LICENSE.txt"}},
	{"topojson-client", map[string]string{"src/": "", "LICENSE": "LICENSE.txt"}},
}

// bareImport finds the module specifiers of static imports and re-exports
// that are neither relative nor absolute: browsers cannot resolve them.
var bareImport = regexp.MustCompile(`(\b(?:from|import)\s*)(['"])([^'"./][^'"]*)(['"])`)

// vendorAll copies the libraries to web/vendor, replacing what an earlier
// run put there. internmap is bundled in d3-array: its licence goes to
// d3-array's directory.
func vendorAll(pkg func(string) (string, error), web string, v versions) error {
	dirOf := func(name string) string {
		if name == "internmap" {
			name = "d3-array"
		}
		return name + "@" + *v[name]
	}
	// entries map a bare specifier to the vendored file it names.
	entries := map[string]string{
		"d3-array": path.Join(dirOf("d3-array"), "d3-array.mjs"),
		"d3-geo":   path.Join(dirOf("d3-geo"), "d3-geo.mjs"),
	}
	vendor := filepath.Join(web, "vendor")
	for _, lib := range libraries {
		if lib.name != "internmap" {
			old, _ := filepath.Glob(filepath.Join(vendor, lib.name+"@*"))
			for _, o := range old {
				if err := os.RemoveAll(o); err != nil {
					return err
				}
			}
		}
	}
	for _, lib := range libraries {
		src, err := pkg(lib.name)
		if err != nil {
			return err
		}
		dst := dirOf(lib.name)
		for from, to := range lib.files {
			if err := vendorFiles(filepath.Join(src, from), vendor, path.Join(dst, to), strings.HasSuffix(from, "/"), entries); err != nil {
				return fmt.Errorf("vendor %s: %w", lib.name, err)
			}
		}
	}
	return nil
}

// vendorFiles copies src (a file, or every .js file below the directory
// src when tree) to vendor/rel.
func vendorFiles(src, vendor, rel string, tree bool, entries map[string]string) error {
	if !tree {
		return vendorFile(src, vendor, rel, entries)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		r, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return vendorFile(p, vendor, path.Join(rel, filepath.ToSlash(r)), entries)
	})
}

// vendorFile copies one file to vendor/rel; in JavaScript it rewrites
// each bare specifier to the relative path of the vendored file it names,
// and fails on one it does not know.
func vendorFile(src, vendor, rel string, entries map[string]string) error {
	body, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if ext := path.Ext(rel); ext == ".js" || ext == ".mjs" {
		var unknown []string
		body = bareImport.ReplaceAllFunc(body, func(m []byte) []byte {
			g := bareImport.FindSubmatch(m)
			target, ok := entries[string(g[3])]
			if !ok {
				unknown = append(unknown, string(g[3]))
				return m
			}
			relPath, _ := filepath.Rel(path.Dir(rel), target)
			relPath = filepath.ToSlash(relPath)
			if !strings.HasPrefix(relPath, ".") {
				relPath = "./" + relPath
			}
			return []byte(string(g[1]) + string(g[2]) + relPath + string(g[4]))
		})
		if len(unknown) > 0 {
			return fmt.Errorf("%s imports %q: vendor it too, or map it in vendorAll", src, unknown)
		}
	}
	out := filepath.Join(vendor, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, body, 0o644)
}
