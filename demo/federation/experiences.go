package federation

import (
	"context"
	"fmt"
	"slices"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// practiceKey names a practice by its publisher and ID.
type practiceKey struct {
	publisher peer.ID
	id        string
}

// placeExperiences lays the demo's experience records out over the
// federation's organisations (demo.Place over the nodes' publishers).
func (f *Federation) placeExperiences() ([]demo.Placed, error) {
	exps, err := demo.Experiences()
	if err != nil {
		return nil, err
	}
	pubs := make([]demo.Publisher, len(f.nodes))
	for i, n := range f.nodes {
		pubs[i] = n.Publisher
	}
	return demo.Place(pubs, exps)
}

// publishExperiences publishes the demo's experience records, in the
// order demo.Experiences gives (every answer after the record it
// replies to), each under its author organisation's ID by the first
// node that organisation delegates for experience records. seqs are the
// sequence numbers the practices were published with: each record says
// it is about that version (about.seq).
func (f *Federation) publishExperiences(ctx context.Context, seqs map[practiceKey]uint64) error {
	placed, err := f.placeExperiences()
	if err != nil {
		return err
	}
	ids := make([]peer.ID, len(f.orgs))
	for i, o := range f.orgs {
		ids[i] = o.ID
	}
	for i := range placed {
		p := &placed[i]
		e, err := p.Resolve(ids)
		if err != nil {
			return err
		}
		e.About.Seq = seqs[practiceKey{e.About.Publisher, e.About.ID}]
		author := f.orgs[p.Author]
		n := f.experienceNode(author)
		if n == nil {
			return fmt.Errorf("demo experience %s: %s delegates no node for experience records", p.Name, author.Slug)
		}
		ann := &protocol.Announcement{Kind: protocol.KindExperience, Experience: e}
		if _, err := n.Node().PublishAs(ctx, author.ID, ann); err != nil {
			return fmt.Errorf("%s: publish the experience %s for %s: %w", n.Name, p.Name, author.Slug, err)
		}
	}
	f.experiences = len(placed)
	return nil
}

// experienceNode is the first node o delegates to publish experience
// records, nil when it delegates none.
func (f *Federation) experienceNode(o *Org) *Node {
	for _, d := range o.Delegates {
		if slices.Contains(d.May, protocol.KindExperience) {
			return f.nodes[d.Node]
		}
	}
	return nil
}

// Experiences is how many experience records the demo published (0
// before Publish).
func (f *Federation) Experiences() int { return f.experiences }

// PracticeOrg is the organisation whose ID the demo practice id is
// published under, nil when no node publishes it.
func (f *Federation) PracticeOrg(id string) *Org {
	for _, n := range f.nodes {
		for _, s := range n.Publisher.Sheets {
			if s.ID == id {
				return n.For
			}
		}
	}
	return nil
}
