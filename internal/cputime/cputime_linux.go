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

// MinorFaults returns how many minor page faults this process has taken:
// first touches of pages it mapped (a growing heap, a new memory-mapped
// file), each served by the kernel without reading the disk. On some
// virtual machines each costs a good part of a signature check, so the
// benchmarks report them beside their CPU. Zero if it cannot be read.
func MinorFaults() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}
