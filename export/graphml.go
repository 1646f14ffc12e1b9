package export

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The GraphML namespace and the schema location GraphML files name.
const (
	nsGraphML     = "http://graphml.graphdrawing.org/xmlns"
	schemaGraphML = "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
	nsXSI         = "http://www.w3.org/2001/XMLSchema-instance"
)

// GraphML writes the adaptation graph of the live adaptation records of
// recs to w as a GraphML 1.0 document (other records are skipped) and
// returns the number of edges written, one per adaptation. The graph is
// directed, its ID "adaptations"; nodes and edges are those of
// AdaptationsCSV, with the same IDs (see adaptations.go), and every node
// comes before the first edge that names it, so that streaming readers
// find it declared.
//
// Node attributes (GraphML keys for="node"; a value the record or the
// practice does not give is left out):
//
//	label           the title, else the ID (Gephi shows it)
//	kind            "practice" or "adaptation"
//	publisher       the practice's publisher; an adaptation's author
//	publisher_name  its name (opts.Chains, else opts.Profiles)
//	practice_id     a practice's ID
//	experience_id   an adaptation's ID (an adaptation node's only)
//	title, country, region, city
//	                a practice's, when held here; an adaptation's own
//	status          held, retracted or not_held for a practice (held
//	                for an adaptation: its record is held here)
//
// Edge attributes (for="edge"): label (the title), adapter,
// adapter_name, experience_id, slot, language, title, country, region, city,
// start_year and end_year (int), ongoing (boolean), achievement,
// evaluation, changes, outcomes, about_seq and seq (long), signed_at,
// received_at (RFC 3339), received_from, hash, signer: the columns of
// AdaptationsCSV of the same names.
//
// Memory grows with the number of nodes written (their IDs are
// remembered), not with the catalogue. An error from recs or a look-up
// aborts the export and is returned, with the number of edges written
// before it; what was written is then not a complete document.
func GraphML(w io.Writer, recs Source, opts Options) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(xml.Header) // an error sticks in bw and shows at Flush
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	gw := &graphWriter{enc: enc, opts: &opts, written: map[string]bool{}}
	err := gw.start()
	n := 0
	if err == nil {
		n, err = eachAdaptation(recs, &opts, gw.adaptation)
	}
	if err == nil {
		err = gw.end()
	}
	if ferr := enc.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return n, fmt.Errorf("write GraphML: %w", err)
	}
	return n, nil
}

// graphNode is a node of the adaptation graph.
type graphNode struct {
	id, kind                     string
	pub                          peer.ID
	practiceID, experienceID     string
	title, country, region, city string
	status                       string
}

// graphKey is one GraphML key: an attribute of nodes or of edges.
type graphKey struct {
	name, typ string
	node      func(n *graphNode, o *Options) string
	edge      func(ad *adaptation, o *Options) string
}

// nodeKeys and edgeKeys are the attributes, in the order of the <data>
// elements.
var (
	nodeKeys = []graphKey{
		{name: "label", typ: "string", node: func(n *graphNode, _ *Options) string { return cmp.Or(n.title, n.practiceID, n.experienceID) }},
		{name: "kind", typ: "string", node: func(n *graphNode, _ *Options) string { return n.kind }},
		{name: "publisher", typ: "string", node: func(n *graphNode, _ *Options) string { return n.pub.String() }},
		{name: "publisher_name", typ: "string", node: func(n *graphNode, o *Options) string { return publisherName(o.Profiles, o.Chains, n.pub) }},
		{name: "practice_id", typ: "string", node: func(n *graphNode, _ *Options) string { return n.practiceID }},
		{name: "experience_id", typ: "string", node: func(n *graphNode, _ *Options) string { return n.experienceID }},
		{name: "title", typ: "string", node: func(n *graphNode, _ *Options) string { return n.title }},
		{name: "country", typ: "string", node: func(n *graphNode, _ *Options) string { return n.country }},
		{name: "region", typ: "string", node: func(n *graphNode, _ *Options) string { return n.region }},
		{name: "city", typ: "string", node: func(n *graphNode, _ *Options) string { return n.city }},
		{name: "status", typ: "string", node: func(n *graphNode, _ *Options) string { return n.status }},
	}
	edgeKeys = buildEdgeKeys()
)

