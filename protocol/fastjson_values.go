package protocol

// The readers of decodeFast (fastjson.go): the bytes of one value at a
// time, and the decoders of the leaf types.

import (
	"encoding/binary"
	"math"
	"math/bits"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
)

// take consumes c if it is the next byte.
func (d *fastDecoder) take(c byte) bool {
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

// name consumes a member name and returns its bytes as written; a name
// with an escape keeps its backslash, so it matches no field and the
// general decoder takes over.
func (d *fastDecoder) name() ([]byte, bool) {
	if !d.take('"') {
		return nil, false
	}
	rest := d.data[d.i:]
	for j, c := range rest {
		if c == '"' {
			d.i += j + 1
			return rest[:j], true
		}
	}
	return nil, false
}

// The words of the string scan: a byte of all ones, and each byte's top bit.
const (
	ones = 0x0101010101010101
	tops = 0x8080808080808080
)

// special marks, in the top bit of its byte, the first byte of w that a
// string's plain run ends at: a quote, a backslash, a control character
// or a non-ASCII byte. Bytes after the first marked one may be marked
// wrongly (a borrow); the first mark is always right.
func special(w uint64) uint64 {
	zero := func(x uint64) uint64 { return (x - ones) &^ x & tops }
	return zero(w^('"'*ones)) | zero(w^('\\'*ones)) | (w-0x20*ones)&^w&tops | w&tops
}

// str consumes a string and returns its value. It gives up at a \u
// escape and at invalid UTF-8.
func (d *fastDecoder) str() (string, bool) {
	if !d.take('"') {
		return "", false
	}
	data := d.data
	start, j := d.i, d.i
	escaped := false
	d.buf = d.buf[:0]
	for {
		for j+8 <= len(data) {
			if m := special(binary.LittleEndian.Uint64(data[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		if j >= len(data) {
			return "", false
		}
		switch c := data[j]; {
		case c == '"':
			d.i = j + 1
			if !escaped {
				return d.text[start:j], true
			}
			d.buf = append(d.buf, data[start:j]...)
			return string(d.buf), true
		case c == '\\':
			if j+1 >= len(data) {
				return "", false
			}
			var r byte
			switch data[j+1] {
			case '"', '\\', '/':
				r = data[j+1]
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			default:
				return "", false // \u and anything else
			}
			d.buf = append(append(d.buf, data[start:j]...), r)
			escaped = true
			j += 2
			start = j
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(data[j:])
			if r == utf8.RuneError && n == 1 {
				return "", false
			}
			j += n
		default:
			j++ // a plain byte in the tail of fewer than 8
		}
	}
}

func decodeString(d *fastDecoder, v reflect.Value) bool {
	s, ok := d.str()
	if ok {
		v.SetString(s)
	}
	return ok
}

// decodePeerID parses a peer ID as payloadOptions does, with DecodeID.
func decodePeerID(d *fastDecoder, v reflect.Value) bool {
	s, ok := d.str()
	if !ok {
		return false
	}
	id, err := DecodeID(s)
	if err != nil {
		return false
	}
	v.SetString(string(id))
	return true
}

// decodeTime decodes a time written as EncodePayload writes a whole
// second in UTC, "2006-01-02T15:04:05Z", checking every field's range as
// RFC 3339 parsing does; any other form goes to the general decoder.
func decodeTime(d *fastDecoder, v reflect.Value) bool {
	const layout = `"0000-00-00T00:00:00Z"`
	rest := d.data[d.i:]
	if len(rest) < len(layout) {
		return delegate(d, v)
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range rest[from:to] {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	for i := range len(layout) {
		if layout[i] != '0' && rest[i] != layout[i] {
			return delegate(d, v)
		}
	}
	year, month, day := num(1, 5), num(6, 8), num(9, 11)
	hour, minute, second := num(12, 14), num(15, 17), num(18, 20)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || second < 0 || second > 59 {
		return delegate(d, v)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Day() != day { // past the month's end
		return delegate(d, v)
	}
	d.i += len(layout)
	v.Set(reflect.ValueOf(t))
	return true
}

func decodeBool(d *fastDecoder, v reflect.Value) bool {
	switch rest := d.data[d.i:]; {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		v.SetBool(true)
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
	default:
		return false
	}
	return true
}

// digits consumes an integer written as JSON's grammar has it, without
// fraction or exponent (those the caller's next take refuses), and
// returns its sign and magnitude. It gives up at more than 19 digits and
// at -0.
func (d *fastDecoder) digits() (neg bool, u uint64, ok bool) {
	neg = d.take('-')
	start := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		u = u*10 + uint64(d.data[d.i]-'0')
		d.i++
	}
	n := d.i - start
	switch {
	case n == 0 || n > 19:
		return false, 0, false
	case d.data[start] == '0' && (n > 1 || neg):
		return false, 0, false
	}
	return neg, u, true
}

func decodeInt(d *fastDecoder, v reflect.Value) bool {
	neg, u, ok := d.digits()
	if !ok || u > math.MaxInt64 {
		return false
	}
	n := int64(u)
	if neg {
		n = -n
	}
	if v.OverflowInt(n) {
		return false
	}
	v.SetInt(n)
	return true
}

func decodeUint(d *fastDecoder, v reflect.Value) bool {
	neg, u, ok := d.digits()
	if !ok || neg || v.OverflowUint(u) {
		return false
	}
	v.SetUint(u)
	return true
}

// delegate hands the value at d.i, as its raw bytes, to json.Unmarshal
// with payloadOptions. A null anywhere in it is refused here, as
// DecodePayload refuses one anywhere in a payload.
func delegate(d *fastDecoder, v reflect.Value) bool {
	start := d.i
	if !d.skip() {
		return false
	}
	raw := d.data[start:d.i]
	return checkNoNull(raw) == nil && json.Unmarshal(raw, v.Addr().Interface(), payloadOptions) == nil
}

// skip consumes one value without decoding it. It only finds where the
// value ends, which for valid JSON is where the general decoder finds it;
// whether the value is valid is for the decoder it is handed to.
func (d *fastDecoder) skip() bool {
	depth := 0
	for d.i < len(d.data) {
		switch c := d.data[d.i]; c {
		case '"':
			if !d.skipString() {
				return false
			}
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			if depth == 0 {
				return false
			}
			depth--
			d.i++
		case ',', ':':
			if depth == 0 {
				return false
			}
			d.i++
		default:
			d.i++
			if depth == 0 && (d.i == len(d.data) || strings.IndexByte(",}]", d.data[d.i]) >= 0) {
				return true // the end of a number or a literal
			}
			continue
		}
		if depth == 0 {
			return true
		}
	}
	return false
}

// skipString consumes a string, escapes and all, unchecked.
func (d *fastDecoder) skipString() bool {
	for j := d.i + 1; j < len(d.data); j++ {
		switch d.data[j] {
		case '\\':
			j++
		case '"':
			d.i = j + 1
			return true
		}
	}
	return false
}
