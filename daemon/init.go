package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/configs"
	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/node"
	"github.com/libp2p/go-libp2p/core/peer"
)

// CheckNetwork returns the configuration's error for the network name
// (naming the key and the rule), or nil when a node in root may use it.
func CheckNetwork(root, name string) error {
	cfg := node.DefaultConfig(root)
	cfg.Network = name
	return cfg.Validate()
}

// Init creates the data directory root (mode 0700) with a new identity
// key, the API token and the config file cfgPath, which holds the example
// configuration (configs.Example), with its network set to network unless
// that is empty (check it first with CheckNetwork). It never overwrites:
// when the identity key or the config file exists it returns an error
// matching ErrInitialised and changes nothing; on any other failure it
// removes what it created. It returns the new node's peer ID.
func Init(root, cfgPath, network string) (peer.ID, error) {
	keyPath := home.Layout{Root: root}.Identity()
	for _, p := range []string{keyPath, cfgPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", &initialisedError{path: p}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	cfgText := configs.Example
	if network != "" {
		cfgText = SetNetwork(cfgText, network)
	}
	return createHome(root, keyPath, cfgPath, cfgText)
}

// initialisedError names the file that makes a home initialised; it
// matches ErrInitialised.
type initialisedError struct{ path string }

func (e *initialisedError) Error() string {
	return e.path + " already exists; init changes nothing in an initialised home (use another --home, or move the file away)"
}

func (e *initialisedError) Is(target error) bool { return target == ErrInitialised }

// createHome makes root (0700) and writes the identity key, the API token
// and the config file. On failure it removes what it created.
func createHome(root, keyPath, cfgPath string, cfgText []byte) (peer.ID, error) {
	var created []string
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i])
		}
	}
	for _, dir := range []string{root, filepath.Dir(cfgPath)} {
		made, err := mkdirAllTracked(dir)
		created = append(created, made...)
		if err != nil {
			undo()
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
	}
	key, err := node.LoadIdentity(keyPath)
	if err != nil {
		undo()
		return "", err
	}
	created = append(created, keyPath)
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		undo()
		return "", err
	}
	tokPath := home.Layout{Root: root}.APIToken()
	_, statErr := os.Lstat(tokPath)
	if _, err := api.LoadToken(tokPath); err != nil {
		undo()
		return "", err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		created = append(created, tokPath)
	}
	if err := home.WriteNew(cfgPath, cfgText, 0o644); err != nil {
		undo()
		return "", err
	}
	return id, nil
}

// mkdirAllTracked is os.MkdirAll with mode 0700 that returns the
// directories it created, deepest last.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}

var (
	// networkLine matches the top-level network key of a config file.
	networkLine = regexp.MustCompile(`(?m)^network:[^\n]*$`)
	// commentedNetworkLine matches it commented out with a value, as an
	// example config shows a default: "# network: khantara".
	commentedNetworkLine = regexp.MustCompile(`(?m)^#[ \t]*network:[ \t]*[a-z0-9-]+[ \t]*$`)
)

// SetNetwork returns the config text with its top-level network key set
// to name: the key's line is replaced, keeping a trailing comment; a
// commented-out "# network: VALUE" line is replaced when there is no key;
// else the key is appended. name must be a valid network name (no quoting
// needed).
func SetNetwork(text []byte, name string) []byte {
	if loc := networkLine.FindIndex(text); loc != nil {
		line := string(text[loc[0]:loc[1]])
		repl := "network: " + name
		if i := strings.Index(line, " #"); i >= 0 {
			for i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
				i--
			}
			repl += line[i:]
		}
		return bytes.Join([][]byte{text[:loc[0]], []byte(repl), text[loc[1]:]}, nil)
	}
	if loc := commentedNetworkLine.FindIndex(text); loc != nil {
		return bytes.Join([][]byte{text[:loc[0]], []byte("network: " + name), text[loc[1]:]}, nil)
	}
	out := bytes.Clone(text)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, "\nnetwork: "+name+"\n"...)
}
