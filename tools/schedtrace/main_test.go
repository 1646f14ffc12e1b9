package main

import (
	"bytes"
	"context"
	"runtime/trace"
	"strings"
	"testing"
	"time"
)

// sleeper blocks on ch, then spins for about spin, then closes done.
func sleeper(ch <-chan struct{}, spin time.Duration, done chan<- struct{}) {
	<-ch
	for end := time.Now().Add(spin); time.Now().Before(end); {
	}
	close(done)
}

// TestAnalyse traces a goroutine that blocks for 30 ms and then runs for
// 20 ms inside a region, and one outside it, and checks what analyse
// makes of them.
func TestAnalyse(t *testing.T) {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skip("tracing is already on:", err)
	}
	ch, done := make(chan struct{}), make(chan struct{})
	trace.WithRegion(context.Background(), "measured", func() {
		go sleeper(ch, 20*time.Millisecond, done)
		time.Sleep(30 * time.Millisecond)
		close(ch)
		<-done
	})
	// Outside the region: not counted.
	ch2, done2 := make(chan struct{}), make(chan struct{})
	go sleeper(ch2, 0, done2)
	time.Sleep(30 * time.Millisecond)
	close(ch2)
	<-done2
	trace.Stop()

	rep, err := analyse(bytes.NewReader(buf.Bytes()), "measured", []string{"schedtrace.sleeper"})
	if err != nil {
		t.Fatal(err)
	}
	if ms(rep.total) < 45 || ms(rep.total) > 200 {
		t.Errorf("region time %.1f ms, want about 50", ms(rep.total))
	}
	g := rep.groups[0]
	if g.members != 2 {
		t.Errorf("%d goroutines matched, want 2", g.members)
	}
	blocked := g.states["blocked in schedtrace.sleeper"]
	if ms(blocked) < 25 || ms(blocked) > 45 {
		t.Errorf("blocked in schedtrace.sleeper for %.1f ms inside the region, want about 30 (the other sleeper's time is outside it); states %v", ms(blocked), g.states)
	}
	if ms(g.states["running"]) < 15 {
		t.Errorf("running for %.1f ms, want about 20; states %v", ms(g.states["running"]), g.states)
	}
	var out strings.Builder
	rep.print(&out)
	for _, want := range []string{`regions "measured"`, `"schedtrace.sleeper": 2 goroutines`, "blocked in schedtrace.sleeper"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestNoRegion counts the whole trace when no region is named.
func TestNoRegion(t *testing.T) {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skip("tracing is already on:", err)
	}
	time.Sleep(10 * time.Millisecond)
	trace.Stop()
	rep, err := analyse(bytes.NewReader(buf.Bytes()), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ms(rep.total) < 9 {
		t.Errorf("trace time %.1f ms, want at least 10", ms(rep.total))
	}
}
