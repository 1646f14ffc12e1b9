package protocol

// locationCases are the vectors of location.json: the sheet's optional
// location member (PROTOCOL.md 5) and the form of its numbers (5.2).
func locationCases() []vcase {
	loc := func(lat, lon string) string { return sheet("location", object(nil, "lat", lat, "lon", lon)) }
	lat := func(name, v string) vcase { return bad(name, loc(v, "9.19"), "invalid", "practice.location.lat") }
	return []vcase{
		ok("milan", loc("45.4642", "9.19")),
		ok("whole-degrees", loc("45", "9")),
		ok("zero-zero", loc("0", "0")),
		ok("zero-with-point", loc("0.0", "0.000000")),
		ok("trailing-zeros", loc("45.464200", "9.190000")),
		ok("six-digits", loc("-33.868820", "151.209296")),
		ok("south-west", loc("-34.603722", "-58.381592")),
		ok("poles-and-antimeridian", loc("90", "-180")),
		ok("limits-with-point", loc("-90.000000", "180.0")),
		ok("empty-object-is-absent", sheet("location", `{}`)),
		ok("members-in-any-order", sheet("location", `{"lon":9.19,"lat":45.4642}`)),
		bad("lat-absent", sheet("location", `{"lon":9.19}`), "invalid", "practice.location.lat"),
		bad("lon-absent", sheet("location", `{"lat":45.4642}`), "invalid", "practice.location.lon"),
		lat("lat-seven-digits", "45.4642001"),
		lat("lat-exponent", "4.54642e1"),
		lat("lat-exponent-upper", "45E0"),
		lat("lat-huge-exponent", "1e400"),
		lat("lat-negative-zero", "-0"),
		lat("lat-negative-zero-point", "-0.000"),
		lat("lat-over-90", "90.000001"),
		lat("lat-under-minus-90", "-90.5"),
		lat("lat-four-digits", "1000"),
		bad("lon-over-180", loc("45", "180.000001"), "invalid", "practice.location.lon"),
		bad("lon-under-minus-180", loc("45", "-181"), "invalid", "practice.location.lon"),
		bad("lon-negative-zero", loc("45", "-0.0"), "invalid", "practice.location.lon"),
		bad("lat-leading-zero", loc("045.4642", "9.19"), "malformed", ""),
		bad("lat-plus-sign", loc("+45.4642", "9.19"), "malformed", ""),
		bad("lat-bare-point", loc(".5", "9.19"), "malformed", ""),
		bad("lat-string", loc(`"45.4642"`, "9.19"), "malformed", ""),
		bad("lat-null", loc("null", "9.19"), "malformed", ""),
		bad("lat-array", sheet("location", `{"lat":[45],"lon":9.19}`), "malformed", ""),
		bad("location-array", sheet("location", `[45.4642,9.19]`), "malformed", ""),
		bad("location-string", sheet("location", `"45.4642, 9.19"`), "malformed", ""),
		bad("location-null", sheet("location", `null`), "malformed", ""),
		bad("location-unknown-member", sheet("location", `{"lat":45.4642,"lon":9.19,"alt":120}`), "malformed", ""),
		bad("location-duplicate-member", sheet("location", `{"lat":45.4642,"lat":45.4642,"lon":9.19}`), "malformed", ""),
		bad("location-upper-case-member", sheet("location", `{"Lat":45.4642,"lon":9.19}`), "malformed", ""),
		bad("location-in-a-profile", profile("location", `{"lat":45.4642,"lon":9.19}`), "malformed", ""),
	}
}
