package daemon

import "errors"

var (
	// ErrServiceStopped is the error of a service that returned from Serve
	// without an error before it was asked to stop: a Group treats it as
	// a failure, since a daemon missing a service is not running.
	ErrServiceStopped = errors.New("stopped before it was asked to")
	// ErrServed is returned by Daemon.Serve when the daemon was already
	// served or closed: a Daemon runs once.
	ErrServed = errors.New("the daemon was already served or closed")
	// ErrInitialised is returned by Init when the data directory already
	// holds an identity key or the config file: init never overwrites.
	ErrInitialised = errors.New("already initialised")
)
