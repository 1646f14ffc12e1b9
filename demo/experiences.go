package demo

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.yaml.in/yaml/v3"
)

// ExperienceFiles holds experiences/*.yaml: the demo's experience records
// (PROTOCOL.md section 13), one staff file each (the body only, as
// protocol.ParseExperience reads it), and authors.yaml, which says which
// demo organisation writes each one. Experiences reads them.
//
//go:embed experiences/*.yaml
var ExperienceFiles embed.FS

const (
	// PlaceholderToken stands, in the experience files, for every
	// publisher ID (about.publisher, in_reply_to.publisher,
	// practice.publisher): the demo's organisations get their IDs only
	// when the demo runs. Experiences parses it as Placeholder; Resolve
	// writes the real IDs in.
	PlaceholderToken = "DEMO-PUBLISHER"
	// PlaceholderID is the text of Placeholder: the key ID of the Ed25519
	// key whose 32-byte seed is "khantara demo: placeholder key..", which
	// publishes nothing.
	PlaceholderID = "12D3KooWCqtxSfhR8CXN8DVxtPokr2dT2dj8woPaZ4QdWa63tfZs"
	// AuthorNetwork is the author, in authors.yaml, that names the demo
	// network's coordinator (the Organisation with Network set), which
	// publishes no sheets of its own.
	AuthorNetwork = "network"
	// authorsFile is the index of authors, in experiences/.
	authorsFile = "authors.yaml"
)

// Placeholder is the publisher ID that every publisher member of an
// Experience's Record holds until Resolve replaces it (PlaceholderID
// decoded; placeholderErr is never set for the constant above).
var Placeholder, placeholderErr = protocol.DecodeID(PlaceholderID)

// countryCode is the form of an author that names a country.
var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Experience is one of the demo's experience records, as its file says,
// before it is laid out over a federation (Place).
type Experience struct {
	// Name is the file's name without ".yaml"; it is also the record's ID,
	// except for an endorsement, which has none.
	Name string
	// By is the author as authors.yaml names it: a country code (the
	// demo organisation that publishes that country's sheets) or
	// AuthorNetwork.
	By string
	// Record is the record, valid, with Placeholder in every publisher
	// member. Shared: callers copy it (Resolve does) before changing it.
	Record *protocol.Experience
}

// Experiences parses the embedded experience files and authors.yaml and
// returns the records in publishing order: adaptations, lessons,
// questions and endorsements first, then answers, each answer after the
// record it replies to; by name within each of these steps. It is an
// error, naming the file, when a file is invalid, has no author, gives a
// publisher ID other than PlaceholderToken, names an ID other than its
// file name, or answers a record that is neither a demo question nor a
// demo answer about the same practice; or when authors.yaml names a file
// that does not exist. Whether the practices exist, and who publishes
// them, depend on the layout: see Place.
func Experiences() ([]Experience, error) {
	sub, err := fs.Sub(ExperienceFiles, "experiences")
	if err != nil {
		return nil, err
	}
	return loadExperiences(sub)
}

// loadExperiences is Experiences over the files of fsys.
func loadExperiences(fsys fs.FS) ([]Experience, error) {
	if placeholderErr != nil {
		return nil, fmt.Errorf("the demo's placeholder publisher ID: %w", placeholderErr)
	}
	authors, err := readAuthors(fsys)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Experience
	for _, name := range names {
		if name == authorsFile {
			continue
		}
		base := strings.TrimSuffix(name, ".yaml")
		by, ok := authors[base]
		if !ok {
			return nil, fmt.Errorf("demo experience %s: no author in %s; add %q there", name, authorsFile, base+": COUNTRY")
		}
		delete(authors, base)
		e, err := readExperience(fsys, name, base)
		if err != nil {
			return nil, fmt.Errorf("demo experience %s: %w", name, err)
		}
		out = append(out, Experience{Name: base, By: by, Record: e})
	}
	if len(authors) > 0 {
		return nil, fmt.Errorf("%s names experiences that have no file: %s", authorsFile, strings.Join(slices.Sorted(maps.Keys(authors)), ", "))
	}
	return publishingOrder(out)
}

