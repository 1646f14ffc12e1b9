package protocol

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestLocationIsV1 checks PROTOCOL.md 12.8: a key publisher's practice is
// a v1 record only without a location member (even the empty {} is one a
// v1 peer refuses), sealed or opened.
func TestLocationIsV1(t *testing.T) {
	k := testKey(t, 7)
	key, org := idOf(t, k), OrgID([]byte("org"))
	with := func(l *Location) *FactSheet { s := fullSheet(); s.Location = l; return s }
	milan := &Location{Lat: DegreesOf(45.4642), Lon: DegreesOf(9.19)}
	for _, c := range []struct {
		name string
		a    *Announcement
		v1   bool
	}{
		{"key practice without location", &Announcement{Publisher: key, Kind: KindPractice, Practice: with(nil)}, true},
		{"key practice with location", &Announcement{Publisher: key, Kind: KindPractice, Practice: with(milan)}, false},
		{"key practice with empty location", &Announcement{Publisher: key, Kind: KindPractice, Practice: with(&Location{})}, false},
		{"organisation practice with location", &Announcement{Publisher: org, Kind: KindPractice, Practice: with(milan)}, false},
		{"key retracts a practice that had a location", &Announcement{Publisher: key, Kind: KindRetract, Retract: &Retraction{ID: "cric-roubaix"}}, true},
	} {
		if got := c.a.IsV1(); got != c.v1 {
			t.Errorf("%s: IsV1 %v, want %v", c.name, got, c.v1)
		}
	}
	sg := mustSeal(t, practiceAnn(1, with(milan)), k)
	opened, err := Open(sg.Envelope())
	if err != nil {
		t.Fatal(err)
	}
	if IsV1(sg) || IsV1(opened) {
		t.Fatalf("a key publisher's practice with a location is v1: sealed %v, opened %v", IsV1(sg), IsV1(opened))
	}
	// The empty value on the wire: valid, no location to show, still v2.
	env := sealRaw(t, k, EnvelopeDomain, PayloadType, []byte(strings.Replace(string(mustPayload(t, practiceAnn(2, with(nil)))),
		`"city":"Roubaix",`, `"city":"Roubaix","location":{},`, 1)))
	empty, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	if IsV1(empty) || !empty.Announcement().Practice.Location.Empty() {
		t.Fatalf("location {}: v1 %v, location %+v", IsV1(empty), empty.Announcement().Practice.Location)
	}
	if plain := mustSeal(t, practiceAnn(3, with(nil)), k); !IsV1(plain) {
		t.Fatal("a key publisher's practice without a location is not v1")
	}
	// Seal, a writer, leaves an empty location out (4.1): a v1 record.
	sealed := mustSeal(t, practiceAnn(4, with(&Location{})), k)
	if !IsV1(sealed) || bytes.Contains(sealed.Envelope(), []byte(`"location"`)) {
		t.Fatalf("Seal of an empty location: v1 %v, envelope %q", IsV1(sealed), sealed.Envelope())
	}
}

