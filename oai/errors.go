package oai

import "fmt"

// The error codes of OAI-PMH 2.0 (section 3.6) this provider returns.
// noMetadataFormats cannot happen (every item has both formats) and
// noSetHierarchy neither (the repository has sets).
const (
	codeBadArgument             = "badArgument"
	codeBadResumptionToken      = "badResumptionToken"
	codeBadVerb                 = "badVerb"
	codeCannotDisseminateFormat = "cannotDisseminateFormat"
	codeIDDoesNotExist          = "idDoesNotExist"
	codeNoRecordsMatch          = "noRecordsMatch"
)

// protoError is an OAI-PMH error condition: it becomes an <error> element
// of an HTTP 200 response. Any other error from a verb is a failure of the
// node and becomes HTTP 500.
type protoError struct {
	code    string
	message string
}

func (e *protoError) Error() string { return e.code + ": " + e.message }

func errorf(code, format string, args ...any) *protoError {
	return &protoError{code: code, message: fmt.Sprintf(format, args...)}
}

// quote renders untrusted input for an error message: quoted, and cut
// short so that a hostile request cannot make a long answer.
func quote(s string) string {
	const max = 64
	r := []rune(s)
	if len(r) > max {
		return fmt.Sprintf("%q…", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}
