package protocol

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors of Open and Seal. Returned errors wrap exactly one of them,
// so callers can classify with errors.Is (a gossip validator rejects on all).
var (
	// ErrTooLarge: the envelope, payload or file exceeds its limit.
	ErrTooLarge = errors.New("too large")
	// ErrMalformed: the bytes do not decode as an envelope or announcement.
	ErrMalformed = errors.New("malformed")
	// ErrPayloadType: the envelope does not carry a v1 announcement.
	ErrPayloadType = errors.New("wrong payload type")
	// ErrKeyType: the signer's key is not Ed25519.
	ErrKeyType = errors.New("signer key is not Ed25519")
	// ErrBadSignature: the signature does not verify for EnvelopeDomain.
	ErrBadSignature = errors.New("bad signature")
	// ErrPublisherMismatch: the announcement's publisher is not its signer.
	ErrPublisherMismatch = errors.New("publisher is not the signer")
	// ErrInvalid: the announcement decodes but breaks a schema rule; the
	// error is also a *ValidationError listing every problem.
	ErrInvalid = errors.New("invalid")
)

// Sentinel errors of Chain.Authorise (PROTOCOL.md 12.6): whether an
// organisation's chain, as a replica holds it, authorises a record.
var (
	// ErrChainPending: the chain cannot judge the record yet (its genesis,
	// the operation the record's auth names, or an operation between them
	// is not held). Hold the record and check it again when an operation
	// of the organisation arrives; never accept it unchecked.
	ErrChainPending = errors.New("organisation chain pending")
	// ErrUnauthorised: the operation the record names can never authorise
	// it (it does not delegate the signer for the record's kind, or can
	// never link), or an operation can never link to its prev. A provable
	// fault of the signer: gossip rejects it.
	ErrUnauthorised = errors.New("not authorised by the organisation")
	// ErrRevoked: the chain's head does not authorise the record now (the
	// signer is revoked, its delegation expired or lies on an overturned
	// branch). It may become valid again if the head changes: gossip
	// ignores it and stores drop it.
	ErrRevoked = errors.New("not authorised by the organisation's head")
)

// FieldError is one problem with one field.
type FieldError struct {
	// Path names the field: "funding.amount_eur", "links[2].url",
	// "translations.fr.title"; empty for the document as a whole.
	Path string
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
	// Line is the 1-based line in the source file, 0 when unknown.
	Line int
}

// Error returns "path: message".
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// ValidationError holds every problem found in one document. It matches
// ErrInvalid under errors.Is.
type ValidationError struct {
	Problems []FieldError
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects FieldErrors during validation.
type problems struct{ list []FieldError }

func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// element puts "list[i]" before the paths of the problems found since
// the list had start problems: a list element is checked under an empty
// path, so that a valid element, the usual case, builds no path.
func (p *problems) element(start int, list string, i int) {
	for j := start; j < len(p.list); j++ {
		p.list[j].Path = list + "[" + strconv.Itoa(i) + "]" + p.list[j].Path
	}
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list}
}
