package protocol

import (
	"bytes"
	"fmt"
)

// checkNoNull refuses a JSON document that holds a null literal anywhere
// (PROTOCOL.md 4.1: null is the wrong type for every member). data must
// be syntactically valid JSON, as a successful decoding proves: outside
// strings, the byte 'n' then only ever begins null (true, false and
// numbers hold none), and a quote inside a string is escaped by an odd
// number of backslashes before it. So it suffices to jump from quote to
// quote (bytes.IndexByte reads many bytes at a time) and look for 'n'
// between a string's end and the next one's start.
func checkNoNull(data []byte) error {
	i := 0
	for {
		// Outside a string: any 'n' before the next quote is a null.
		rest := data[i:]
		q := bytes.IndexByte(rest, '"')
		if q >= 0 {
			rest = rest[:q]
		}
		if k := bytes.IndexByte(rest, 'n'); k >= 0 {
			return fmt.Errorf("%w: payload: null at byte %d: leave an absent member out", ErrMalformed, i+k)
		}
		if q < 0 {
			return nil
		}
		i += q + 1
		// Inside a string: find the quote that ends it.
		for {
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				return nil // not valid JSON; the decoder refused it already
			}
			end := i + q
			k := end
			for data[k-1] == '\\' { // the opening quote stops this
				k--
			}
			i = end + 1
			if (end-k)%2 == 0 {
				break
			}
		}
	}
}
