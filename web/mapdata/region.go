package main

// region are the countries of the map, by ISO 3166-1 alpha-2 code: the
// European Union, the other members of the European Economic Area and
// Switzerland, the United Kingdom and the Crown Dependencies, the
// European microstates, the Faroe and Åland Islands, the Western Balkans,
// Turkey, Russia, the eastern and southern neighbours of the European
// Neighbourhood Policy (which include every country on the
// Mediterranean), and the former or reserved codes the fact sheet allows
// for places in Europe. Each has a shape in countries.json or a reason in
// notDrawn.
var region = []string{
	// European Union
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
	// EEA, Switzerland, United Kingdom, Crown Dependencies, microstates, islands
	"IS", "LI", "NO", "CH", "GB", "GG", "JE", "IM", "AD", "MC", "SM", "VA", "FO", "AX", "GI", "SJ",
	// Western Balkans, Turkey, Russia
	"AL", "BA", "ME", "MK", "RS", "XK", "TR", "RU",
	// eastern neighbours
	"AM", "AZ", "BY", "GE", "MD", "UA",
	// southern neighbours
	"DZ", "EG", "IL", "JO", "LB", "LY", "MA", "PS", "SY", "TN",
	// former or exceptionally reserved codes of places in Europe
	"CS", "DD", "EA", "FX", "IC", "SU", "YU",
}

// notDrawn are the codes of region with no shape of their own, and why.
// The page shows the reason in its legend when a practice names one.
var notDrawn = map[string]string{
	"GI": "Natural Earth has no shape for Gibraltar at 1:50m",
	"SJ": "Natural Earth draws Svalbard and Jan Mayen as part of Norway (NO)",
	"CS": "a former code (Serbia and Montenegro; earlier Czechoslovakia) with no shape today",
	"DD": "a former code (the German Democratic Republic) with no shape today",
	"EA": "Ceuta and Melilla are drawn as part of Spain (ES)",
	"FX": "a former code (metropolitan France): see France (FR)",
	"IC": "the Canary Islands are drawn as part of Spain (ES)",
	"SU": "a former code (the Soviet Union) with no shape today",
	"YU": "a former code (Yugoslavia) with no shape today",
}

// unnumbered maps the names of the Natural Earth shapes that carry no
// ISO 3166-1 numeric code in world-atlas to the code the map files them
// under: Kosovo has the user-assigned XK (as the fact sheet does); the
// island of Cyprus is one ISO code, CY, so Northern Cyprus is drawn as
// part of CY's shape (a sheet can only say CY for a place there).
var unnumbered = map[string]string{
	"Kosovo":    "XK",
	"N. Cyprus": "CY",
}
