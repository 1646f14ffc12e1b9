package search

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/khantara/khantara/protocol"
)

// The city facet and filter: a practice's place as "<country>/<city>",
// its sheet's country and city exactly, for the web page's map.

// queryMaxCity bounds a city value, in bytes: a country code, '/' and a
// city of at most protocol.MaxPlaceLen characters.
const queryMaxCity = 3 + 4*protocol.MaxPlaceLen

// addCities adds the city values to v, one parameter each: a city may
// hold commas, so they are not joined.
func addCities(v url.Values, cities []string) {
	for _, c := range cities {
		v.Add("city", c)
	}
}

// normalizeCities trims city values, upper-cases their country code and
// drops empty ones; unlike other filters it does not split at commas.
func normalizeCities(in []string) []string {
	var out []string
	for _, v := range in {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if cc, city, ok := strings.Cut(v, "/"); ok && utf8.RuneCountInString(cc) == 2 {
			v = strings.ToUpper(cc) + "/" + strings.TrimSpace(city)
		}
		out = append(out, v)
	}
	return out
}

// CityValue is the city facet value of a sheet's country and city,
// "<country>/<city>", or "" when the sheet gives no city.
func CityValue(country, city string) string {
	if strings.TrimSpace(city) == "" {
		return ""
	}
	return country + "/" + city
}

// checkQueryCity returns what is wrong with a city value, or "".
func checkQueryCity(v string) string {
	cc, city, ok := strings.Cut(v, "/")
	switch {
	case !ok || city == "":
		return fmt.Sprintf("%q is not <country>/<city>, as the city facet gives it (example: IT/Palermo)", clip(v))
	case len(v) > queryMaxCity:
		return fmt.Sprintf("%d bytes; at most %d", len(v), queryMaxCity)
	}
	return checkQueryCountry(cc)
}
