package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/khantara/khantara/home"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// LoadIdentity reads the node's Ed25519 key from path, creating it (mode
// 0600, in a directory of mode 0700) when the file does not exist. The key
// is both the libp2p host identity and the publisher key.
func LoadIdentity(path string) (crypto.PrivKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createIdentity(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read identity %q: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("identity %q is readable by others (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("identity %q does not hold a libp2p private key: %w", path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("identity %q is a %v key; Khantara needs Ed25519", path, key.Type())
	}
	return key, nil
}

func createIdentity(path string) (crypto.PrivKey, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create identity directory: %w", err)
	}
	if err := home.WriteNew(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("create identity %q: %w", path, err)
	}
	return key, nil
}
