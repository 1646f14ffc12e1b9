//go:build unix

package store

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// statfsFree is the space on dir's filesystem available to an
// unprivileged process: the bytes a write can count on.
func statfsFree(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %q: %w", dir, err)
	}
	// The field types differ between Unixes (int64 on FreeBSD).
	return uint64(st.Bavail) * uint64(st.Bsize), nil //nolint:unconvert // see above
}
