// Command benchab compares two builds of a benchmark on a machine whose
// speed drifts: it runs them in turns (A B, then B A, and so on: each
// pair in the other order from the last), reads the metrics each run
// reports, and prints for each metric both sides' means and medians and
// the mean of the paired differences B-A with its standard error. A
// difference within about two standard errors of zero is noise.
//
//	go test -c -o /tmp/a.test ./store   # on the base
//	go test -c -o /tmp/b.test ./store   # on the change
//	cd tools && go run ./benchab -n 8 -dir ../store -bench 'BenchmarkIngest$/open\+apply$' -benchtime 8000x /tmp/a.test /tmp/b.test
//
// A side may be given as NAME=VALUE,...:BINARY to run the binary with
// those environment variables, and -cpu passes -test.cpu; so one binary
// can be compared with itself under other settings (GOGC=50:/tmp/a.test).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	n := flag.Int("n", 8, "number of `pairs`")
	dir := flag.String("dir", ".", "run the binaries in `directory` (the benchmark's package)")
	bench := flag.String("bench", ".", "-test.bench `regexp`")
	benchtime := flag.String("benchtime", "", "-test.benchtime `value`")
	cpu := flag.String("cpu", "", "-test.cpu `list`")
	only := flag.String("metrics", "", "comma-separated `units` to report (all if empty)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchab [flags] A B\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	args := []string{"-test.run", "^$", "-test.bench", *bench}
	if *benchtime != "" {
		args = append(args, "-test.benchtime", *benchtime)
	}
	if *cpu != "" {
		args = append(args, "-test.cpu", *cpu)
	}
	sides := [2]side{}
	for i := range sides {
		s, err := parseSide(flag.Arg(i))
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchab:", err)
			os.Exit(2)
		}
		sides[i] = s
	}
	runs := [2][]map[string]float64{}
	for p := range *n {
		order := []int{0, 1}
		if p%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			m, err := sides[i].run(*dir, args)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchab: %s: %v\n", sides[i].label, err)
				os.Exit(1)
			}
			runs[i] = append(runs[i], m)
			fmt.Fprintf(os.Stderr, "pair %d %s: %d metrics\n", p+1, sides[i].label, len(m))
		}
	}
	var units []string
	if *only != "" {
		units = strings.Split(*only, ",")
	} else {
		units = commonUnits(runs)
	}
	report(os.Stdout, sides[0].label, sides[1].label, units, runs)
}

// side is one build to run: a test binary and its environment.
type side struct {
	label  string
	binary string
	env    []string
}

// parseSide reads BINARY or NAME=VALUE,...:BINARY.
func parseSide(s string) (side, error) {
	out := side{label: s, binary: s}
	if envs, bin, ok := strings.Cut(s, ":"); ok && strings.Contains(envs, "=") {
		out.binary = bin
		for kv := range strings.SplitSeq(envs, ",") {
			if !strings.Contains(kv, "=") {
				return side{}, fmt.Errorf("%q: %q is not NAME=VALUE", s, kv)
			}
			out.env = append(out.env, kv)
		}
	}
	// Absolute, since the binary runs in -dir.
	abs, err := filepath.Abs(out.binary)
	if err != nil {
		return side{}, err
	}
	if _, err := os.Stat(abs); err != nil {
		return side{}, err
	}
	out.binary = abs
	return out, nil
}

// run runs the side once and returns the metrics of its benchmark lines
// (the last value of each unit, if several benchmarks report it).
func (s side) run(dir string, args []string) (map[string]float64, error) {
	cmd := exec.Command(s.binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), s.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out.String())
	}
	m := parseMetrics(&out)
	if len(m) == 0 {
		return nil, fmt.Errorf("no benchmark lines in its output:\n%s", out.String())
	}
	return m, nil
}

// parseMetrics reads benchmark result lines ("BenchmarkX-2  N  v unit  v
// unit ...") from r.
func parseMetrics(r io.Reader) map[string]float64 {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				m[f[i+1]] = v
			}
		}
	}
	return m
}

// commonUnits returns the units every run reported, sorted.
func commonUnits(runs [2][]map[string]float64) []string {
	var units []string
	for u := range runs[0][0] {
		if reported(runs, u) {
			units = append(units, u)
		}
	}
	slices.Sort(units)
	return units
}

// report prints, per unit, both sides' means and medians and the paired
// difference's mean and standard error.
func report(w io.Writer, a, b string, units []string, runs [2][]map[string]float64) {
	fmt.Fprintf(w, "A = %s\nB = %s\n%d pairs\n", a, b, len(runs[0]))
	fmt.Fprintf(w, "%-28s %12s %12s %12s %12s %22s\n", "unit", "A mean", "A median", "B mean", "B median", "B-A (± s.e.)")
	for _, u := range units {
		if !reported(runs, u) {
			fmt.Fprintf(w, "%-28s not reported by every run\n", u)
			continue
		}
		av, bv := values(runs[0], u), values(runs[1], u)
		d := make([]float64, len(av))
		for i := range av {
			d[i] = bv[i] - av[i]
		}
		md, se := mean(d), stderr(d)
		rel := ""
		if ma := mean(av); ma != 0 {
			rel = fmt.Sprintf(" %+.1f%%", 100*md/ma)
		}
		fmt.Fprintf(w, "%-28s %12.4g %12.4g %12.4g %12.4g %11.4g ± %-8.3g%s\n", u, mean(av), median(av), mean(bv), median(bv), md, se, rel)
	}
}

// reported says whether every run of both sides reported unit.
func reported(runs [2][]map[string]float64, unit string) bool {
	for _, side := range runs {
		for _, m := range side {
			if _, ok := m[unit]; !ok {
				return false
			}
		}
	}
	return true
}

func values(runs []map[string]float64, unit string) []float64 {
	out := make([]float64, len(runs))
	for i, m := range runs {
		out[i] = m[unit]
	}
	return out
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// stderr is the standard error of v's mean (0 for fewer than two values).
func stderr(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := mean(v)
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))
}