// readAuthors reads authors.yaml: experience names to authors.
func readAuthors(fsys fs.FS) (map[string]string, error) {
	data, err := fs.ReadFile(fsys, authorsFile)
	if err != nil {
		return nil, fmt.Errorf("read the demo experiences' authors: %w", err)
	}
	var authors map[string]string
	if err := yaml.Unmarshal(data, &authors); err != nil {
		return nil, fmt.Errorf("%s: %w", authorsFile, err)
	}
	for name, by := range authors {
		if by != AuthorNetwork && !countryCode.MatchString(by) {
			return nil, fmt.Errorf("%s: %s: author %q is neither a country code (such as IT) nor %q", authorsFile, name, by, AuthorNetwork)
		}
	}
	return authors, nil
}

// readExperience parses the experience file name, the placeholder
// standing for a publisher ID, and checks what the file must hold.
func readExperience(fsys fs.FS, name, base string) (*protocol.Experience, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	e, err := protocol.ParseExperience(bytes.ReplaceAll(data, []byte(PlaceholderToken), []byte(PlaceholderID)))
	if err != nil {
		return nil, err
	}
	if e.ID != "" && e.ID != base {
		return nil, fmt.Errorf("id: %q must be the file's name, %q", e.ID, base)
	}
	for path, pub := range map[string]peer.ID{
		"about.publisher":       e.About.Publisher,
		"in_reply_to.publisher": e.InReplyTo.Publisher,
		"practice.publisher":    e.Practice.Publisher,
	} {
		if pub != "" && pub != Placeholder {
			return nil, fmt.Errorf("%s: write %s: the demo fills in the publisher when it runs", path, PlaceholderToken)
		}
	}
	return e, nil
}

// publishingOrder sorts exps by how deep each sits in a thread of
// answers (0 for every record that is not an answer), then by name, and
// checks each answer's thread: it replies to a question or an answer of
// exps about the same practice, with no cycle.
func publishingOrder(exps []Experience) ([]Experience, error) {
	byID := map[string]*Experience{}
	for i := range exps {
		if id := exps[i].Record.ID; id != "" {
			byID[id] = &exps[i]
		}
	}
	depth := map[string]int{}
	for _, e := range exps {
		d := 0
		for cur := e.Record; cur.Type == protocol.ExperienceAnswer; d++ {
			to, ok := byID[cur.InReplyTo.ID]
			switch {
			case !ok:
				return nil, fmt.Errorf("demo experience %s: in_reply_to.id: %q is no demo experience", e.Name, cur.InReplyTo.ID)
			case to.Record.Type != protocol.ExperienceQuestion && to.Record.Type != protocol.ExperienceAnswer:
				return nil, fmt.Errorf("demo experience %s: in_reply_to.id: %q is %s, not a question or an answer", e.Name, to.Name, to.Record.Type)
			case to.Record.About.ID != cur.About.ID:
				return nil, fmt.Errorf("demo experience %s: in_reply_to.id: %q is about %q, not %q", e.Name, to.Name, to.Record.About.ID, cur.About.ID)
			case d > len(exps):
				return nil, fmt.Errorf("demo experience %s: its thread of answers loops", e.Name)
			}
			cur = to.Record
		}
		depth[e.Name] = d
	}
	slices.SortFunc(exps, func(a, b Experience) int {
		return cmp.Or(cmp.Compare(depth[a.Name], depth[b.Name]), cmp.Compare(a.Name, b.Name))
	})
	return exps, nil
}

// Placed is an experience laid out over a demo federation: the
// organisations, as indices into Organisations(pubs), that write it and
// that publish what its publisher members name.
type Placed struct {
	Experience
	// Author writes the record: a node it delegates publishes it for it.
	Author int
	// About publishes the practice the record is about.
	About int
	// Reply wrote the record an answer replies to; -1 for other types.
	Reply int
	// Practice publishes the practice an adaptation resulted in; -1 when
	// the record names none.
	Practice int
}

