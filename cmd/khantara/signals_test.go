package main

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestSignals drives the one shutdown loop with signals sent on its
// channel: the first signal ends the wait, the second one during the
// shutdown gives up at once (exit 1), a shutdown past the timeout gives
// up (exit 1), and one that finishes returns nil.
func TestSignals(t *testing.T) {
	newSignals := func() *signals {
		return &signals{ch: make(chan os.Signal, 2), timeout: 200 * time.Millisecond}
	}
	exitOf := func(err error) (int, string) {
		var ec exitCoder
		if !errors.As(err, &ec) {
			return 0, ""
		}
		return ec.ExitCode(), err.Error()
	}

	t.Run("first signal, then a clean stop", func(t *testing.T) {
		s := newSignals()
		stopped := make(chan struct{})
		s.ch <- os.Interrupt
		if s.wait(context.Background(), stopped) {
			t.Fatal("wait says it stopped on its own")
		}
		close(stopped)
		if err := s.shutdown(stopped, "second", "late"); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	})
	t.Run("stopped on its own", func(t *testing.T) {
		s := newSignals()
		stopped := make(chan struct{})
		close(stopped)
		if !s.wait(context.Background(), stopped) {
			t.Fatal("wait missed the stop")
		}
	})
	t.Run("second signal", func(t *testing.T) {
		s := newSignals()
		s.ch <- os.Interrupt
		s.wait(context.Background(), nil)
		s.ch <- os.Interrupt
		code, msg := exitOf(s.shutdown(make(chan struct{}), "second signal: stopped", "late"))
		if code != 1 || msg != "second signal: stopped" {
			t.Errorf("exit %d %q, want 1 and the second-signal message", code, msg)
		}
	})
	t.Run("the context's signal is counted once", func(t *testing.T) {
		s := newSignals()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.wait(ctx, nil)     // main's context ended on the signal ...
		s.ch <- os.Interrupt // ... which arrives here too
		start := time.Now()
		code, msg := exitOf(s.shutdown(make(chan struct{}), "second", "too late"))
		if code != 1 || msg != "too late" || time.Since(start) < s.timeout {
			t.Errorf("exit %d %q after %v; want the timeout's message after %v", code, msg, time.Since(start), s.timeout)
		}
	})
}
