package cputime

import (
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether Process and Thread read real clocks here.
const Supported = true

// Process returns the CPU time, user and system, this process has used
// in all its threads. Safe for concurrent use.
func Process() time.Duration { return clock(unix.CLOCK_PROCESS_CPUTIME_ID) }

// Thread returns the CPU time, user and system, the calling OS thread has
// used. Only differences between two readings on the same thread mean
// anything: the goroutine must hold its thread (runtime.LockOSThread)
// from the first reading to the second.
func Thread() time.Duration { return clock(unix.CLOCK_THREAD_CPUTIME_ID) }

func clock(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
