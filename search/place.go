package search

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/khantara/khantara/protocol"
)

// The place facet and filter: how the web page's map places a practice,
// one value per practice. A sheet with a location gives
// "<country>@<lat>,<lon>" (its degrees in the reference writer's form,
// protocol.DegreesOf); a sheet without one but with a city gives its city
// facet value, "<country>/<city>"; a sheet with neither has no place. A
// country code has two letters, so the third byte tells the two apart.

// PlaceValue is the place facet value of a sheet, or "" when it gives
// neither a location nor a city.
func PlaceValue(s *protocol.FactSheet) string {
	if !s.Location.Empty() {
		return s.Country + "@" + degrees(s.Location.Lat) + "," + degrees(s.Location.Lon)
	}
	return CityValue(s.Country, s.City)
}

// degrees writes a coordinate in the reference writer's form, so that
// 45.4642 and 45.464200 are one place.
func degrees(d protocol.Degrees) string { return protocol.DegreesOf(d.Float()).String() }

// addPlaces adds the place values to v, one parameter each: a city may
// hold commas and a location does, so they are not joined.
func addPlaces(v url.Values, places []string) {
	for _, p := range places {
		v.Add("place", p)
	}
}

// placeLocation is the form of a location's place value.
var placeLocation = regexp.MustCompile(`^[A-Z]{2}@-?[0-9]{1,3}(\.[0-9]{1,6})?,-?[0-9]{1,3}(\.[0-9]{1,6})?$`)

// checkQueryPlace returns what is wrong with a place value, or "".
func checkQueryPlace(v string) string {
	if len(v) > 2 && v[2] == '@' {
		if !placeLocation.MatchString(v) {
			return fmt.Sprintf("%q is not <country>@<lat>,<lon>, as the place facet gives it (example: IT@45.4642,9.19)", clip(v))
		}
		return checkQueryCountry(v[:2])
	}
	if msg := checkQueryCity(v); msg != "" {
		return strings.Replace(msg, "as the city facet gives it (example: IT/Palermo)",
			"as the place facet gives it (example: IT/Palermo or IT@45.4642,9.19)", 1)
	}
	return ""
}
