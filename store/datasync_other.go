//go:build !linux

package store

import "os"

// fdatasync makes f durable (an fsync where fdatasync is not offered).
func fdatasync(f *os.File) error { return f.Sync() }
