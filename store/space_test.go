package store

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSpace is a filesystem whose free space the test sets.
type fakeSpace struct{ free atomic.Uint64 }

func (f *fakeSpace) statfs(string) (uint64, error) { return f.free.Load(), nil }

func newFakeMonitor(t testing.TB, free, reserve uint64) (*SpaceMonitor, *fakeSpace) {
	t.Helper()
	fs := &fakeSpace{}
	fs.free.Store(free)
	m, err := newSpaceMonitor("/data", reserve, fs.statfs, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return m, fs
}

func TestSpaceMonitorStates(t *testing.T) {
	const mib = 1 << 20
	m, fs := newFakeMonitor(t, 100*mib, 64*mib)
	steps := []struct {
		name   string
		free   uint64
		paused bool
	}{
		{"above the reserve", 100 * mib, false},
		{"exactly the reserve", 64 * mib, false},
		{"one byte short", 64*mib - 1, true},
		{"back at the reserve: still paused (hysteresis)", 64 * mib, true},
		{"below reserve plus an eighth", 72*mib - 1, true},
		{"reserve plus an eighth", 72 * mib, false},
		{"short again", 10 * mib, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wasPaused, _ := m.Paused()
			fs.free.Store(st.free)
			err := m.Check()
			if paused, since := m.Paused(); paused != st.paused || paused == since.IsZero() {
				t.Fatalf("Paused() = %v, %v; want %v", paused, since, st.paused)
			}
			if m.Free() != st.free {
				t.Fatalf("Free() = %d, want %d", m.Free(), st.free)
			}
			if st.paused != (err != nil) || (err != nil && !errors.Is(err, ErrNoSpace)) {
				t.Fatalf("Check() = %v with %d free", err, st.free)
			}
			if err != nil && (!strings.Contains(err.Error(), "/data") || !strings.Contains(err.Error(), FormatBytes(st.free)) ||
				strings.Contains(err.Error(), "\n")) {
				t.Fatalf("Check() error does not name the directory and the free space on one line: %v", err)
			}
			select {
			case <-m.Changed():
				if wasPaused == st.paused {
					t.Fatal("Changed fired without a change")
				}
			default:
				if wasPaused != st.paused {
					t.Fatal("Changed did not fire on a change")
				}
			}
		})
	}
}

// TestSpaceMonitorWriteSize: a write that would eat into the reserve is
// refused and pauses writes until there is room for it and the reserve.
func TestSpaceMonitorWriteSize(t *testing.T) {
	const mib = 1 << 20
	m, fs := newFakeMonitor(t, 70*mib, 64*mib)
	if err := m.CheckFor(5 * mib); err != nil {
		t.Fatalf("a 5 MiB write with 6 MiB over the reserve: %v", err)
	}
	err := m.CheckFor(8 * mib)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "8.0 MiB to write") {
		t.Fatalf("an 8 MiB write with 6 MiB over the reserve: %v", err)
	}
	for _, st := range []struct {
		free   uint64
		paused bool
	}{
		{72 * mib, true},           // reserve plus an eighth, but not the refused write
		{80*mib - 1, true},         // one byte short of all three
		{80 * mib, false},          // 64 + 8 + 8
		{70 * mib, false},          // resumed: no hysteresis until the next pause
		{63 * mib, true},           // below the reserve
		{72*mib + 512*1024, false}, // the refused size is forgotten once resumed
	} {
		fs.free.Store(st.free)
		if _, err := m.Refresh(); err != nil {
			t.Fatal(err)
		}
		if paused, _ := m.Paused(); paused != st.paused {
			t.Fatalf("with %s free: paused %v, want %v", FormatBytes(st.free), paused, st.paused)
		}
	}
}

func TestSpaceMonitorRealFilesystem(t *testing.T) {
	dir := t.TempDir()
	m, err := NewSpaceMonitor(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Free() == 0 || m.Check() != nil {
		t.Fatalf("free %d, Check %v with no reserve", m.Free(), m.Check())
	}
	if _, err := NewSpaceMonitor(dir+"/missing", 0); err == nil {
		t.Fatal("a monitor of a missing directory opened")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 256 << 20: "256.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestApplyNoSpace: with a reserve above the real free space, Apply fails
// with ErrNoSpace for the whole group and writes nothing; when the space
// returns, the same announcements apply.
func TestApplyNoSpace(t *testing.T) {
	dir := t.TempDir()
	probe, err := NewSpaceMonitor(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	full, err := NewSpaceMonitor(dir, probe.Free()+1<<30)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, WithMemTableSize(8<<20), WithCacheSize(8<<20), WithSpaceMonitor(full))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	k, pub := key(t, 1)
	in := []Incoming{{Signed: practice(t, k, 1, "space-a", "A")}, {Signed: practice(t, k, 2, "space-b", "B")}}
	if _, err := s.Apply(context.Background(), in...); !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Apply on a full disk = %v, want ErrNoSpace naming %s", err, dir)
	}
	if _, err := s.PublisherSummary(pub); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a refused apply, PublisherSummary = %v, want ErrNotFound", err)
	}
	if st := s.WriteStats(); st.Announcements != 0 {
		t.Fatalf("after a refused apply, %d announcements committed", st.Announcements)
	}
	s.Close()

	m, fs := newFakeMonitor(t, 10, 100)
	s, err = Open(dir, WithMemTableSize(8<<20), WithCacheSize(8<<20), WithSpaceMonitor(m))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Apply(context.Background(), in...); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Apply with 10 bytes free = %v", err)
	}
	fs.free.Store(1 << 20)
	res, err := s.Apply(context.Background(), in...)
	if err != nil || res[0].Outcome != Applied || res[1].Outcome != Applied {
		t.Fatalf("Apply after space returned = %+v, %v", res, err)
	}
}

// BenchmarkSpaceCheck measures one Check (a statfs) on the test's
// filesystem, to compare with a group commit's fsync.
func BenchmarkSpaceCheck(b *testing.B) {
	m, err := NewSpaceMonitor(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := m.Check(); err != nil {
			b.Fatal(err)
		}
	}
}
