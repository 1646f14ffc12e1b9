package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// shutdownTimeout bounds the graceful shutdown after the first signal.
const shutdownTimeout = 10 * time.Second

// signals counts SIGINT and SIGTERM for a command that runs until it is
// stopped: the first signal starts a graceful shutdown, bounded by
// shutdownTimeout; the second stops the command at once. main's context
// also ends on the first signal. Used by one goroutine.
type signals struct {
	ch      chan os.Signal
	n       int           // signals counted
	timeout time.Duration // bounds the graceful shutdown: shutdownTimeout
}

// notifySignals starts counting signals; call stop when done.
func notifySignals() *signals {
	s := &signals{ch: make(chan os.Signal, 2), timeout: shutdownTimeout}
	signal.Notify(s.ch, os.Interrupt, syscall.SIGTERM)
	return s
}

// stop stops counting.
func (s *signals) stop() { signal.Stop(s.ch) }

// wait returns when ctx ends or a signal arrives, or when stopped is
// closed: what runs stopped on its own, and then it reports true.
func (s *signals) wait(ctx context.Context, stopped <-chan struct{}) bool {
	select {
	case <-ctx.Done():
	case <-s.ch:
		s.n++
	case <-stopped:
		return true
	}
	return false
}

// shutdown waits for done to be closed by a graceful shutdown already
// begun, for at most s.timeout. A second signal gives up at once
// with the error second, the timeout with the error late (both exit code
// 1); nil means done was closed.
func (s *signals) shutdown(done <-chan struct{}, second, late string) error {
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-s.ch:
			// The signal that ended the command's context arrives here too.
			if s.n++; s.n >= 2 {
				return cli.Exit(second, 1)
			}
		case <-timer.C:
			return cli.Exit(late, 1)
		}
	}
}
