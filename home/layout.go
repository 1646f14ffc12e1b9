package home

import (
	"os"
	"path/filepath"
)

// The names of the entries of a data directory. Layout joins them to its
// root; code elsewhere uses Layout, not these names, except to mention a
// file in a message.
const (
	// IdentityFile holds the node's Ed25519 key (mode 0600): its libp2p
	// identity and its publisher key.
	IdentityFile = "identity.key"
	// ConfigFile is the config file the daemon reads when no other is
	// named.
	ConfigFile = "config.yaml"
	// StoreDir holds the Badger store: records and their indexes.
	StoreDir = "store"
	// IndexDir holds the search index, derived from the store.
	IndexDir = "index"
	// APIFile holds the running daemon's API address (HOST:PORT); it
	// exists only while the daemon runs.
	APIFile = "api"
	// APITokenFile holds the local API's bearer token (mode 0600).
	APITokenFile = "api.token"
)

// Layout names the entries of the data directory at Root. The zero value
// (Root "") names files relative to the working directory. Layout is
// plain data, safe to copy and to use from any goroutine.
type Layout struct {
	// Root is the data directory.
	Root string
}

// Identity is the path of the node's key, HOME/identity.key.
func (l Layout) Identity() string { return l.join(IdentityFile) }

// Config is the path of the default config file, HOME/config.yaml.
func (l Layout) Config() string { return l.join(ConfigFile) }

// Store is the directory of the store, HOME/store.
func (l Layout) Store() string { return l.join(StoreDir) }

// Index is the directory of the search index, HOME/index.
func (l Layout) Index() string { return l.join(IndexDir) }

// API is the path of the file holding the running daemon's API address,
// HOME/api.
func (l Layout) API() string { return l.join(APIFile) }

// APIToken is the path of the API's bearer token, HOME/api.token.
func (l Layout) APIToken() string { return l.join(APITokenFile) }

func (l Layout) join(name string) string { return filepath.Join(l.Root, name) }

// DefaultRoot is the data directory used when none is given:
// $XDG_DATA_HOME/khantara when XDG_DATA_HOME is an absolute path, else
// ~/.local/share/khantara; "" when neither is known.
func DefaultRoot() string {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "khantara")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "khantara")
	}
	return ""
}
