// Command schedtrace reads a Go execution trace (go test -trace) and says
// where chosen goroutines spent their time, and how busy the processors
// were, inside the regions of one name (runtime/trace.WithRegion). It is
// how BenchmarkIngest's pipeline was taken apart (README, Benchmarks):
//
//	go test -run '^$' -bench 'BenchmarkIngest$/open\+apply$' -benchtime 8000x -trace $PWD/ingest.trace ./store
//	cd tools && go run ./schedtrace -region ingest -g 'store.(*Store).writer' -g 'WaterMark).process' ../ingest.trace
//
// (make trace-ingest runs both; tools/ is a module of its own, so that the
// main module does not depend on golang.org/x/exp). For each -g pattern, the
// goroutines with a frame whose function contains it are followed:
// time running, runnable (ready but waiting for a processor), in system
// calls, and blocked, by where they blocked (the first frame outside the
// runtime and the standard library's synchronisation); then the
// runnable waits' percentiles, and the runnable time by what readied
// the goroutine.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"golang.org/x/exp/trace"
)

// patterns collects repeated -g flags.
type patterns []string

func (p *patterns) String() string     { return strings.Join(*p, ",") }
func (p *patterns) Set(s string) error { *p = append(*p, s); return nil }

func main() {
	var gs patterns
	region := flag.String("region", "", "count only time inside regions of this `name` (all time if empty)")
	flag.Var(&gs, "g", "follow goroutines with a frame whose function contains `pattern` (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: schedtrace [-region name] [-g pattern]... trace\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedtrace:", err)
		os.Exit(1)
	}
	defer f.Close()
	rep, err := analyse(f, *region, gs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedtrace:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
}

// goroutine is what is known of one goroutine: the pattern it matched
// (-1 for none yet), its state (where it blocked, if it did) since when
// on the region clock, and, while runnable, what readied it.
type goroutine struct {
	group int
	state string
	since int64
	why   string
}

// group is the time of the goroutines matching one pattern, by state.
type group struct {
	pattern string
	states  map[string]int64
	waits   []int64          // runnable waits, ns
	wokenBy map[string]int64 // runnable time, by what readied them
	members int
}

// report is what analyse found: the region time, how much of it had n
// goroutines running, and the followed groups' time.
type report struct {
	region  string
	total   int64         // region time, ns
	running map[int]int64 // region time with n goroutines running
	groups  []*group
}

// analyser follows a trace's events: clock is the region time so far
// (ns), running the goroutines running now.
type analyser struct {
	rep     *report
	pats    []string
	gor     map[trace.GoID]*goroutine
	clock   int64
	running int
}

// analyse reads the trace from r.
func analyse(r io.Reader, region string, pats []string) (*report, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, err
	}
	a := &analyser{rep: &report{region: region, running: map[int]int64{}}, pats: pats, gor: map[trace.GoID]*goroutine{}}
	for _, p := range pats {
		a.rep.groups = append(a.rep.groups, &group{pattern: p, states: map[string]int64{}, wokenBy: map[string]int64{}})
	}
	var last trace.Time
	depth := 0
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if last != 0 && (region == "" || depth > 0) {
			d := int64(ev.Time() - last)
			a.clock += d
			a.rep.total += d
			a.rep.running[a.running] += d
		}
		last = ev.Time()
		switch ev.Kind() {
		case trace.EventRegionBegin:
			if ev.Region().Type == region {
				depth++
			}
		case trace.EventRegionEnd:
			if ev.Region().Type == region && depth > 0 {
				depth--
			}
		case trace.EventStateTransition:
			if st := ev.StateTransition(); st.Resource.Kind == trace.ResourceGoroutine {
				a.transition(ev, st)
			}
		}
	}
	return a.rep, nil
}

