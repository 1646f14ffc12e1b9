//go:build linux

package store

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// allocated returns the bytes a file occupies on disk (Badger's
// memory-mapped files are sparse: their length says little).
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*unix.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

// exchangeDirs swaps the names a and b atomically where the kernel can
// (renameat2 RENAME_EXCHANGE), so b never stops naming a whole
// directory; on filesystems without it, it renames b aside and a to b.
func exchangeDirs(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if err == nil || !(errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL)) {
		return err
	}
	return renameAside(a, b)
}
