package store

import (
	"os"
	"syscall"
)

// fdatasync makes f's data durable, and its metadata as far as reading
// the data back needs it (the size), but not its times.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
