//go:build !linux

package cputime

import "time"

// Supported reports whether Process and Thread read real clocks here.
const Supported = false

// Process returns zero: this system's process CPU clock is not read.
func Process() time.Duration { return 0 }

// Thread returns zero: this system's thread CPU clock is not read.
func Thread() time.Duration { return 0 }

// MinorFaults returns zero: this system's fault count is not read.
func MinorFaults() int64 { return 0 }
