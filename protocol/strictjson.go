package protocol

import "fmt"

// checkNoNull refuses a JSON document that holds a null literal anywhere
// (PROTOCOL.md 4.1: null is the wrong type for every member). data must
// be syntactically valid JSON, as a successful decoding proves: outside
// strings, the byte 'n' then only ever begins null (true, false and
// numbers hold none), so one pass over the bytes tracking strings finds
// it.
func checkNoNull(data []byte) error {
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inString && c == '\\':
			i++ // the escaped byte cannot end the string
		case c == '"':
			inString = !inString
		case !inString && c == 'n':
			return fmt.Errorf("%w: payload: null at byte %d: leave an absent member out", ErrMalformed, i)
		}
	}
	return nil
}
