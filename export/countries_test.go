package export

import (
	"errors"
	"regexp"
	"testing"

	"github.com/khantara/khantara/protocol"
	"golang.org/x/text/language"
)

// acceptsCountry asks protocol whether a sheet may name code as its country.
func acceptsCountry(code string) bool {
	s := &protocol.FactSheet{
		ID: "country-probe", Title: "Probe", Language: "en", Country: code, Organiser: "Probe",
		StartYear: 2020, Objective: "Probe.", Dimensions: []string{"cultural"},
	}
	err := s.Validate()
	var ve *protocol.ValidationError
	if err != nil && !errors.As(err, &ve) {
		panic(err)
	}
	if ve != nil {
		for _, p := range ve.Problems {
			if p.Path == "country" {
				return false
			}
		}
	}
	return true
}

// TestCountryTable keeps the table equal to what protocol accepts and
// checks each entry against golang.org/x/text's alpha-3 codes.
func TestCountryTable(t *testing.T) {
	// Entries that are not the code's own alpha-3 code, and why.
	own := map[string]string{
		"XK": "1A0", "ZR": "ZR0", "TF": "FQ0", "FQ": "FQ0", // the EU table's own codes
		"AC": "SHN", "TA": "SHN", "DG": "IOT", "EA": "ESP", "IC": "ESP", "CQ": "GGY", // the containing territory
		"CS": "", "EZ": "", "UN": "", // no concept
	}
	entry := regexp.MustCompile(`^[A-Z0-9]{3}$`)
	accepted := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			eu, inTable := euCountries[code]
			if ok := acceptsCountry(code); ok != inTable {
				t.Errorf("%s: protocol accepts = %v, in table = %v", code, ok, inTable)
				continue
			}
			if !inTable {
				continue
			}
			accepted++
			if want, ok := own[code]; ok {
				if eu != want {
					t.Errorf("%s maps to %q, want %q", code, eu, want)
				}
				continue
			}
			if !entry.MatchString(eu) || eu != language.MustParseRegion(code).ISO3() {
				t.Errorf("%s maps to %q, want its alpha-3 code %s", code, eu, language.MustParseRegion(code).ISO3())
			}
		}
	}
	if accepted != len(euCountries) || accepted < 249 {
		t.Errorf("protocol accepts %d codes, the table has %d", accepted, len(euCountries))
	}
}

func TestCountryURI(t *testing.T) {
	for code, want := range map[string]string{
		"IT": "http://publications.europa.eu/resource/authority/country/ITA",
		"GR": "http://publications.europa.eu/resource/authority/country/GRC",
		"GB": "http://publications.europa.eu/resource/authority/country/GBR",
		"XK": "http://publications.europa.eu/resource/authority/country/1A0",
		"UK": "", "EL": "", "EZ": "", "it": "", "": "", "ITA": "",
	} {
		if got := CountryURI(code); got != want {
			t.Errorf("CountryURI(%q) = %q, want %q", code, got, want)
		}
	}
}
