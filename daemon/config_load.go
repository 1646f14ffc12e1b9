package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/khantara/khantara/home"
	"go.yaml.in/yaml/v3"
)

// Sources are where Load reads a configuration from besides the defaults.
type Sources struct {
	// Home is the data directory.
	Home string
	// File is the config file named on the command line (--config or
	// KHANTARA_CONFIG): it must exist. "" reads HOME/config.yaml when it
	// exists.
	File string
	// Overrides are values by setting key, from flags and environment
	// variables; each is of the Go type of its setting's Kind.
	Overrides map[string]any
}

// Load returns the configuration: DefaultConfig(src.Home), overridden by
// the config file, overridden by src.Overrides, then validated. The error
// is one line naming the key (and, for a value from the file, the file and
// line) and what to do.
func Load(src Sources) (Config, error) {
	cfg := DefaultConfig(src.Home)
	path, explicit := src.File, src.File != ""
	if !explicit && src.Home != "" {
		path = home.Layout{Root: src.Home}.Config()
	}
	fromFile := map[string]*yaml.Node{}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !explicit:
			path = ""
		case errors.Is(err, fs.ErrNotExist):
			return cfg, fmt.Errorf("config %s: no such file; fix --config or KHANTARA_CONFIG, or unset both to read HOME/%s", path, home.ConfigFile)
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return cfg, fmt.Errorf("config %s: cannot read it: %v", path, err)
		default:
			if fromFile, err = decodeConfig(data, &cfg); err != nil {
				return cfg, fmt.Errorf("config %s: %w", path, err)
			}
		}
	}
	for key, v := range src.Overrides {
		s, _ := lookupSetting(key)
		if s == nil {
			return cfg, fmt.Errorf("%s", unknownKey(key))
		}
		if err := s.set(&cfg, v); err != nil {
			return cfg, err
		}
		delete(fromFile, key)
	}
	cfg.File = path
	if err := cfg.Validate(); err != nil {
		if line := fileLine(err, fromFile); line > 0 {
			return cfg, fmt.Errorf("config %s: line %d: %w", path, line, err)
		}
		return cfg, err
	}
	return cfg, nil
}

// fileLine is the line of the config file that holds the value err is
// about, or 0 when that value did not come from the file. err starts with
// the key, or keys separated by ", ", then ": ". For a list, the line is
// that of the item err quotes.
func fileLine(err error, fromFile map[string]*yaml.Node) int {
	keys, _, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return 0
	}
	line := 0
	for _, k := range strings.Split(keys, ", ") {
		v := fromFile[k]
		if v == nil {
			continue
		}
		l := v.Line
		for _, item := range v.Content {
			if strings.Contains(err.Error(), strconv.Quote(item.Value)) {
				l = item.Line
				break
			}
		}
		if line == 0 || l < line {
			line = l
		}
	}
	return line
}
