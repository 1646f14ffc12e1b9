package search

import (
	"log/slog"
	"time"
)

type config struct {
	log       *slog.Logger
	now       func() time.Time
	batchSize int
}

func defaultConfig() config {
	return config{
		log:       slog.New(slog.DiscardHandler),
		now:       time.Now,
		batchSize: 1000,
	}
}

// Option configures Open.
type Option func(*config)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock that decides the current year, which ends the
// years of ongoing practices for Query.YearFrom (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithBatchSize sets how many practices one index batch takes, in
// Rebuild and when draining Notify's queue (default 1000).
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = max(1, n) } }
