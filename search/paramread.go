package search

import (
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// The readers of single URL parameters of ParseQuery (params.go).

// paramOne returns the value of a parameter that may be given once.
func paramOne(v url.Values, name string) (string, error) {
	switch vs := v[name]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", badParam(name, "given %d times; give it once", len(vs))
	}
}

// paramBool reads an optional flag: 1 or true, 0 or false; absent or
// empty is nil.
func paramBool(v url.Values, name string) (*bool, error) {
	s, err := paramOne(v, name)
	if err != nil {
		return nil, err
	}
	var b bool
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "1", "true":
		b = true
	case "0", "false":
	default:
		return nil, badParam(name, "%q must be 1 or 0 (or true or false)", clip(s))
	}
	return &b, nil
}

// paramEuros reads an optional whole number of euros; absent or empty
// is nil.
func paramEuros(v url.Values, name string) (*int64, error) {
	s, err := paramOne(v, name)
	if err != nil || strings.TrimSpace(s) == "" {
		return nil, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return nil, badParam(name, "%s is out of range", clip(s))
	}
	if err != nil {
		return nil, badParam(name, "%q is not a whole number of euros", clip(s))
	}
	return &n, nil
}

// paramInt reads an optional whole number; absent or empty is 0. what
// ends the error message.
func paramInt(v url.Values, name, what string) (int, error) {
	s, err := paramOne(v, name)
	if err != nil || strings.TrimSpace(s) == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, badParam(name, "%q %s", clip(s), what)
	}
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, badParam(name, "%s is out of range", clip(s))
	}
	return int(n), nil
}
