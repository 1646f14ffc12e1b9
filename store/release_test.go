//go:build linux

package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestReleaseDropsSharedPages maps a file shared and one private copy of
// another, touches every page, and checks that ReleaseMapped drops the shared
// mapping's resident pages, leaves the private one (and what was written
// into it) alone, and that both still read what they held.
func TestReleaseDropsSharedPages(t *testing.T) {
	const size = 8 << 20
	dir := filepath.Join(t.TempDir(), "with space")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("khantara"), size/8)
	shared, private := mapFile(t, dir, "shared.vlog", data, unix.MAP_SHARED), mapFile(t, dir, "private", data, unix.MAP_PRIVATE)
	copy(private, "written")
	sum := 0
	for i := 0; i < size; i += 4096 {
		sum += int(shared[i]) + int(private[i])
	}
	if sum == 0 {
		t.Fatal("read nothing")
	}
	if rss := mappingRSS(t, shared); rss < size/2 {
		t.Fatalf("the shared mapping has %d bytes resident after reading it all", rss)
	}
	n, err := ReleaseMapped(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Errorf("ReleaseMapped advised %d bytes, want %d (the shared mapping only)", n, size)
	}
	if rss := mappingRSS(t, shared); rss > size/8 {
		t.Errorf("the shared mapping still has %d bytes resident", rss)
	}
	if rss := mappingRSS(t, private); rss < size/2 {
		t.Errorf("the private mapping lost its pages: %d bytes resident", rss)
	}
	if !bytes.Equal(shared, data) || string(private[:7]) != "written" || !bytes.Equal(private[7:], data[7:]) {
		t.Error("a mapping reads other data after ReleaseMapped")
	}
	if n, err := ReleaseMapped(t.TempDir()); n != 0 || err != nil {
		t.Errorf("ReleaseMapped of a directory with no mappings: %d, %v", n, err)
	}
}

func mapFile(t *testing.T, dir, name string, data []byte, flags int) []byte {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prot := unix.PROT_READ
	if flags == unix.MAP_PRIVATE {
		prot |= unix.PROT_WRITE
	}
	m, err := unix.Mmap(int(f.Fd()), 0, len(data), prot, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	return m
}

// mappingRSS returns the resident bytes of the mapping that starts at m.
func mappingRSS(t *testing.T, m []byte) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&m[0])))
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if head, _, _ := strings.Cut(line, " "); strings.Contains(head, "-") && !strings.HasSuffix(head, ":") {
			in = strings.HasPrefix(line, start)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb << 10
		}
	}
	t.Fatalf("no mapping at %s in smaps", start)
	return 0
}
