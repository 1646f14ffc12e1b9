package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/node"
)

// DefaultAPIAddr is where the local API listens unless the api setting
// says otherwise.
const DefaultAPIAddr = "127.0.0.1:7118"

// Config is a daemon's configuration: plain data, validated as a whole by
// Validate before New uses it. DefaultConfig documents every default.
type Config struct {
	// Node configures the node: its data directory, network, peers,
	// trust policy, quotas and intervals.
	Node node.Config
	// API is the HOST:PORT of the local HTTP API; port 0 picks a free
	// port. Default DefaultAPIAddr.
	API string
	// Limits bound what the API's clients can hold of the server. Not a
	// key of the config file. Default api.DefaultLimits().
	Limits api.Limits
	// MemoryLimitMiB is the soft limit, in MiB, of the memory the Go
	// runtime manages (heap, stacks; not the pages of memory-mapped
	// files, which the kernel reclaims): near it the garbage collector
	// works harder instead of letting the heap grow, which keeps the
	// daemon's peak resident set down during an index rebuild.
	// ApplyMemoryLimit sets it; the GOMEMLIMIT environment variable, if
	// set, wins. 0 sets no limit. Default DefaultMemoryLimitMiB.
	MemoryLimitMiB int
	// Log configures the daemon's log.
	Log LogConfig
	// File is the config file Load read; "" when none was. Informative
	// only.
	File string
}

// LogConfig configures the daemon's log.
type LogConfig struct {
	// Level is the least severe level logged: debug, info (default), warn
	// or error, in any case.
	Level string
	// Format is text (default: key=value lines) or json (one object a
	// line), in any case.
	Format string
}

// DefaultConfig returns the defaults, with home as the data directory:
// node.DefaultConfig, the API on DefaultAPIAddr with api.DefaultLimits,
// a soft memory limit of DefaultMemoryLimitMiB, info-level text logs.
func DefaultConfig(home string) Config {
	return Config{
		Node:           node.DefaultConfig(home),
		API:            DefaultAPIAddr,
		Limits:         api.DefaultLimits(),
		MemoryLimitMiB: DefaultMemoryLimitMiB,
		Log:            LogConfig{Level: "info", Format: "text"},
	}
}

// logLevels are the values of log.level.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Validate checks the whole configuration and returns the first problem as
// an error that starts with the key and says what to do.
func (c *Config) Validate() error {
	if err := c.Node.Validate(); err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(c.API)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		return fmt.Errorf("api: %q is not HOST:PORT; write e.g. %s", c.API, DefaultAPIAddr)
	}
	if err := validateMemoryLimit(c.MemoryLimitMiB); err != nil {
		return err
	}
	if _, ok := logLevels[strings.ToLower(c.Log.Level)]; !ok {
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch strings.ToLower(c.Log.Format) {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is neither \"text\" nor \"json\"", c.Log.Format)
	}
	return nil
}

// NewLogger returns a logger writing to w in the format and from the
// level of c, which Validate has checked (an unknown level logs from info,
// an unknown format writes text).
func NewLogger(w io.Writer, c LogConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[strings.ToLower(c.Level)]}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
