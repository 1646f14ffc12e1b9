package cputime

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Touching every page of fresh anonymous memory takes about one minor
// fault a page, and a slice counts them.
func TestMinorFaults(t *testing.T) {
	const pages = 1024
	mem, err := unix.Mmap(-1, 0, pages*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	// Small pages, one fault each, whatever the system's huge-page policy.
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	var tl Tally
	s := Start()
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	tl.Add(s, pages, 0)
	// Other goroutines may add a few.
	if tl.Faults < pages || tl.Faults > 2*pages {
		t.Fatalf("touching %d fresh pages took %d faults", pages, tl.Faults)
	}
	if got := tl.FaultsPerOp(); got != float64(tl.Faults)/pages {
		t.Fatalf("FaultsPerOp %v, want %v", got, float64(tl.Faults)/pages)
	}
}
