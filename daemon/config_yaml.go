package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeConfig applies the config file data to cfg. It returns the value
// node of each key set, by key. A key with an empty value (null) keeps its
// default. Errors are "line N: key: problem" or "line N: problem".
func decodeConfig(data []byte, cfg *Config) (map[string]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return map[string]*yaml.Node{}, nil // empty, or only comments
	} else if err != nil {
		return nil, yamlSyntaxError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: a second YAML document; keep one (remove the ---)", extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return map[string]*yaml.Node{}, nil
	}
	d := &configDecoder{cfg: cfg, set: map[string]*yaml.Node{}, keyLine: map[string]int{}}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want keys such as \"network: khantara\", found %s", root.Line, describe(root))
	}
	if err := d.mapping(root, ""); err != nil {
		return nil, err
	}
	return d.set, nil
}

// configDecoder walks the YAML tree of a config file.
type configDecoder struct {
	cfg     *Config
	set     map[string]*yaml.Node // value node by key, for keys with a value
	keyLine map[string]int        // line of every key seen, for duplicates
}

// mapping decodes the keys of m, a section's when section is not "".
func (d *configDecoder) mapping(m *yaml.Node, section string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: want a key name such as network, found %s", k.Line, describe(k))
		}
		key := k.Value
		if section != "" {
			key = section + "." + key
		}
		if first, dup := d.keyLine[key]; dup {
			return fmt.Errorf("line %d: %s: set twice (first on line %d); keep one", k.Line, key, first)
		}
		d.keyLine[key] = k.Line
		s, isSection := lookupSetting(key)
		if s == nil && !isSection {
			return fmt.Errorf("line %d: %s", k.Line, unknownKey(key))
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // key: with no value keeps the default
		}
		if isSection {
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: %s: want the keys %s indented below it, found %s",
					v.Line, key, strings.Join(sectionKeys(key), ", "), describe(v))
			}
			if err := d.mapping(v, key); err != nil {
				return err
			}
			continue
		}
		if err := s.setFromYAML(v, d.cfg); err != nil {
			return fmt.Errorf("line %d: %s: %w", errLine(err, v.Line), key, err)
		}
		d.set[key] = v
	}
	return nil
}

// itemError is a problem with one item of a list, at its line.
type itemError struct {
	line int
	msg  string
}

func (e *itemError) Error() string { return e.msg }

func errLine(err error, line int) int {
	if ie := (*itemError)(nil); errors.As(err, &ie) {
		return ie.line
	}
	return line
}

// setFromYAML sets s's field from the YAML value v; the error does not
// name the key.
func (s *setting) setFromYAML(v *yaml.Node, cfg *Config) error {
	field := s.field(cfg)
	if _, isList := field.(*[]string); !isList && v.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a single value, found %s", describe(v))
	}
	invalid := func() error { return errors.New(s.public(cfg).Invalid(v.Value)) }
	switch p := field.(type) {
	case *string:
		*p = v.Value
	case *[]string:
		if v.Kind == yaml.ScalarNode {
			return fmt.Errorf("want a list, found %s; write [%s] or one \"- ITEM\" line per item", describe(v), v.Value)
		}
		if v.Kind != yaml.SequenceNode {
			return fmt.Errorf("want a list, found %s", describe(v))
		}
		var list []string
		for i, item := range v.Content {
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				return &itemError{item.Line, fmt.Sprintf("item %d: want a single value, found %s", i+1, describe(item))}
			}
			list = append(list, item.Value)
		}
		*p = list
	case *bool:
		if v.Tag != "!!bool" || v.Decode(p) != nil {
			return invalid()
		}
	case *time.Duration:
		d, err := time.ParseDuration(v.Value)
		if err != nil {
			return invalid()
		}
		*p = d
	case *int:
		if v.Tag != "!!int" || v.Decode(p) != nil {
			return invalid()
		}
	}
	return nil
}

// describe names what YAML node n is, for errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "keys"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError turns a YAML parser error into "line N: not valid YAML:
// problem".
func yamlSyntaxError(err error, data []byte) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		msg = "line " + m[1] + ": not valid YAML: " + m[2]
	} else {
		msg = "not valid YAML: " + msg
	}
	if bytes.ContainsRune(data, '\t') {
		msg += " (indent with spaces, not tabs)"
	}
	return errors.New(msg)
}
