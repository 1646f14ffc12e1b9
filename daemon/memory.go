package daemon

import (
	"fmt"
	"os"
	"runtime/debug"
)

// DefaultMemoryLimitMiB is the default of memory_limit_mib: the Go
// runtime's soft memory limit, in MiB. See Config.MemoryLimitMiB.
const DefaultMemoryLimitMiB = 256

// Bounds of memory_limit_mib other than 0 (no limit): below 64 MiB the
// garbage collector would run without pause, above 1 TiB the value is
// surely a mistake.
const (
	minMemoryLimitMiB = 64
	maxMemoryLimitMiB = 1 << 20
)

// validateMemoryLimit checks memory_limit_mib.
func validateMemoryLimit(mib int) error {
	if mib != 0 && (mib < minMemoryLimitMiB || mib > maxMemoryLimitMiB) {
		return fmt.Errorf("memory_limit_mib: %d is outside %d..%d; give the Go heap's soft limit in MiB, e.g. %d (0: no limit)",
			mib, minMemoryLimitMiB, maxMemoryLimitMiB, DefaultMemoryLimitMiB)
	}
	return nil
}

// MemoryLimit is the soft memory limit ApplyMemoryLimit left in force.
type MemoryLimit struct {
	// Bytes is the limit; 0 when there is none.
	Bytes int64
	// From says where it comes from: "GOMEMLIMIT" (the environment
	// variable, which wins), "memory_limit_mib", or "" for no limit.
	From string
}

// ApplyMemoryLimit sets the Go runtime's soft memory limit
// (runtime/debug.SetMemoryLimit) to c.MemoryLimitMiB, unless the
// GOMEMLIMIT environment variable is set, whose limit the runtime
// already applied and which is left as it is; MemoryLimitMiB 0 leaves
// the runtime's limit alone too. The limit is the process's: call it
// once, from the process that runs the daemon, not from a library or a
// test that runs several. It returns the limit in force.
func ApplyMemoryLimit(c Config) MemoryLimit {
	current := debug.SetMemoryLimit(-1)
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		return MemoryLimit{Bytes: current, From: "GOMEMLIMIT"}
	case c.MemoryLimitMiB == 0:
		return MemoryLimit{}
	}
	limit := int64(c.MemoryLimitMiB) << 20
	debug.SetMemoryLimit(limit)
	return MemoryLimit{Bytes: limit, From: "memory_limit_mib"}
}