// buildEdgeKeys returns the edge attributes: AdaptationsCSV's columns of
// the same names, with a label first.
func buildEdgeKeys() []graphKey {
	keys := []graphKey{{name: "label", typ: "string", edge: func(ad *adaptation, _ *Options) string { return ad.e.Title }}}
	types := map[string]string{"start_year": "int", "end_year": "int", "ongoing": "boolean", "about_seq": "long", "seq": "long"}
	names := []string{"adapter", "adapter_name", "experience_id", "slot", "language", "title", "country", "region", "city",
		"start_year", "end_year", "ongoing", "achievement", "evaluation", "changes", "outcomes",
		"about_seq", "seq", "signed_at", "received_at", "received_from", "hash", "signer"}
	for _, name := range names {
		for _, c := range adaptationColumns {
			if c.name == name {
				keys = append(keys, graphKey{name: name, typ: cmp.Or(types[name], "string"), edge: c.value})
			}
		}
	}
	return keys
}

// keyID is the GraphML ID of an attribute: n_<name> or e_<name>.
func (k *graphKey) keyID() string {
	if k.node != nil {
		return "n_" + k.name
	}
	return "e_" + k.name
}

// graphWriter writes one GraphML document.
type graphWriter struct {
	enc     *xml.Encoder
	opts    *Options
	written map[string]bool // the node IDs written
}

func el(name string, attrs ...string) xml.StartElement {
	s := xml.StartElement{Name: xml.Name{Local: name}}
	for i := 0; i+1 < len(attrs); i += 2 {
		s.Attr = append(s.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return s
}

// start writes the root, the keys and the graph's start.
func (g *graphWriter) start() error {
	root := el("graphml", "xmlns", nsGraphML, "xmlns:xsi", nsXSI, "xsi:schemaLocation", nsGraphML+" "+schemaGraphML)
	if err := g.enc.EncodeToken(root); err != nil {
		return err
	}
	for _, keys := range [][]graphKey{nodeKeys, edgeKeys} {
		for _, k := range keys {
			what := "edge"
			if k.node != nil {
				what = "node"
			}
			s := el("key", "id", k.keyID(), "for", what, "attr.name", k.name, "attr.type", k.typ)
			if err := g.enc.EncodeToken(s); err != nil {
				return err
			}
			if err := g.enc.EncodeToken(s.End()); err != nil {
				return err
			}
		}
	}
	if err := g.enc.EncodeToken(el("graph", "id", "adaptations", "edgedefault", "directed")); err != nil {
		return err
	}
	return g.enc.EncodeElement("Adaptations of practices in a Khantara catalogue: one edge per live adaptation record, "+
		"from the practice adapted to the practice that resulted, or else to the adaptation itself.", el("desc"))
}

// end closes the graph and the root.
func (g *graphWriter) end() error {
	if err := g.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "graph"}}); err != nil {
		return err
	}
	return g.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "graphml"}})
}

// adaptation writes the nodes of ad not written yet, then its edge.
func (g *graphWriter) adaptation(ad *adaptation) error {
	nodes := []*graphNode{practiceGraphNode(&ad.from)}
	if ad.to != nil {
		nodes = append(nodes, practiceGraphNode(ad.to))
	} else {
		nodes = append(nodes, &graphNode{id: ad.target(), kind: "adaptation", pub: ad.a.Publisher, experienceID: ad.e.ID,
			title: ad.e.Title, country: ad.e.Country, region: ad.e.Region, city: ad.e.City, status: StatusHeld})
	}
	for _, n := range nodes {
		if g.written[n.id] {
			continue
		}
		g.written[n.id] = true
		if err := g.element(el("node", "id", n.id), nodeKeys, func(k *graphKey) string { return k.node(n, g.opts) }); err != nil {
			return err
		}
	}
	return g.element(el("edge", "id", ad.edgeID(), "source", ad.source(), "target", ad.target()), edgeKeys,
		func(k *graphKey) string { return k.edge(ad, g.opts) })
}

// element writes start with one <data> per key whose value is not empty.
func (g *graphWriter) element(start xml.StartElement, keys []graphKey, value func(*graphKey) string) error {
	if err := g.enc.EncodeToken(start); err != nil {
		return err
	}
	for i := range keys {
		v := value(&keys[i])
		if v == "" {
			continue
		}
		if err := g.enc.EncodeElement(v, el("data", "key", keys[i].keyID())); err != nil {
			return err
		}
	}
	return g.enc.EncodeToken(start.End())
}

// practiceGraphNode is the node of a practice the graph names.
func practiceGraphNode(r *practiceRef) *graphNode {
	return &graphNode{id: practiceNode(r.pub, r.id), kind: "practice", pub: r.pub, practiceID: r.id,
		title: r.title(), country: r.country(), region: r.region(), city: r.city(), status: r.status}
}
