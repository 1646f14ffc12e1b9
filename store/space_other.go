//go:build !unix

package store

import "errors"

// statfsFree is unknown off Unix: NewSpaceMonitor then fails with
// errors.ErrUnsupported and callers run without a monitor.
func statfsFree(string) (uint64, error) { return 0, errors.ErrUnsupported }