// transition accounts for a goroutine's change of state.
func (a *analyser) transition(ev trace.Event, st trace.StateTransition) {
	from, to := st.Goroutine()
	if from == trace.GoRunning {
		a.running--
	}
	if to == trace.GoRunning {
		a.running++
	}
	id := st.Resource.Goroutine()
	g := a.gor[id]
	if g == nil {
		g = &goroutine{group: -1, since: a.clock}
		a.gor[id] = g
	}
	// A creation's stack is the creator's: not this goroutine's.
	if g.group < 0 && from != trace.GoNotExist {
		g.group = matchGroup(st.Stack, a.pats)
		if g.group >= 0 {
			a.rep.groups[g.group].members++
			g.since, g.state = a.clock, ""
		}
	}
	if g.group >= 0 && g.state != "" {
		d := a.clock - g.since
		grp := a.rep.groups[g.group]
		grp.states[g.state] += d
		if g.state == "runnable" {
			grp.waits = append(grp.waits, d)
			grp.wokenBy[g.why] += d
		}
	}
	g.since = a.clock
	switch to {
	case trace.GoRunning:
		g.state = "running"
	case trace.GoSyscall:
		g.state = "syscall"
	case trace.GoRunnable:
		g.state, g.why = "runnable", site(ev.Stack())
	case trace.GoWaiting:
		g.state = "blocked in " + site(st.Stack)
	default:
		g.state = ""
	}
}

// matchGroup returns the index of the first pattern that a frame of s
// contains, or -1.
func matchGroup(s trace.Stack, pats []string) int {
	for fr := range s.Frames() {
		for i, p := range pats {
			if strings.Contains(fr.Func, p) {
				return i
			}
		}
	}
	return -1
}

// site names where a stack is: its first frame outside the runtime and
// the standard library's synchronisation, without its package path.
func site(s trace.Stack) string {
	for fr := range s.Frames() {
		fn := fr.Func
		if fn == "" || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "sync.") ||
			strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "time.") {
			continue
		}
		return fn[strings.LastIndex(fn, "/")+1:]
	}
	return "(the runtime)"
}

func (rep *report) print(w io.Writer) {
	where := "the whole trace"
	if rep.region != "" {
		where = fmt.Sprintf("regions %q", rep.region)
	}
	fmt.Fprintf(w, "%s: %.1f ms\n", where, ms(rep.total))
	if rep.total == 0 {
		return
	}
	fmt.Fprintln(w, "goroutines running at once (share of the time):")
	for _, n := range slices.Sorted(maps.Keys(rep.running)) {
		fmt.Fprintf(w, "  %d: %5.1f%%\n", n, pct(rep.running[n], rep.total))
	}
	for _, g := range rep.groups {
		fmt.Fprintf(w, "\n%q: %d goroutines (times and shares of the region summed over them)\n", g.pattern, g.members)
		keys := slices.SortedFunc(maps.Keys(g.states), func(a, b string) int { return cmp.Compare(g.states[b], g.states[a]) })
		for _, k := range keys {
			fmt.Fprintf(w, "  %9.1f ms %5.1f%%  %s\n", ms(g.states[k]), pct(g.states[k], rep.total), k)
		}
		if len(g.waits) == 0 {
			continue
		}
		slices.Sort(g.waits)
		q := func(p float64) float64 { return float64(g.waits[int(p*float64(len(g.waits)-1))]) / 1e3 }
		fmt.Fprintf(w, "  runnable waits: %d, p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us\n",
			len(g.waits), q(0.5), q(0.9), q(0.99), q(1))
		by := slices.SortedFunc(maps.Keys(g.wokenBy), func(a, b string) int { return cmp.Compare(g.wokenBy[b], g.wokenBy[a]) })
		for _, k := range by[:min(3, len(by))] {
			fmt.Fprintf(w, "  runnable %.1f ms after being readied by %s\n", ms(g.wokenBy[k]), k)
		}
	}
}

func ms(ns int64) float64           { return float64(ns) / 1e6 }
func pct(part, whole int64) float64 { return 100 * float64(part) / float64(whole) }
