// Command khantara runs and drives a Khantara node: a peer of the federated
// catalogue of migrant-integration practices. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/khantara/khantara/api"
)

// Exit codes of the commands; main maps an error to its code (exitCode).
const (
	exitFailed   = 1 // the operation failed
	exitUsage    = 2 // bad input: an invalid sheet, a bad flag or argument
	exitNoDaemon = 3 // no daemon is running for the home directory
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		code := exitCode(err)
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "khantara:", msg)
		}
		os.Exit(code)
	}
}

type exitCoder interface{ ExitCode() int }

// exitCode is err's exit code: the code it carries (cli.Exit), else
// exitNoDaemon when no daemon answers, else exitFailed (the daemon
// refused or failed the operation, or anything else failed).
func exitCode(err error) int {
	var ec exitCoder
	var re *api.ResponseError
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, api.ErrDaemonNotRunning):
		return exitNoDaemon
	case errors.As(err, &re):
		return exitFailed
	}
	return exitFailed
}
