package main

// Edits of the daemon's config file by `org init` and `trust follow`:
// the YAML is edited as a yaml.v3 node tree, so comments and the order of
// keys survive, and written back atomically.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"
	yaml "go.yaml.in/yaml/v3"
)

// configFile is the daemon's config file, parsed for editing.
type configFile struct {
	path string
	raw  []byte
	doc  yaml.Node
	// empty: the file holds no key (only comments, as `khantara init`
	// writes it): new keys are appended to its text, which keeps them.
	empty bool
	perm  fs.FileMode
}

// configPath is the config file the daemon of the invocation reads:
// --config (or KHANTARA_CONFIG), else HOME/config.yaml.
func configPath(c *cli.Context) (string, error) {
	if p := global(c, "config"); p != "" {
		return p, nil
	}
	home, err := requireHome(c)
	if err != nil {
		return "", err
	}
	return layoutOf(home).Config(), nil
}

// openConfig reads the config file of the invocation; a missing file is
// an empty one, created by save.
func openConfig(c *cli.Context) (*configFile, error) {
	path, err := configPath(c)
	if err != nil {
		return nil, err
	}
	f := &configFile{path: path, perm: 0o644}
	f.raw, err = os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read the config file: %w", err)
	default:
		if fi, err := os.Stat(path); err == nil {
			f.perm = fi.Mode().Perm()
		}
	}
	if err := yaml.Unmarshal(f.raw, &f.doc); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML (%v); fix it first: the daemon would refuse it too", path, err)
	}
	if len(f.doc.Content) == 0 {
		f.empty = true
		f.doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	if f.doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s does not hold a mapping of keys; fix it first", path)
	}
	return f, nil
}

// mapping returns the mapping under key in m, created when absent (a
// null or empty value becomes a mapping).
func mapping(m *yaml.Node, key string) (*yaml.Node, error) {
	v := value(m, key)
	switch {
	case v == nil:
		v = &yaml.Node{Kind: yaml.MappingNode}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	case v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == ""):
		*v = yaml.Node{Kind: yaml.MappingNode, HeadComment: v.HeadComment, LineComment: v.LineComment}
	case v.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("%s is not a mapping of keys", key)
	}
	return v, nil
}

// value returns the value of key in mapping m, nil when absent.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setScalar sets key in mapping m to the string s, keeping comments.
func setScalar(m *yaml.Node, key, s string) {
	if v := value(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Style, v.Content = yaml.ScalarNode, "", s, 0, nil
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: s})
}

// scalar returns the string value of key in m, "" when absent.
func scalar(m *yaml.Node, key string) string {
	if v := value(m, key); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return v.Value
	}
	return ""
}

// stringList returns the list under key in m.
func stringList(m *yaml.Node, key string) []string {
	v := value(m, key)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, x := range v.Content {
		out = append(out, x.Value)
	}
	return out
}

// setList sets key in m to the list ss, in block style.
func setList(m *yaml.Node, key string, ss []string) {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range ss {
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s})
	}
	if v := value(m, key); v != nil {
		seq.HeadComment, seq.LineComment = v.HeadComment, v.LineComment
		*v = *seq
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, seq)
}

// root is the file's top-level mapping.
func (f *configFile) root() *yaml.Node { return f.doc.Content[0] }

// save writes the file back atomically (a new file renamed over it).
func (f *configFile) save() error {
	var buf bytes.Buffer
	if f.empty {
		buf.Write(f.raw)
		if len(f.raw) > 0 && !bytes.HasSuffix(f.raw, []byte("\n")) {
			buf.WriteByte('\n')
		}
		if len(f.raw) > 0 {
			buf.WriteByte('\n')
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	var err error
	if f.empty {
		err = enc.Encode(f.root())
	} else {
		err = enc.Encode(&f.doc)
	}
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return fmt.Errorf("encode the config file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("write the config file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(buf.Bytes())
	if err == nil {
		err = tmp.Chmod(f.perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		return fmt.Errorf("write the config file %s: %w", f.path, err)
	}
	return nil
}

// addUnique returns ss with s appended unless present, and whether it
// was added.
func addUnique(ss []string, s string) ([]string, bool) {
	if slices.Contains(ss, s) {
		return ss, false
	}
	return append(ss, s), true
}
