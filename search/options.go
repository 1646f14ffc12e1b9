package search

import (
	"log/slog"
	"time"
)

type config struct {
	log       *slog.Logger
	now       func() time.Time
	batchSize int
	gate      func() error
	// batchHook, set by tests, runs before every batch write with the
	// slots of the batch (nil keys: a Rebuild batch); an error fails the
	// write, a panic is a panicking write.
	batchHook func(keys []docKey) error
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
// Rebuild and when following the store's change feed (default 1000).
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = max(1, n) } }

// WithWriteGate sets a function that the index calls before every batch
// it writes (following the feed or rebuilding); while it returns an
// error, the index writes nothing and asks again with bounded backoff
// (100 ms doubling to 10 s, sooner on Notify), and Status reports it
// paused with the error. Use it to stop index writes while the disk is
// nearly full. Default: no gate. gate must be safe for concurrent use
// and quick.
func WithWriteGate(gate func() error) Option { return func(c *config) { c.gate = gate } }
