package protocol

import (
	"encoding"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// The fast path of DecodePayload. Every writer encodes a payload the same
// way (EncodePayload: compact, members in declaration order, only short
// escapes), and decoding that form with the general JSON decoder costs
// about half of what verifying its signature does. decodeFast reads that
// form directly and gives up, leaving the payload to the general decoder,
// at anything else: whitespace, a \u escape, a null, an unknown or
// repeated member, a number that is not a plain integer. So it never
// decides what a payload means or why it is refused; it only decides
// faster, for the payloads it understands, what the general decoder would
// have decided. FuzzDecodeFast holds it to that: whatever decodeFast
// accepts, json.Unmarshal with payloadOptions accepts with an equal value.
//
// A value of a type the path does not know (a float, a map whose keys
// decode themselves, a type with its own unmarshaler, a time in any form
// but a whole second in UTC) is handed, as its raw bytes, to
// json.Unmarshal with payloadOptions: the same decoder on the same bytes.

// fastDecoder reads one payload from data; i is the next byte. text is
// data as a string: a string without escapes is a slice of it, so a
// payload's strings cost one allocation, not one each.
type fastDecoder struct {
	data []byte
	text string
	i    int
	buf  []byte // for strings with escapes
}

// decodeFn decodes the value at d.i into v, which is addressable and
// zero, and reports whether it could.
type decodeFn func(d *fastDecoder, v reflect.Value) bool

// fastAnnouncement is the decoder of an Announcement, built on first use.
var fastAnnouncement = sync.OnceValue(func() decodeFn {
	return newPlanner().decoder(reflect.TypeFor[Announcement]())
})

// decodeFast decodes payload into a, which must be zero, and reports
// whether it could; when it could not, a holds a partial value that the
// caller discards.
func decodeFast(payload []byte, a *Announcement) bool {
	d := fastDecoder{data: payload, text: string(payload)}
	return fastAnnouncement()(&d, reflect.ValueOf(a).Elem()) && d.i == len(d.data)
}

// The types payloadOptions decodes with functions of its own (orgid.go):
// peer IDs (peerIDType), which decodeFast parses with the same DecodeID,
// and revocations, which it hands to json.Unmarshal.
var revocationType = reflect.TypeFor[Revocation]()

// timeType is decoded by decodeTime when written as writers write it.
var timeType = reflect.TypeFor[time.Time]()

// The interfaces by which a type decodes itself; the general decoder
// calls them, so decodeFast hands such types to it.
var ownUnmarshalers = []reflect.Type{
	reflect.TypeFor[json.Unmarshaler](),
	reflect.TypeFor[json.UnmarshalerFrom](),
	reflect.TypeFor[encoding.TextUnmarshaler](),
}

// planner builds decoders, once per type; a type met again while its own
// decoder is being built (a recursive type) gets a forwarding one.
type planner struct {
	done map[reflect.Type]*decodeFn
}

func newPlanner() *planner { return &planner{done: map[reflect.Type]*decodeFn{}} }

func (p *planner) decoder(t reflect.Type) decodeFn {
	if f, ok := p.done[t]; ok {
		return func(d *fastDecoder, v reflect.Value) bool { return (*f)(d, v) }
	}
	f := new(decodeFn)
	p.done[t] = f
	*f = p.build(t)
	return *f
}

func (p *planner) build(t reflect.Type) decodeFn {
	if t == peerIDType {
		return decodePeerID
	}
	if t == timeType {
		return decodeTime
	}
	if t == revocationType || selfDecoding(t) {
		return delegate
	}
	switch t.Kind() {
	case reflect.String:
		return decodeString
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return decodeUint
	case reflect.Pointer:
		return p.pointer(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return delegate // []byte is base64 text
		}
		return p.slice(t)
	case reflect.Struct:
		if f := p.structure(t); f != nil {
			return f
		}
	case reflect.Map:
		if k := t.Key(); k.Kind() == reflect.String && !selfDecoding(k) {
			return p.mapping(t)
		}
	}
	return delegate
}

// selfDecoding reports whether the general decoder decodes t by a method
// of t's own.
func selfDecoding(t reflect.Type) bool {
	for _, u := range ownUnmarshalers {
		if reflect.PointerTo(t).Implements(u) {
			return true
		}
	}
	return false
}

// mapping decodes an object into a map keyed by strings; a key seen twice
// is refused, as the general decoder refuses it.
func (p *planner) mapping(t reflect.Type) decodeFn {
	elem := p.decoder(t.Elem())
	return func(d *fastDecoder, v reflect.Value) bool {
		if !d.take('{') {
			return false
		}
		m := reflect.MakeMap(t) // {} is an empty map, not nil
		v.Set(m)
		if d.take('}') {
			return true
		}
		for {
			k, ok := d.str()
			if !ok || !d.take(':') {
				return false
			}
			key := reflect.ValueOf(k).Convert(t.Key())
			if m.MapIndex(key).IsValid() {
				return false
			}
			e := reflect.New(t.Elem()).Elem()
			if !elem(d, e) {
				return false
			}
			m.SetMapIndex(key, e)
			if d.take('}') {
				return true
			}
			if !d.take(',') {
				return false
			}
		}
	}
}

func (p *planner) pointer(t reflect.Type) decodeFn {
	elem := p.decoder(t.Elem())
	return func(d *fastDecoder, v reflect.Value) bool {
		e := reflect.New(t.Elem())
		if !elem(d, e.Elem()) {
			return false
		}
		v.Set(e)
		return true
	}
}

func (p *planner) slice(t reflect.Type) decodeFn {
	elem := p.decoder(t.Elem())
	return func(d *fastDecoder, v reflect.Value) bool {
		if !d.take('[') {
			return false
		}
		if d.take(']') {
			v.Set(reflect.MakeSlice(t, 0, 0)) // [] is an empty slice, not nil
			return true
		}
		// v grows in place: reflect.Append would allocate a header for
		// every element.
		for n := 0; ; n++ {
			if n == v.Cap() {
				v.Grow(max(4, n))
			}
			v.SetLen(n + 1)
			if !elem(d, v.Index(n)) {
				return false
			}
			if d.take(']') {
				return true
			}
			if !d.take(',') {
				return false
			}
		}
	}
}

// member is a struct field as the payload names it.
type member struct {
	name  string
	index int // the field's
	dec   decodeFn
}

// maxMembers bounds the fields of a struct the fast path decodes (the
// members seen are a bit set of two words).
const maxMembers = 128

// structure returns the decoder of struct type t, or nil when t has
// something the general decoder treats in a way of its own: an embedded
// field, a tag option other than omitempty and omitzero, a quoted or
// repeated name, too many fields.
func (p *planner) structure(t reflect.Type) decodeFn {
	var ms []member
	byName := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		if !f.IsExported() {
			continue
		}
		tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" && opts == "" {
			continue
		}
		for o := range strings.SplitSeq(opts, ",") {
			if o != "" && o != "omitempty" && o != "omitzero" {
				return nil
			}
		}
		name := tag
		if name == "" {
			name = f.Name
		}
		if strings.ContainsAny(name, `'"\`) {
			return nil
		}
		if _, dup := byName[name]; dup {
			return nil
		}
		byName[name] = len(ms)
		ms = append(ms, member{name: name, index: i})
	}
	if len(ms) > maxMembers {
		return nil
	}
	for i := range ms {
		ms[i].dec = p.decoder(t.Field(ms[i].index).Type)
	}
	return func(d *fastDecoder, v reflect.Value) bool {
		if !d.take('{') {
			return false
		}
		if d.take('}') {
			return true
		}
		var seen [maxMembers / 64]uint64
		next := 0 // members come in declaration order from every writer
		for {
			name, ok := d.name()
			if !ok || !d.take(':') {
				return false
			}
			k := -1
			if next < len(ms) && ms[next].name == string(name) {
				k = next
			} else if j, ok := byName[string(name)]; ok {
				k = j
			}
			if k < 0 || seen[k/64]&(1<<(k%64)) != 0 {
				return false // unknown or repeated: the general decoder says which
			}
			seen[k/64] |= 1 << (k % 64)
			next = k + 1
			if !ms[k].dec(d, v.Field(ms[k].index)) {
				return false
			}
			if d.take('}') {
				return true
			}
			if !d.take(',') {
				return false
			}
		}
	}
}
