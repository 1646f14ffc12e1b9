package protocol

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v3"
)

// Location is where a practice takes place, as a point in decimal degrees
// of WGS 84 (PROTOCOL.md 5, member location). Both coordinates are
// required inside it; a Location with neither is the empty value, the
// same as no location (4.1). A sheet that carries the member at all is a
// v2 record (12.8), which Announcement.IsV1 decides from the member's
// presence, not its value.
type Location struct {
	// Lat is the latitude, -90..90, north positive.
	Lat Degrees `json:"lat,omitzero"`
	// Lon is the longitude, -180..180, east positive.
	Lon Degrees `json:"lon,omitzero"`
}

// Empty reports whether l gives neither coordinate: nil, or the empty
// value {}. (Not IsZero: a Location that is not nil is written, {} too,
// so that a sheet encodes as it decoded and IsV1 agrees with its bytes.)
func (l *Location) Empty() bool { return l == nil || l.Lat.IsZero() && l.Lon.IsZero() }

// Degrees is one coordinate of a Location, kept as the JSON number it was
// written as, so that Validate judges the number's form as PROTOCOL.md 5.2
// defines it, byte for byte, and a decoded sheet encodes to the same
// bytes. The zero value is "not given". DegreesOf makes one from a float
// in the reference writer's form. A Degrees is an immutable value.
type Degrees struct{ text string }

// DegreesOf returns f in the reference writer's form: the shortest
// decimal that reads back as f, without exponent, without a point for a
// whole number and without a sign for zero ("45.4642", "9", "0"). A value
// with more than MaxDegreesDigits digits after the point, or out of range,
// is kept as it is and refused by Validate.
func DegreesOf(f float64) Degrees {
	if f == 0 {
		return Degrees{"0"}
	}
	return Degrees{strconv.FormatFloat(f, 'f', -1, 64)}
}

// IsZero reports whether d is not given.
func (d Degrees) IsZero() bool { return d.text == "" }

// String returns the number as written, "" when not given.
func (d Degrees) String() string { return d.text }

// Float returns the value of a valid d, 0 when d is not given or not a
// number.
func (d Degrees) Float() float64 {
	f, err := strconv.ParseFloat(d.text, 64)
	if err != nil {
		return 0
	}
	return f
}

// MarshalJSONTo writes the number as it is kept.
func (d Degrees) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteValue(jsontext.Value(d.text))
}

// UnmarshalJSONFrom reads a JSON number and keeps its text; any other
// JSON type is an error (a malformed payload, 4.1), except null, which
// leaves d unchanged as it does other types (DecodePayload refuses null
// anywhere by itself).
func (d *Degrees) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '0':
	case 'n':
		_, err := dec.ReadValue()
		return err
	default:
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return fmt.Errorf("must be a number, got %s", k)
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	d.text = string(v)
	return nil
}

// MarshalJSON is MarshalJSONTo for encoding/json (the API's responses).
func (d Degrees) MarshalJSON() ([]byte, error) {
	if d.text == "" {
		return []byte("null"), nil
	}
	return []byte(d.text), nil
}

// UnmarshalJSON is UnmarshalJSONFrom for encoding/json (the API's client).
func (d *Degrees) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		d.text = string(b)
		return nil
	}
	return fmt.Errorf("degrees must be a number, got %.20s", b)
}

// MaxDegreesDigits bounds the digits after the point of a coordinate: six
// decimal places are about 0.1 m, finer than any practice's place.
const MaxDegreesDigits = 6

// degreesPattern is the form of a coordinate (PROTOCOL.md 5.2): an
// optional minus, a whole part of one to three digits without a leading
// zero, and an optional point followed by one to MaxDegreesDigits digits.
var degreesPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,2})(\.[0-9]{1,6})?$`)

// validate checks l (not nil) at path: both coordinates, their form and
// their ranges. The empty value is accepted as absent.
func (l *Location) validate(p *problems, path string) {
	if l.Empty() {
		return
	}
	checkDegrees(p, path+".lat", l.Lat, 90)
	checkDegrees(p, path+".lon", l.Lon, 180)
}

func checkDegrees(p *problems, path string, d Degrees, limit int) {
	s := d.text
	switch {
	case s == "":
		p.add(path, "is required: a location gives both lat and lon")
	case strings.ContainsAny(s, "eE"):
		p.add(path, "%s has an exponent; write it as a plain decimal such as 45.4642", truncate(s, 40))
	case degreesPattern.MatchString(s):
		if strings.Trim(s, "-0.") == "" && s[0] == '-' {
			p.add(path, "%s is zero with a minus sign; write 0", s)
		} else if f, _ := strconv.ParseFloat(s, 64); math.Abs(f) > float64(limit) {
			p.add(path, "must be between -%d and %d degrees, got %s", limit, limit, s)
		}
	default:
		_, frac, _ := strings.Cut(s, ".")
		if len(frac) > MaxDegreesDigits && degreesPattern.MatchString(s[:len(s)-len(frac)+MaxDegreesDigits]) {
			p.add(path, "%s has %d digits after the point; round it to at most %d", truncate(s, 40), len(frac), MaxDegreesDigits)
			return
		}
		p.add(path, "%s is not a decimal number of degrees such as 45.4642 (at most 3 digits before the point, no leading zero, at most %d after it)", truncate(s, 40), MaxDegreesDigits)
	}
}

// degreesType and locationType are converted by their own rules when a
// staff document is read (parse.go).
var (
	degreesType     = reflect.TypeFor[Degrees]()
	locationType    = reflect.TypeFor[Location]()
	locationPtrType = reflect.TypeFor[*Location]()
)

// degrees converts a coordinate written by staff: a YAML number, written
// out in the reference writer's form (DegreesOf), so that 45.46420 and
// 45.4642 sign alike. Validate then judges its digits and range.
func (c *converter) degrees(n *yaml.Node, path string) {
	var f float64
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") && n.Decode(&f) == nil &&
		!math.IsInf(f, 0) && !math.IsNaN(f) {
		c.buf.WriteString(DegreesOf(f).text)
		return
	}
	c.bad(n, path, "must be a number of degrees such as 45.4642, got %s", describe(n))
}

// locationText converts the text form of a location staff may write in
// YAML, "45.4642, 9.19": latitude, a comma, longitude, each a plain
// decimal (the order and form in which map applications copy a point).
func (c *converter) locationText(n *yaml.Node, path string) {
	var m []string
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		m = locationTextPattern.FindStringSubmatch(n.Value)
	}
	if m == nil {
		c.bad(n, path, "must be lat and lon such as {lat: 45.4642, lon: 9.19} or \"45.4642, 9.19\", got %s", describe(n))
		return
	}
	lat, _ := strconv.ParseFloat(m[1], 64)
	lon, _ := strconv.ParseFloat(m[2], 64)
	c.buf.WriteString(`{"lat":` + DegreesOf(lat).text + `,"lon":` + DegreesOf(lon).text + `}`)
	c.lines[path+".lat"], c.lines[path+".lon"] = n.Line, n.Line
}

// locationTextPattern is the text form of a location: two plain decimals
// separated by a comma and optional spaces.
var locationTextPattern = regexp.MustCompile(`^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*,\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$`)
