package daemon

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestMemoryLimitSetting: memory_limit_mib defaults to
// DefaultMemoryLimitMiB, is read from the file, a flag beats the file,
// and a value outside its bounds is refused naming the key and the line.
func TestMemoryLimitSetting(t *testing.T) {
	s, ok := SettingByFlag("memory-limit-mib")
	if !ok || s.Key != "memory_limit_mib" || s.Default != DefaultMemoryLimitMiB || s.Kind != KindInt ||
		!strings.Contains(strings.Join(s.Env, " "), "KHANTARA_MEMORY_LIMIT_MIB") {
		t.Fatalf("setting %+v, %v", s, ok)
	}
	if cfg, err := Load(Sources{Home: t.TempDir()}); err != nil || cfg.MemoryLimitMiB != DefaultMemoryLimitMiB {
		t.Fatalf("default: %d, %v", cfg.MemoryLimitMiB, err)
	}
	home := t.TempDir()
	file := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(file, []byte("network: homenet\nmemory_limit_mib: 1024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(Sources{Home: home}); err != nil || cfg.MemoryLimitMiB != 1024 {
		t.Fatalf("from the file: %d, %v", cfg.MemoryLimitMiB, err)
	}
	if cfg, err := Load(Sources{Home: home, Overrides: map[string]any{"memory_limit_mib": 0}}); err != nil || cfg.MemoryLimitMiB != 0 {
		t.Fatalf("flag over the file: %d, %v", cfg.MemoryLimitMiB, err)
	}
	for _, bad := range []int{-1, 1, minMemoryLimitMiB - 1, maxMemoryLimitMiB + 1} {
		if err := os.WriteFile(file, []byte("network: homenet\nmemory_limit_mib: "+strconv.Itoa(bad)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Sources{Home: home})
		want := "config " + file + ": line 2: memory_limit_mib: " + strconv.Itoa(bad) + " is outside 64..1048576"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("memory_limit_mib %d: error %v, want it to start %q", bad, err, want)
		}
	}
}

// TestApplyMemoryLimit: the setting becomes the runtime's soft limit,
// 0 leaves the runtime's limit alone, and GOMEMLIMIT wins over the
// setting.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set for the test process")
	}
	cfg := DefaultConfig(t.TempDir())
	cfg.MemoryLimitMiB = 300
	if got := ApplyMemoryLimit(cfg); got != (MemoryLimit{Bytes: 300 << 20, From: "memory_limit_mib"}) {
		t.Errorf("applied %+v", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("the runtime's limit is %d, want %d", got, 300<<20)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	cfg.MemoryLimitMiB = 0
	if got := ApplyMemoryLimit(cfg); got != (MemoryLimit{}) || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("limit 0 applied %+v, runtime limit %d", got, debug.SetMemoryLimit(-1))
	}
	// The runtime read GOMEMLIMIT at start; the daemon leaves its limit.
	debug.SetMemoryLimit(200 << 20)
	t.Setenv("GOMEMLIMIT", "200MiB")
	cfg.MemoryLimitMiB = 300
	if got := ApplyMemoryLimit(cfg); got != (MemoryLimit{Bytes: 200 << 20, From: "GOMEMLIMIT"}) || debug.SetMemoryLimit(-1) != 200<<20 {
		t.Errorf("with GOMEMLIMIT applied %+v, runtime limit %d", got, debug.SetMemoryLimit(-1))
	}
}