// Place lays exps (from Experiences, in its order) out over the demo
// federation of pubs (from Publishers): the author of each record is the
// organisation its By names (the one that publishes that country's
// sheets, or the network's coordinator), and each practice belongs to the
// organisation whose share holds its sheet. It keeps exps' order and
// checks the demo's rules for this layout: every practice named exists;
// an adaptation, a lesson, a question or an endorsement is written by
// another organisation than the practice's, an answer by the practice's
// own; an organisation endorses a practice at most once.
func Place(pubs []Publisher, exps []Experience) ([]Placed, error) {
	orgs := Organisations(pubs)
	countryOrg, practiceOrg := map[string]int{}, map[string]int{}
	for _, p := range pubs {
		for _, c := range p.Countries {
			countryOrg[c] = p.For
		}
		for _, s := range p.Sheets {
			practiceOrg[s.ID] = p.For
		}
	}
	network := slices.IndexFunc(orgs, func(o Organisation) bool { return o.Network })
	authorOf := map[string]int{}
	endorsed := map[string]bool{}
	out := make([]Placed, 0, len(exps))
	for _, e := range exps {
		p, err := place(e, network, countryOrg, practiceOrg, authorOf)
		if err != nil {
			return nil, fmt.Errorf("demo experience %s, with %d nodes: %w", e.Name, len(pubs), err)
		}
		if e.Record.Type == protocol.ExperienceEndorsement {
			key := fmt.Sprint(p.Author, "/", e.Record.About.ID)
			if endorsed[key] {
				return nil, fmt.Errorf("demo experience %s, with %d nodes: %s endorses %q twice", e.Name, len(pubs), orgs[p.Author].Slug, e.Record.About.ID)
			}
			endorsed[key] = true
		}
		authorOf[e.Record.ID] = p.Author
		out = append(out, p)
	}
	return out, nil
}

// place finds the organisations of e and checks who writes it.
func place(e Experience, network int, countryOrg, practiceOrg, authorOf map[string]int) (Placed, error) {
	p := Placed{Experience: e, Reply: -1, Practice: -1}
	r := e.Record
	var ok bool
	if e.By == AuthorNetwork {
		p.Author, ok = network, network >= 0
	} else {
		p.Author, ok = countryOrg[e.By]
	}
	if !ok {
		return p, fmt.Errorf("author %q: no demo organisation publishes for it", e.By)
	}
	if p.About, ok = practiceOrg[r.About.ID]; !ok {
		return p, fmt.Errorf("about.id: %q is no demo practice", r.About.ID)
	}
	if r.Type == protocol.ExperienceAnswer {
		if p.Reply, ok = authorOf[r.InReplyTo.ID]; !ok {
			return p, fmt.Errorf("in_reply_to.id: %q is not published before it", r.InReplyTo.ID)
		}
	}
	if !r.Practice.IsZero() {
		if p.Practice, ok = practiceOrg[r.Practice.ID]; !ok {
			return p, fmt.Errorf("practice.id: %q is no demo practice", r.Practice.ID)
		}
	}
	own := p.Author == p.About
	switch {
	case r.Type == protocol.ExperienceAnswer && !own:
		return p, fmt.Errorf("an answer comes from the practice's own organisation; author %q is another one", e.By)
	case r.Type != protocol.ExperienceAnswer && own:
		return p, fmt.Errorf("%s about %q must come from another organisation than the practice's; author %q publishes the practice too", r.Type, r.About.ID, e.By)
	}
	return p, nil
}

// Resolve returns a copy of the record whose publisher members name the
// organisations they stand for, ids being the organisations' IDs in the
// order of Organisations(pubs), validated as a receiver would. The
// caller may then set About.Seq to the version of the practice its
// author read. The record it returns is the caller's.
func (p *Placed) Resolve(ids []peer.ID) (*protocol.Experience, error) {
	for _, i := range []int{p.Author, p.About, p.Reply, p.Practice} {
		if i >= len(ids) {
			return nil, fmt.Errorf("demo experience %s: %d organisation IDs for organisation %d", p.Name, len(ids), i)
		}
	}
	e := *p.Record
	e.Translations = maps.Clone(e.Translations)
	e.About.Publisher = ids[p.About]
	if p.Reply >= 0 {
		e.InReplyTo.Publisher = ids[p.Reply]
	}
	if p.Practice >= 0 {
		e.Practice.Publisher = ids[p.Practice]
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("demo experience %s: %w", p.Name, err)
	}
	return &e, nil
}
