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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		var ec exitCoder
		code := 1
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "khantara:", msg)
		}
		os.Exit(code)
	}
}

type exitCoder interface{ ExitCode() int }
