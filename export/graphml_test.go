package export

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The GraphML document as a reader decodes it, namespace checked.
type tGraphML struct {
	XMLName xml.Name `xml:"http://graphml.graphdrawing.org/xmlns graphml"`
	Keys    []struct {
		ID   string `xml:"id,attr"`
		For  string `xml:"for,attr"`
		Name string `xml:"attr.name,attr"`
		Type string `xml:"attr.type,attr"`
	} `xml:"http://graphml.graphdrawing.org/xmlns key"`
	Graphs []struct {
		ID          string `xml:"id,attr"`
		EdgeDefault string `xml:"edgedefault,attr"`
		Items       []struct {
			XMLName xml.Name
			ID      string  `xml:"id,attr"`
			Source  string  `xml:"source,attr"`
			Target  string  `xml:"target,attr"`
			Data    []tData `xml:"http://graphml.graphdrawing.org/xmlns data"`
		} `xml:",any"`
	} `xml:"http://graphml.graphdrawing.org/xmlns graph"`
}

type tData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

// ncName is an XML NCName made of the characters the IDs use.
var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]*$`)

// readGraphML checks the structure GraphML 1.0 defines for what the
// export writes, as its schema (graphml-structure.xsd and
// graphml-attributes.xsd) and the primer state it, and returns the
// nodes' and edges' attributes by ID, edges also with "source" and
// "target": keys with unique IDs, for node or edge and a GraphML
// attribute type; one directed graph; unique node IDs that are XML
// names; every edge's ends declared before it; every <data> naming a
// key declared for its element, once, with a value of the key's type.
func readGraphML(tb testing.TB, doc []byte) (nodes, edges map[string]map[string]string) {
	tb.Helper()
	var g tGraphML
	if err := xml.Unmarshal(doc, &g); err != nil {
		tb.Fatalf("the GraphML does not decode: %v", err)
	}
	if !bytes.HasPrefix(doc, []byte(xml.Header)) {
		tb.Errorf("no XML declaration: %.60q", doc)
	}
	type key struct{ name, typ, what string }
	keys := map[string]key{}
	for _, k := range g.Keys {
		if _, dup := keys[k.ID]; dup || !ncName.MatchString(k.ID) {
			tb.Errorf("key ID %q repeated or not an XML name", k.ID)
		}
		if k.For != "node" && k.For != "edge" || !slices.Contains([]string{"boolean", "int", "long", "float", "double", "string"}, k.Type) || k.Name == "" {
			tb.Errorf("key %s: for %q, attr.type %q, attr.name %q", k.ID, k.For, k.Type, k.Name)
		}
		keys[k.ID] = key{k.Name, k.Type, k.For}
	}
	if len(g.Graphs) != 1 || g.Graphs[0].EdgeDefault != "directed" || g.Graphs[0].ID == "" {
		tb.Fatalf("want one directed graph, got %d", len(g.Graphs))
	}
	nodes, edges = map[string]map[string]string{}, map[string]map[string]string{}
	for _, it := range g.Graphs[0].Items {
		what := it.XMLName.Local
		if it.XMLName.Space != nsGraphML || what != "node" && what != "edge" && what != "desc" {
			tb.Fatalf("unexpected element %v in the graph", it.XMLName)
		}
		if what == "desc" {
			continue
		}
		attrs := map[string]string{}
		for _, d := range it.Data {
			k, ok := keys[d.Key]
			if !ok || k.what != what {
				tb.Fatalf("%s %s: data for key %q, which is not declared for %ss", what, it.ID, d.Key, what)
			}
			if _, dup := attrs[k.name]; dup {
				tb.Errorf("%s %s: key %s given twice", what, it.ID, d.Key)
			}
			checkTyped(tb, k.typ, d.Value)
			attrs[k.name] = d.Value
		}
		if !ncName.MatchString(it.ID) {
			tb.Errorf("%s ID %q is not an XML name", what, it.ID)
		}
		if what == "node" {
			if nodes[it.ID] != nil {
				tb.Errorf("node %s declared twice", it.ID)
			}
			nodes[it.ID] = attrs
			continue
		}
		if nodes[it.Source] == nil || nodes[it.Target] == nil {
			tb.Errorf("edge %s: from %q to %q, not both declared before it", it.ID, it.Source, it.Target)
		}
		if edges[it.ID] != nil {
			tb.Errorf("edge %s declared twice", it.ID)
		}
		attrs["source"], attrs["target"] = it.Source, it.Target
		edges[it.ID] = attrs
	}
	return nodes, edges
}

func checkTyped(tb testing.TB, typ, v string) {
	tb.Helper()
	var err error
	switch typ {
	case "boolean":
		if v != "true" && v != "false" {
			tb.Errorf("boolean %q", v)
		}
	case "int":
		_, err = strconv.ParseInt(v, 10, 32)
	case "long":
		_, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil {
		tb.Errorf("%s %q: %v", typ, v, err)
	}
}

// TestGraphMLRoundTrip reads the GraphML back and compares it with the
// store's live adaptations: one edge per adaptation with the attributes
// of its CSV row, from the practice adapted to the practice that
// resulted or the adaptation's own node; every node with its kind,
// status and, for a practice held here, its title and place.
func TestGraphMLRoundTrip(t *testing.T) {
	f := newExpFixture(t)
	var buf bytes.Buffer
	n, err := GraphML(&buf, StoreExperiences(f.st), Options{Profiles: StoreProfiles(f.st), Practices: f.st.Get})
	if err != nil {
		t.Fatal(err)
	}
	nodes, edges := readGraphML(t, buf.Bytes())
	want := f.adaptations()
	if n != len(want) || len(edges) != len(want) {
		t.Fatalf("%d edges (n=%d), want %d", len(edges), n, len(want))
	}
	wantNodes := map[string]bool{}
	for _, sg := range want {
		e := sg.Announcement().Experience
		exp := f.wantEdge(t, sg)
		got := edges["edge."+sg.Announcement().Publisher.String()+"."+e.ID]
		if got == nil {
			t.Fatalf("no edge for %s", sg.Slot())
		}
		for name, w := range exp {
			if strings.HasPrefix(name, "from_") || strings.HasPrefix(name, "to_") || name == "text" || name == "translations" {
				continue // on the nodes, or in the CSV and JSONL only
			}
			if got[name] != w {
				t.Errorf("edge %s: %s = %q, want %q", sg.Slot(), name, got[name], w)
			}
		}
		if got["label"] != e.Title {
			t.Errorf("edge %s: label %q", sg.Slot(), got["label"])
		}
		from := nodes[exp["source"]]
		if from["kind"] != "practice" || from["status"] != exp["from_status"] || from["title"] != exp["from_title"] ||
			from["country"] != exp["from_country"] || from["city"] != exp["from_city"] || from["practice_id"] != e.About.ID ||
			from["publisher"] != exp["from_publisher"] || from["publisher_name"] != exp["from_publisher_name"] {
			t.Errorf("node %s: %v; want the practice as the row has it: %v", exp["source"], from, exp)
		}
		to := nodes[exp["target"]]
		switch {
		case e.Practice.ID != "":
			if to["kind"] != "practice" || to["status"] != exp["to_status"] || to["practice_id"] != e.Practice.ID || to["title"] != exp["to_title"] {
				t.Errorf("node %s: %v", exp["target"], to)
			}
		case to["kind"] != "adaptation" || to["publisher"] != exp["adapter"] || to["title"] != e.Title || to["country"] != e.Country || to["experience_id"] != e.ID:
			t.Errorf("node %s: %v, want the adaptation %s", exp["target"], to, sg.Slot())
		}
		wantNodes[exp["source"]], wantNodes[exp["target"]] = true, true
	}
	if len(nodes) != len(wantNodes) {
		t.Errorf("%d nodes, want %d (the ends of the edges)", len(nodes), len(wantNodes))
	}
}

// networkxScript reads a GraphML file with networkx and prints what it
// read as JSON: {"directed", "nodes": {id: attrs}, "edges": [[u, v, attrs]]}.
const networkxScript = `
import json, sys
import networkx as nx
g = nx.read_graphml(sys.argv[1])
print(json.dumps({"directed": g.is_directed(),
  "nodes": {n: d for n, d in g.nodes(data=True)},
  "edges": [[u, v, d] for u, v, d in g.edges(data=True)]}))
