// Package cputime reads CPU clocks for benchmarks that measure two things
// side by side: the CPU time the whole process has used, and the CPU time
// of the calling OS thread (for a goroutine locked to its thread with
// runtime.LockOSThread; store.WithSyncClock takes Thread). A Tally adds
// up the slices one side of such a measurement ran: operations, wall time
// and CPU time.
//
// Linux reads clock_gettime's CLOCK_PROCESS_CPUTIME_ID and
// CLOCK_THREAD_CPUTIME_ID (nanoseconds, user and system together).
// Elsewhere Supported is false and both clocks read zero.
package cputime
