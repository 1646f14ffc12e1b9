package placename

import "testing"

func TestNormal(t *testing.T) {
	for in, want := range map[string]string{
		"Constanța":      "constanta", // comma below
		"Constanţa":      "constanta", // cedilla
		"Stoke-on-Trent": "stoke on trent",
		" Pécs ":         "pecs",
		"Göteborg":       "goteborg",
		"L'Aquila":       "l aquila",
	} {
		if got := Normal(in); got != want {
			t.Errorf("Normal(%q) = %q, want %q", in, got, want)
		}
	}
}