func mustPayload(t *testing.T, a *Announcement) []byte {
	t.Helper()
	a.Publisher = idOf(t, testKey(t, 7))
	b, err := EncodePayload(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"city":"Roubaix",`)) {
		t.Fatalf("payload has no city to anchor on: %s", b)
	}
	return b
}

// TestDegreesOf checks the reference writer's form of a coordinate
// (PROTOCOL.md 5.2): shortest, no exponent, no sign on zero.
func TestDegreesOf(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{45.4642, "45.4642"}, {45.46420, "45.4642"}, {9, "9"}, {math.Copysign(0, -1), "0"}, {0, "0"},
		{-33.86882, "-33.86882"}, {180, "180"}, {-90, "-90"}, {0.000001, "0.000001"},
		{1e-7, "0.0000001"}, {123.456789, "123.456789"},
	} {
		if got := DegreesOf(c.in).String(); got != c.want {
			t.Errorf("DegreesOf(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLocationValidate checks each rule's field path and message.
func TestLocationValidate(t *testing.T) {
	d := func(s string) Degrees { return Degrees{s} }
	for _, c := range []struct {
		name     string
		loc      Location
		path     string
		msg      string
		lat, lon float64
	}{
		{"valid", Location{d("45.4642"), d("9.19")}, "", "", 45.4642, 9.19},
		{"equator and meridian", Location{d("0"), d("0")}, "", "", 0, 0},
		{"lat absent", Location{Lon: d("9.19")}, "location.lat", "is required", 0, 9.19},
		{"lon absent", Location{Lat: d("45")}, "location.lon", "is required", 45, 0},
		{"seven digits", Location{d("45.4642001"), d("9.19")}, "location.lat", "7 digits after the point; round it to at most 6", 0, 0},
		{"exponent", Location{d("45"), d("9.19e0")}, "location.lon", "has an exponent", 0, 0},
		{"negative zero", Location{d("-0.0"), d("9")}, "location.lat", "zero with a minus sign", 0, 0},
		{"lat range", Location{d("90.000001"), d("9")}, "location.lat", "between -90 and 90", 0, 0},
		{"lon range", Location{d("45"), d("-180.5")}, "location.lon", "between -180 and 180", 0, 0},
		{"four digits", Location{d("45"), d("1000")}, "location.lon", "not a decimal number of degrees", 0, 0},
		{"leading zero", Location{d("045"), d("9")}, "location.lat", "not a decimal number of degrees", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fullSheet()
			s.Location = &c.loc
			err := s.Validate()
			if c.path == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Location.Lat.Float() != c.lat || s.Location.Lon.Float() != c.lon {
					t.Fatalf("Float: %v %v", s.Location.Lat.Float(), s.Location.Lon.Float())
				}
				return
			}
			wantProblem(t, err, c.path, c.msg)
		})
	}
	s := fullSheet()
	s.Location = &Location{}
	if err := s.Validate(); err != nil {
		t.Fatalf("the empty location: %v", err)
	}
}

// TestParseSheetLocation checks the location forms staff may write and
// that the sheet carries them in the reference writer's form.
func TestParseSheetLocation(t *testing.T) {
	for _, c := range []struct{ name, doc, lat, lon string }{
		{"mapping", "location: {lat: 45.4642, lon: 9.19}\n", "45.4642", "9.19"},
		{"block mapping", "location:\n  lon: -9.1393\n  lat: 38.7223\n", "38.7223", "-9.1393"},
		{"trailing zeros and whole numbers", "location: {lat: 45.464200, lon: 9}\n", "45.4642", "9"},
		{"negative zero", "location: {lat: -0.0, lon: 0}\n", "0", "0"},
		{"text", "location: \"45.4642, 9.19\"\n", "45.4642", "9.19"},
		{"text without space", "location: '-33.86882,151.209296'\n", "-33.86882", "151.209296"},
		{"json", "", "45.4642", "9.19"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := goodYAML + c.doc
			if c.doc == "" {
				doc = `{"id":"test-sheet","title":"T","language":"en","country":"IT","organiser":"O","start_year":2011,"objective":"O.","dimensions":["cultural"],"location":{"lat":45.46420,"lon":9.19}}`
			}
			s, err := ParseSheet([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if s.Location.Lat.String() != c.lat || s.Location.Lon.String() != c.lon {
				t.Fatalf("location %q, %q; want %q, %q", s.Location.Lat, s.Location.Lon, c.lat, c.lon)
			}
			b, err := EncodePayload(practiceAnn(1, s))
			if err != nil {
				t.Fatal(err)
			}
			if want := `"location":{"lat":` + c.lat + `,"lon":` + c.lon + `}`; !bytes.Contains(b, []byte(want)) {
				t.Fatalf("payload lacks %s:\n%s", want, b)
			}
		})
	}
	s, err := ParseSheet([]byte(goodYAML + "location: {}\n"))
	if err != nil || s.Location != nil {
		t.Fatalf("an empty location is not left out: %v, %+v", err, s.Location)
	}
}

// TestParseSheetLocationProblems checks that every problem of a location
// names its field and line.
func TestParseSheetLocationProblems(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"seven digits", "location: {lat: 45.4642123, lon: 9.19}\n", "location.lat: 45.4642123 has 7 digits after the point; round it to at most 6"},
		{"lat out of range", "location: {lat: 95, lon: 9.19}\n", "location.lat: must be between -90 and 90 degrees, got 95"},
		{"lon out of range", "location:\n  lat: 45\n  lon: 190.5\n", "location.lon: must be between -180 and 180 degrees, got 190.5"},
		{"lon absent", "location: {lat: 45.4642}\n", "location.lon: is required: a location gives both lat and lon"},
		{"text coordinate", "location: {lat: north, lon: 9.19}\n", `location.lat: must be a number of degrees such as 45.4642, got "north"`},
		{"infinite", "location: {lat: .inf, lon: 9.19}\n", "location.lat: must be a number of degrees"},
		{"tiny", "location: {lat: 1e-7, lon: 9.19}\n", "location.lat: 0.0000001 has 7 digits after the point"},
		{"text with one number", "location: \"45.4642\"\n", `location: must be lat and lon such as {lat: 45.4642, lon: 9.19} or "45.4642, 9.19"`},
		{"text with degrees sign", "location: \"45.4642° N, 9.19° E\"\n", "location: must be lat and lon"},
		{"text out of range", "location: \"95, 9.19\"\n", "location.lat: must be between -90 and 90"},
		{"list", "location: [45.4642, 9.19]\n", "location: must be lat and lon such as"},
		{"unknown member", "location: {lat: 45, lon: 9, alt: 120}\n", `location.alt: unknown field`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSheet([]byte(goodYAML + c.doc))
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a problem %q", err, c.want)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Line < 22 {
				t.Fatalf("want one problem on line 22 or later, got %+v", ve.Problems)
			}
		})
	}
}

// TestLocationEncodingJSON checks that encoding/json, which the API
// speaks, writes and reads a location as the wire does.
func TestLocationEncodingJSON(t *testing.T) {
	s := fullSheet()
	s.Location = &Location{Lat: Degrees{"45.464200"}, Lon: DegreesOf(-9.19)}
	b, err := stdjson.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"location":{"lat":45.464200,"lon":-9.19}`)) {
		t.Fatalf("encoding/json writes %s", b)
	}
	var back FactSheet
	if err := stdjson.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if *back.Location != *s.Location {
		t.Fatalf("read back %+v, want %+v", back.Location, s.Location)
	}
	if err := stdjson.Unmarshal([]byte(`{"location":{"lat":"45"}}`), &back); err == nil {
		t.Fatal("a string as degrees is read")
	}
	s.Location = nil
	if b, _ := stdjson.Marshal(s); bytes.Contains(b, []byte("location")) {
		t.Fatalf("no location, but encoding/json writes %s", b)
	}
}
