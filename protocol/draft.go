package protocol

import (
	"errors"
	"strings"
)

// Draft is a document from staff (a fact sheet or a profile) that was read
// and checked for shape once (unknown keys, wrong types), but not yet for
// its rules. It lets a publishing node parse a document once and validate
// it once: Seal checks the rules, as it does for every announcement, and
// Explain turns Seal's problems back into the document's own field paths
// with their source lines. A Draft is not safe for concurrent use.
type Draft[T any] struct {
	// Value is the decoded document; when Shaped is false some of its
	// fields are missing, so it must not be sealed.
	Value *T
	// prefix is the document's path inside an announcement.
	prefix string
	lines  map[string]int
	shape  []FieldError
}

// ReadSheet reads a fact sheet in YAML or JSON like ParseSheet, but checks
// only its shape. The error, a *ValidationError, is for a document that
// cannot be read at all (empty, not YAML, too large).
func ReadSheet(data []byte) (*Draft[FactSheet], error) { return read[FactSheet](data, "practice.") }

// ReadProfile is ReadSheet for a publisher profile.
func ReadProfile(data []byte) (*Draft[Profile], error) { return read[Profile](data, "profile.") }

func read[T any](data []byte, prefix string) (*Draft[T], error) {
	d := &Draft[T]{Value: new(T), prefix: prefix}
	var err error
	if d.lines, d.shape, err = parseDocument(data, d.Value); err != nil {
		return nil, err
	}
	return d, nil
}

// Shaped reports whether the document had no shape problems, so that its
// Value holds everything the file said.
func (d *Draft[T]) Shaped() bool { return len(d.shape) == 0 }

// Explain returns every problem of the document at once, each with its
// field path and source line, in line order: its shape problems and the
// rule problems of err, which is the error of Seal for an announcement
// carrying the document or of the document's own Validate. A rule problem
// about a field that already has a shape problem is left out. Errors that
// are not validation errors are returned as they are; nil and no shape
// problems give nil.
func (d *Draft[T]) Explain(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		for i := range ve.Problems {
			ve.Problems[i].Path = strings.TrimPrefix(ve.Problems[i].Path, d.prefix)
		}
	}
	return merge(d.shape, withLines(err, d.lines))
}
