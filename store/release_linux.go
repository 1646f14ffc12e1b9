package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReleaseMapped bounds the resident set that memory-mapped files add to
// this process. Badger maps its value log, tables and write-ahead log, and
// bleve its index segments; every page a scan touches stays in the
// process's resident set (VmRSS, and its peak VmHWM) until the file is
// unmapped, though the kernel could drop it at any time. ReleaseMapped
// drops from this process's page tables the resident pages of every
// shared mapping of a file under dir, and returns how many bytes of
// mappings it advised: the data stays in the page cache (and dirty pages
// are written back as before), and the next access maps the page again
// with a minor fault. Only shared mappings are touched, so no private
// copy is ever lost. Safe for concurrent use; a mapping unmapped
// meanwhile is skipped. Linux only; elsewhere it does nothing.
func ReleaseMapped(dir string) (int64, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	prefix := []byte(abs + string(filepath.Separator))
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("release mapped pages: %w", err)
	}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		lo, hi, ok := sharedMapping(sc.Bytes(), prefix)
		if !ok {
			continue
		}
		// EINVAL or ENOMEM: the range was unmapped since the read.
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_DONTNEED)
		if errno == 0 {
			total += int64(hi - lo)
		}
	}
	return total, sc.Err()
}

// sharedMapping parses one line of /proc/self/maps ("lo-hi perms offset
// dev inode path") and reports the range of a shared mapping of a file
// whose path starts with prefix.
func sharedMapping(line, prefix []byte) (lo, hi uintptr, ok bool) {
	var f [5][]byte
	rest := line
	for i := range f {
		f[i], rest, _ = bytes.Cut(bytes.TrimLeft(rest, " "), []byte(" "))
	}
	path := bytes.TrimLeft(rest, " ") // may hold spaces
	if len(f[1]) != 4 || f[1][3] != 's' || !bytes.HasPrefix(path, prefix) {
		return 0, 0, false
	}
	l, h, found := bytes.Cut(f[0], []byte("-"))
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(string(l), 16, 64)
	b, err2 := strconv.ParseUint(string(h), 16, 64)
	if err1 != nil || err2 != nil || b <= a {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}
