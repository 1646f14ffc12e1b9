//go:build !linux

package store

import (
	"io/fs"
	"os"
)

// allocated returns the file's length off Linux.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }

// exchangeDirs swaps a and b by renaming b aside and a to b (not atomic:
// a crash in between leaves b missing until the next Open finishes it).
func exchangeDirs(a, b string) error {
	aside := b + ".old"
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		os.Rename(aside, b)
		return err
	}
	return os.Rename(aside, a)
}
