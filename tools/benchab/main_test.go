package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	out := `goos: linux
BenchmarkIngest/open+apply-2   	    8000	     79211 ns/op	  73.76 MB/s	         1.591 cores	       126.8 cpu-us/op	         0.6180 x-verify-1core
PASS
BenchmarkOther-2 notanumber 1 x
`
	m := parseMetrics(strings.NewReader(out))
	want := map[string]float64{"ns/op": 79211, "MB/s": 73.76, "cores": 1.591, "cpu-us/op": 126.8, "x-verify-1core": 0.618}
	if len(m) != len(want) {
		t.Fatalf("got %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestStats(t *testing.T) {
	v := []float64{1, 2, 3, 4}
	if mean(v) != 2.5 || median(v) != 2.5 || median([]float64{3, 1, 2}) != 2 {
		t.Errorf("mean %v median %v", mean(v), median(v))
	}
	// s.d. of 1..4 is sqrt(5/3); over sqrt(4).
	if se := stderr(v); math.Abs(se-math.Sqrt(5.0/3)/2) > 1e-12 {
		t.Errorf("stderr %v", se)
	}
	if stderr([]float64{7}) != 0 {
		t.Error("stderr of one value")
	}
}

func TestParseSide(t *testing.T) {
	bin := t.TempDir() + "/x.test"
	if _, err := parseSide(bin); err == nil {
		t.Error("a missing binary was accepted")
	}
	if err := writeFile(bin); err != nil {
		t.Fatal(err)
	}
	s, err := parseSide("GOGC=50,X=1:" + bin)
	if err != nil || s.binary != bin || strings.Join(s.env, " ") != "GOGC=50 X=1" {
		t.Errorf("got %+v, %v", s, err)
	}
	if _, err := parseSide("GOGC=50,bad:" + bin); err == nil {
		t.Error("an environment entry without = was accepted")
	}
	// A relative path is made absolute: the binary runs in -dir.
	t.Chdir(filepath.Dir(bin))
	if s, err := parseSide("x.test"); err != nil || s.binary != bin {
		t.Errorf("relative path: got %+v, %v; want binary %s", s, err, bin)
	}
}

func writeFile(path string) error { return os.WriteFile(path, nil, 0o755) }

func TestReportMissingUnit(t *testing.T) {
	runs := [2][]map[string]float64{
		{{"x": 1, "y": 2}, {"x": 3}},
		{{"x": 2, "y": 1}, {"x": 5, "y": 1}},
	}
	if got := commonUnits(runs); strings.Join(got, ",") != "x" {
		t.Errorf("common units %v, want [x]", got)
	}
	var out strings.Builder
	report(&out, "a", "b", []string{"x", "y"}, runs)
	if !strings.Contains(out.String(), "y                            not reported by every run") {
		t.Errorf("a unit missing from a run was reported:\n%s", out.String())
	}
	// x: A 1, 3; B 2, 5: differences 1 and 2, mean 1.5.
	if !strings.Contains(out.String(), "1.5 ±") {
		t.Errorf("x's difference is not 1.5:\n%s", out.String())
	}
}
