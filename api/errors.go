package api

import (
	"errors"
	"fmt"

	"github.com/khantara/khantara/internal/text"
)

// ErrDaemonNotRunning means that no daemon answers for a home directory:
// HOME/api is missing, or the address in it refuses connections (a stale
// file left by a crash). The Client's errors match it with errors.Is; their
// text names the home directory and how to start the daemon.
var ErrDaemonNotRunning = errors.New("no daemon is running")

// notRunning is the Client's ErrDaemonNotRunning for one home directory.
func notRunning(home string) error {
	return fmt.Errorf("%w for %s (start it with: khantara daemon --home %s)", ErrDaemonNotRunning, home, text.ShellQuote(home))
}

// ResponseError is an error answer of the API, as the Client returns it:
// the HTTP status and a message a person can act on (the answer's Error
// text, or a description of an answer that was not the API's JSON).
type ResponseError struct {
	// Status is the HTTP status code, e.g. 409.
	Status int
	// Msg is the error text.
	Msg string
}

// Error returns Msg.
func (e *ResponseError) Error() string { return e.Msg }
