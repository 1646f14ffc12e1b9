package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.yaml.in/yaml/v3"
)

// ParseSheet reads a fact sheet written by staff, in YAML or JSON (JSON is
// read as the YAML it also is), and validates it. It returns nil and a
// *ValidationError listing every problem at once, unknown keys and wrong
// types included, each with its field path and source line.
func ParseSheet(data []byte) (*FactSheet, error) { return parse[FactSheet](data) }

// ParseProfile is ParseSheet for a publisher profile.
func ParseProfile(data []byte) (*Profile, error) { return parse[Profile](data) }

func parse[T any, PT interface {
	*T
	Validate() error
}](data []byte) (*T, error) {
	d, err := read[T](data, "")
	if err != nil {
		return nil, err
	}
	if err := d.Explain(PT(d.Value).Validate()); err != nil {
		return nil, err
	}
	return d.Value, nil
}

// merge combines shape problems (unknown keys, wrong types) with the rule
// problems found in the rest of the document, dropping rule problems about
// a field that already has a shape problem, and orders them by line.
func merge(shape []FieldError, rules error) error {
	var ve *ValidationError
	if rules != nil && !errors.As(rules, &ve) {
		return rules
	}
	all := slices.Clone(shape)
	if ve != nil {
	next:
		for _, p := range ve.Problems {
			for _, sp := range shape {
				if p.Path == sp.Path || strings.HasPrefix(p.Path, sp.Path+".") || strings.HasPrefix(p.Path, sp.Path+"[") {
					continue next
				}
			}
			all = append(all, p)
		}
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortStableFunc(all, func(a, b FieldError) int { return a.Line - b.Line })
	return &ValidationError{Problems: all}
}

// parseDocument converts one YAML document to JSON while checking it against
// the shape of dst (a pointer to struct), leaving out every value of the
// wrong shape, then decodes the JSON into dst. It returns the source line of
// every field path it saw and the shape problems; err is for documents that
// cannot be read at all.
func parseDocument(data []byte, dst any) (map[string]int, []FieldError, error) {
	if len(data) > MaxSheetFileSize {
		return nil, nil, fmt.Errorf("%w: file is %d bytes, limit %d", ErrTooLarge, len(data), MaxSheetFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, &ValidationError{Problems: []FieldError{{Msg: "the file is empty"}}}
		}
		return nil, nil, &ValidationError{Problems: []FieldError{{Msg: "not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: "), Line: yamlErrLine(err)}}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, &ValidationError{Problems: []FieldError{{Msg: "the file holds more than one document; put one sheet per file", Line: extra.Line}}}
	}
	c := converter{lines: map[string]int{}}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, &ValidationError{Problems: []FieldError{{Msg: "the document must be a mapping of keys to values", Line: root.Line}}}
	}
	c.value(root, reflect.TypeOf(dst).Elem(), "")
	if err := json.Unmarshal(c.buf.Bytes(), dst, payloadOptions); err != nil {
		// The converter checked the shape, so this is a value the JSON
		// decoder refuses for its own reasons (an integer overflow, say).
		path := ""
		var se *json.SemanticError
		if errors.As(err, &se) {
			path = pointerPath(se.JSONPointer)
			if se.Err != nil {
				err = se.Err
			}
		}
		return nil, nil, &ValidationError{Problems: append(c.p.list, FieldError{Path: path, Msg: err.Error(), Line: c.lines[path]})}
	}
	return c.lines, c.p.list, nil
}

// converter walks YAML nodes against a Go type, writing JSON and collecting
// every shape problem with its path and line.
type converter struct {
	buf   bytes.Buffer
	p     problems
	lines map[string]int
}

func (c *converter) fail(n *yaml.Node, path, format string, args ...any) {
	c.p.list = append(c.p.list, FieldError{Path: path, Msg: fmt.Sprintf(format, args...), Line: n.Line})
}

// bad records a problem with a value and writes null in its place, so the
// rest of the document still decodes and gets checked.
func (c *converter) bad(n *yaml.Node, path, format string, args ...any) {
	c.fail(n, path, format, args...)
	c.buf.WriteString("null")
}

