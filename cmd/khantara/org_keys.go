package main

// The key file of an organisation: the rotation keys `org init` and `org
// rotate` generate (or a staff key of `org keygen`), as a text file an
// operator backs up offline. The keys are libp2p private keys as
// crypto.MarshalPrivateKey writes them (protobuf), in base64; the file
// adds only lines a person can read and the checks that they agree.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"
)

// keyFileMagic is the first line of a key file that is not a comment.
const keyFileMagic = "khantara-keys 1"

// maxKeyFile bounds what is read of a key file.
const maxKeyFile = 64 << 10

// keyFile is the content of a key file: the organisation and its keys,
// in the file's order (for rotation keys, highest priority first).
type keyFile struct {
	org  peer.ID
	keys []crypto.PrivKey
	ids  []peer.ID
}

// newKeys generates n Ed25519 keys.
func newKeys(n int) (*keyFile, error) {
	kf := &keyFile{}
	for range n {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate a key: %w", err)
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			return nil, err
		}
		kf.keys, kf.ids = append(kf.keys, k), append(kf.ids, id)
	}
	return kf, nil
}

// pubs returns the public keys.
func (kf *keyFile) pubs() []crypto.PubKey {
	out := make([]crypto.PubKey, len(kf.keys))
	for i, k := range kf.keys {
		out[i] = k.GetPublic()
	}
	return out
}

// text returns the file's content; what says what the keys are.
func (kf *keyFile) text(what, name string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Khantara %s. KEEP THIS FILE SECRET, AND BACK IT UP OFFLINE.\n", what)
	fmt.Fprintf(&b, "# Whoever holds these keys can act for the organisation below; without\n")
	fmt.Fprintf(&b, "# them nobody can. Do not leave it on a node. Written %s.\n", now.UTC().Format(time.RFC3339))
	if name != "" {
		fmt.Fprintf(&b, "# Organisation: %s\n", strings.ReplaceAll(name, "\n", " "))
	}
	fmt.Fprintf(&b, "# Lines: \"key PRIORITY PEER-ID PRIVATE-KEY\", the private key as libp2p\n")
	fmt.Fprintf(&b, "# marshals it (crypto.MarshalPrivateKey, protobuf), in base64.\n")
	fmt.Fprintf(&b, "%s\norganisation %s\n", keyFileMagic, kf.org)
	for i, k := range kf.keys {
		raw, err := crypto.MarshalPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("marshal a key: %w", err)
		}
		fmt.Fprintf(&b, "key %d %s %s\n", i, kf.ids[i], base64.StdEncoding.EncodeToString(raw))
	}
	return b.Bytes(), nil
}

// writeKeyFile writes the key file to path, created exclusively with mode
// 0600, or to w when path is "-". It refuses a path inside the node's
// home: the keys must not live only where the node does.
func writeKeyFile(path, homeDir string, w io.Writer, text []byte) error {
	if path == "-" {
		_, err := w.Write(text)
		return err
	}
	if err := outsideHome(path, homeDir); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return cli.Exit(fmt.Sprintf("%s exists already; key files are never overwritten, name a new one", path), exitUsage)
	}
	if err != nil {
		return fmt.Errorf("create the key file: %w", err)
	}
	if _, err := f.Write(text); err != nil {
		f.Close()
		return fmt.Errorf("write the key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write the key file %s: %w", path, err)
	}
	return f.Close()
}

// outsideHome refuses a path inside homeDir (symbolic links resolved
// where they exist).
func outsideHome(path, homeDir string) error {
	resolve := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return filepath.Clean(p)
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return r
		}
		return abs
	}
	file := filepath.Join(resolve(filepath.Dir(path)), filepath.Base(path))
	rel, err := filepath.Rel(resolve(homeDir), file)
	if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return cli.Exit(fmt.Sprintf("%s is inside the node's home %s; write the keys elsewhere (a USB stick, a password manager): a key kept only beside the node is lost with it", path, homeDir), exitUsage)
	}
	return nil
}

// readKeyFile reads a key file. Any problem is one line with exit code 2.
func readKeyFile(path string) (*keyFile, error) {
	raw, err := readLimited(path, maxKeyFile)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("%s: %v", path, unreadError(err)), exitUsage)
	}
	kf, err := parseKeyFile(raw)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("%s is not a Khantara key file: %v", path, err), exitUsage)
	}
	return kf, nil
}

// parseKeyFile parses the text of a key file.
func parseKeyFile(raw []byte) (*keyFile, error) {
	kf := &keyFile{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), maxKeyFile)
	line, magic := 0, false
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !magic {
			if text != keyFileMagic {
				return nil, fmt.Errorf("line %d: want %q first", line, keyFileMagic)
			}
			magic = true
			continue
		}
		if err := kf.parseLine(strings.Fields(text)); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case !magic:
		return nil, fmt.Errorf("no %q line", keyFileMagic)
	case kf.org == "":
		return nil, errors.New("no organisation line")
	case len(kf.keys) == 0:
		return nil, errors.New("no key line")
	}
	return kf, nil
}

// parseLine parses one "organisation ID" or "key N PEER-ID BASE64" line.
func (kf *keyFile) parseLine(f []string) error {
	switch {
	case len(f) == 2 && f[0] == "organisation":
		id, err := protocol.DecodeID(f[1])
		if err != nil || !protocol.IsOrg(id) {
			return fmt.Errorf("%q is not an organisation ID", f[1])
		}
		kf.org = id
		return nil
	case len(f) == 4 && f[0] == "key":
		if n, err := strconv.Atoi(f[1]); err != nil || n != len(kf.keys) {
			return fmt.Errorf("key %s out of order: want key %d", f[1], len(kf.keys))
		}
		raw, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil {
			return fmt.Errorf("the private key is not base64: %w", err)
		}
		k, err := crypto.UnmarshalPrivateKey(raw)
		if err != nil {
			return fmt.Errorf("the private key does not decode: %w", err)
		}
		if k.Type() != crypto.Ed25519 {
			return errors.New("the private key is not an Ed25519 key")
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil || id.String() != f[2] {
			return fmt.Errorf("the private key is not the key of %s (it is %s)", f[2], id)
		}
		kf.keys, kf.ids = append(kf.keys, k), append(kf.ids, id)
		return nil
	}
	return fmt.Errorf("want \"organisation ID\" or \"key N PEER-ID KEY\", got %q", strings.Join(f, " "))
}