`

// TestGraphMLLoadsInNetworkx loads the export with networkx, as a
// network researcher would, when the machine has python3 and networkx:
// the same nodes and edges, typed attributes read as their types.
func TestGraphMLLoadsInNetworkx(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	if err := exec.Command(python, "-c", "import networkx").Run(); err != nil {
		t.Skip("networkx is not installed (pip install networkx, or Debian's python3-networkx)")
	}
	f := newExpFixture(t)
	var buf bytes.Buffer
	if _, err := GraphML(&buf, StoreExperiences(f.st), Options{Profiles: StoreProfiles(f.st), Practices: f.st.Get}); err != nil {
		t.Fatal(err)
	}
	nodes, edges := readGraphML(t, buf.Bytes())
	file := filepath.Join(t.TempDir(), "adaptations.graphml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", networkxScript, file).Output()
	if err != nil {
		t.Fatalf("networkx does not read the export: %v", err)
	}
	var g struct {
		Directed bool                      `json:"directed"`
		Nodes    map[string]map[string]any `json:"nodes"`
		Edges    [][3]json.RawMessage      `json:"edges"`
	}
	if err := json.Unmarshal(out, &g); err != nil {
		t.Fatal(err)
	}
	if !g.Directed || len(g.Nodes) != len(nodes) || len(g.Edges) != len(edges) {
		t.Fatalf("networkx read %d nodes and %d edges (directed %v); the file has %d and %d", len(g.Nodes), len(g.Edges), g.Directed, len(nodes), len(edges))
	}
	for id, attrs := range nodes {
		if g.Nodes[id]["title"] != nil && g.Nodes[id]["title"] != attrs["title"] || g.Nodes[id]["status"] != attrs["status"] {
			t.Errorf("node %s: networkx read %v, the file says %v", id, g.Nodes[id], attrs)
		}
	}
	seen := 0
	for _, e := range g.Edges {
		var u, v string
		var attrs map[string]any
		if json.Unmarshal(e[0], &u) != nil || json.Unmarshal(e[1], &v) != nil || json.Unmarshal(e[2], &attrs) != nil {
			t.Fatalf("edge %s", e)
		}
		want := edges[attrs["id"].(string)]
		if want == nil {
			// networkx keeps the GraphML edge ID as "id" only for a
			// multigraph; otherwise find the edge by its ends.
			for _, w := range edges {
				if w["source"] == u && w["target"] == v && w["slot"] == attrs["slot"] {
					want = w
				}
			}
		}
		if want == nil || want["source"] != u || want["target"] != v {
			t.Fatalf("networkx edge %s -> %s %v matches no edge of the file", u, v, attrs)
		}
		if y, ok := attrs["start_year"].(float64); !ok || strconv.Itoa(int(y)) != want["start_year"] {
			t.Errorf("edge %s: start_year read as %v (%T), want the int %s", want["slot"], attrs["start_year"], attrs["start_year"], want["start_year"])
		}
		if o, ok := attrs["ongoing"]; ok && o != (want["ongoing"] == "true") {
			t.Errorf("edge %s: ongoing read as %v, want the boolean %s", want["slot"], o, want["ongoing"])
		}
		seen++
	}
	if seen != len(edges) {
		t.Errorf("checked %d edges of %d", seen, len(edges))
	}
}