func (c *converter) value(n *yaml.Node, t reflect.Type, path string) {
	c.lines[path] = n.Line
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		c.bad(n, path, "YAML anchors and aliases are not supported; write the value out")
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case peerIDType:
		c.publisherID(n, path)
		return
	case degreesType:
		c.degrees(n, path)
		return
	case locationType:
		if n.Kind != yaml.MappingNode {
			c.locationText(n, path)
			return
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		c.structValue(n, t, path)
	case reflect.Map:
		c.mapValue(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.bad(n, path, "must be a list such as [a, b], got %s", describe(n))
			return
		}
		c.buf.WriteByte('[')
		for i, e := range n.Content {
			if i > 0 {
				c.buf.WriteByte(',')
			}
			c.value(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
		c.buf.WriteByte(']')
	case reflect.String:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			c.bad(n, path, "must be text, got %s", describe(n))
			return
		}
		writeString(&c.buf, n.Value)
	case reflect.Int, reflect.Int64, reflect.Uint64:
		var f float64
		if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") && n.Decode(&f) == nil &&
			f == math.Trunc(f) && math.Abs(f) < 1<<53 && (f >= 0 || t.Kind() != reflect.Uint64) {
			c.buf.WriteString(strconv.FormatInt(int64(f), 10))
			return
		}
		c.bad(n, path, "must be a whole number, got %s", describe(n))
	case reflect.Float64:
		var f float64
		if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") && n.Decode(&f) == nil &&
			!math.IsInf(f, 0) && !math.IsNaN(f) {
			c.buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return
		}
		c.bad(n, path, "must be a number, got %s", describe(n))
	case reflect.Bool:
		var b bool
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && n.Decode(&b) == nil {
			c.buf.WriteString(strconv.FormatBool(b))
			return
		}
		c.bad(n, path, "must be true or false, got %s", describe(n))
	default:
		c.bad(n, path, "cannot be read from a sheet")
	}
}

// peerIDType is the type of publisher IDs, which a document writes as
// text.
var peerIDType = reflect.TypeFor[peer.ID]()

// publisherID converts a publisher ID: text that DecodeID reads.
func (c *converter) publisherID(n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		if _, err := DecodeID(n.Value); err == nil {
			writeString(&c.buf, n.Value)
			return
		}
	}
	c.bad(n, path, "must be a publisher ID (an organisation ID, or a key's ID such as 12D3KooW…), got %s", describe(n))
}

// structValue converts a mapping node to the struct type t.
func (c *converter) structValue(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		c.bad(n, path, "must be a mapping of keys to values, got %s", describe(n))
		return
	}
	fields := structFields(t)
	c.buf.WriteByte('{')
	first := true
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields.byName[k.Value]
		kp := join(path, k.Value)
		if l, dup := seen[k.Value]; dup {
			c.fail(k, kp, "appears twice (first on line %d); keep one", l)
			continue
		}
		seen[k.Value] = k.Line
		if !ok || k.Kind != yaml.ScalarNode {
			c.fail(k, kp, "unknown field%s", didYouMean(k.Value, fields.names))
			continue
		}
		if isNull(v) || f == locationPtrType && v.Kind == yaml.MappingNode && len(v.Content) == 0 {
			// Absent, or a location written empty: left out, so the
			// sheet stays a v1 record (PROTOCOL.md 4.1, 12.8).
			c.lines[kp] = v.Line
			continue
		}
		if !first {
			c.buf.WriteByte(',')
		}
		first = false
		writeString(&c.buf, k.Value)
		c.buf.WriteByte(':')
		c.value(v, f, kp)
	}
	c.buf.WriteByte('}')
}

// mapValue converts a mapping node to the map type t.
func (c *converter) mapValue(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		c.bad(n, path, "must be a mapping, got %s", describe(n))
		return
	}
	c.buf.WriteByte('{')
	first := true
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if l, dup := seen[k.Value]; dup {
			c.fail(k, join(path, k.Value), "appears twice (first on line %d); keep one", l)
			continue
		}
		seen[k.Value] = k.Line
		if k.Kind != yaml.ScalarNode {
			c.fail(k, path, "keys must be text")
			continue
		}
		if !first {
			c.buf.WriteByte(',')
		}
		first = false
		writeString(&c.buf, k.Value)
		c.buf.WriteByte(':')
		c.value(v, t.Elem(), join(path, k.Value))
	}
	c.buf.WriteByte('}')
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(truncate(n.Value, 40))
	}
	return "an alias"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func writeString(b *bytes.Buffer, s string) {
	out, _ := jsontext.AppendQuote(b.AvailableBuffer(), s)
	b.Write(out)
}

type fieldSet struct {
	byName map[string]reflect.Type
	names  []string
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// structFields lists the JSON names of a struct's fields.
func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string]reflect.Type{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fs.byName[name] = f.Type
		fs.names = append(fs.names, name)
	}
	fieldCache.Store(t, fs)
	return fs
}

// didYouMean names the closest known field, for typos.
func didYouMean(got string, names []string) string {
	if best := Closest(got, names); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// pointerPath turns a JSON pointer (/links/0/url) into a field path (links[0].url).
func pointerPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// withLines adds source lines to a validation error's problems.
func withLines(err error, lines map[string]int) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for i := range ve.Problems {
		path := ve.Problems[i].Path
		for path != "" {
			if l, ok := lines[path]; ok {
				ve.Problems[i].Line = l
				break
			}
			path = parentPath(path)
		}
	}
	return err
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func yamlErrLine(err error) int {
	// yaml.v3 syntax errors read "yaml: line N: ...".
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		if j := strings.IndexByte(rest, ':'); j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil {
				return n
			}
		}
	}
	return 0
}
