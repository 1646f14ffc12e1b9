package protocol

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// msgInvalidUTF8 is the problem of a text field that is not valid UTF-8.
const msgInvalidUTF8 = "must be valid UTF-8"

// invalidUTF8At tells whether err, the error of decoding data into v with
// opts, is invalid UTF-8 in a string (raw bytes, or an escaped lone
// surrogate) and nothing else, and if so returns the field's path
// ("retract.reason", "links[2].title"). The decoder refuses invalid UTF-8
// where encoding/json would put U+FFFD in its place; this names the field
// instead of calling the whole document malformed. v is overwritten.
func invalidUTF8At(data []byte, err error, v any, opts ...json.Options) (string, bool) {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return "", false
	}
	// The same document with invalid UTF-8 allowed decodes: the string is
	// the only problem (the decoder stops at the first error, so later
	// ones are not named).
	if json.Unmarshal(data, v, append(opts, jsontext.AllowInvalidUTF8(true))...) != nil {
		return "", false
	}
	return pointerPath(se.JSONPointer), true
}

// ParseRetractReason reads the body of a request to retract a practice,
// {"reason": "..."} (other members are ignored) or nothing but white
// space, and returns the reason, checked by ValidateReason. A reason that
// is not valid UTF-8, as raw bytes or as an escaped lone surrogate, is a
// *ValidationError on "reason" (encoding/json would have replaced it with
// U+FFFD and signed that); a body that is not such JSON wraps ErrMalformed.
func ParseRetractReason(body []byte) (string, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", nil
	}
	var req struct {
		Reason string `json:"reason"`
	}
	// As encoding/json did: names match in any case, others are ignored.
	opt := json.MatchCaseInsensitiveNames(true)
	if err := json.Unmarshal(body, &req, opt); err != nil {
		if path, ok := invalidUTF8At(body, err, &req, opt); ok {
			return "", &ValidationError{Problems: []FieldError{{Path: path, Msg: msgInvalidUTF8}}}
		}
		return "", fmt.Errorf(`%w: the body must be {"reason": "..."} or empty: %v`, ErrMalformed, err)
	}
	if err := ValidateReason(req.Reason); err != nil {
		return "", err
	}
	return req.Reason, nil
}
