package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/khantara/khantara/protocol"
)

// Publish makes every organisation announce its profile and the network
// its membership list, then every node its share of the sheets, under
// the ID of the organisation it publishes them for (Node.For), then the
// demo's experience records (demo.Experiences), each by a node its
// author organisation delegates, about the version of the practice just
// published.
func (f *Federation) Publish(ctx context.Context) error {
	if err := f.publishOrgs(ctx); err != nil {
		return err
	}
	seqs := map[practiceKey]uint64{}
	for _, n := range f.nodes {
		for _, s := range n.Publisher.Sheets {
			ann := &protocol.Announcement{Kind: protocol.KindPractice, Practice: s}
			sg, err := n.Node().PublishAs(ctx, n.For.ID, ann)
			if err != nil {
				return fmt.Errorf("%s: publish %s: %w", n.Name, s.ID, err)
			}
			seqs[practiceKey{n.For.ID, s.ID}] = sg.Announcement().Seq
		}
	}
	return f.publishExperiences(ctx, seqs)
}

// Converge waits until every node holds every practice, every
// organisation's genesis and profile, the network's list and every
// experience record Publish published, and all digests agree, writing a line of progress to w as it changes. When ctx's
// deadline passes first, the error says how far the nodes got.
func (f *Federation) Converge(ctx context.Context, w io.Writer) error {
	start := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		line, done, err := f.progress()
		if err != nil {
			return err
		}
		if line != last {
			fmt.Fprintf(w, "  held: %s\n", line)
			last = line
		}
		if done {
			fmt.Fprintf(w, "Every node holds all %d practices, %d experience records, %d organisations with their profiles and the network's list, after %v.\n",
				f.total, f.experiences, len(f.orgs), time.Since(start).Round(10*time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the demo nodes did not converge in time (%s); rerun with --verbose to see why", line)
			}
			return ctx.Err()
		case <-f.done:
			if f.err == nil {
				return errors.New("the demo nodes stopped before they converged")
			}
			return fmt.Errorf("the demo nodes stopped before they converged: %w", f.err)
		case <-tick.C:
		}
	}
}

// progress reads every node's store: a line of counts, and whether all
// nodes hold the whole catalogue with the same digest.
func (f *Federation) progress() (line string, done bool, err error) {
	parts := make([]string, len(f.nodes))
	digests := map[[16]byte]bool{}
	done = true
	for i, n := range f.nodes {
		c, dg, err := n.Node().Store().Counts()
		if err != nil {
			return "", false, fmt.Errorf("%s: count the catalogue: %w", n.Name, err)
		}
		parts[i] = fmt.Sprintf("%s %d/%d practices, %d/%d experiences", n.Name, c.Practices, f.total, c.Experiences, f.experiences)
		digests[dg.Fingerprint()] = true
		done = done && c.Practices == uint64(f.total) && c.Experiences == uint64(f.experiences) &&
			c.Profiles == uint64(len(f.orgs)) && c.OrgOps == uint64(len(f.orgs)) && c.Lists == 1
	}
	return strings.Join(parts, ", "), done && len(digests) == 1, nil
}
