//go:build !linux

package store

import (
	"io/fs"
)

// allocated returns the file's length off Linux.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }

// exchangeDirs swaps a and b by renaming b aside and a to b (not atomic:
// a crash in between leaves b missing until the next Open finishes it).
func exchangeDirs(a, b string) error {
	return renameAside(a, b)
}
