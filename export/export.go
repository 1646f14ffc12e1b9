package export

import (
	"errors"
	"iter"
	"sync"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Source yields the records to export. The caller chooses them: the whole
// catalogue (StorePractices, or store.List), one publisher, a search
// result. Records of a kind other than practice are skipped; an error
// from the iterator aborts the export with that error.
type Source = iter.Seq2[*store.Record, error]

// Options tune CSV, JSONL and the adaptation graph. The zero value is
// ready to use.
type Options struct {
	// NoBOM leaves out the UTF-8 byte order mark that CSV writes first by
	// default, so that spreadsheet tools (Excel) read the file as UTF-8.
	// JSONL never writes one.
	NoBOM bool
	// Profiles looks up a publisher's profile for its organisation name
	// (the publisher_name column and member). It may be nil, and may
	// return nil for a publisher without a profile. See StoreProfiles.
	Profiles func(pub peer.ID) *protocol.Profile
	// Chains looks up an organisation's chain of operations, for its name
	// (the publisher_name column and member of an organisation's
	// practices: the name its operations give, else its profile's). It is
	// called for organisation IDs only and may be nil; a chain that is
	// unknown or an error reads as "no name". node.Node.Chain fits.
	Chains Chains
	// Practices looks up the state of a practice, for the adaptation
	// graph (AdaptationsCSV, GraphML): the original's and the resulting
	// practice's title, country and city, and whether this replica holds
	// them. store.Store.Get fits. store.ErrNotFound reads as "not held";
	// any other error aborts the export. It may be nil: then every
	// practice reads as not held. JSONL, CSV and DCAT do not call it.
	Practices func(pub peer.ID, id string) (*store.Record, error)
}

// Chains looks up the chain of operations of an organisation, as the
// node holds it. The chain it returns is read, never modified.
type Chains func(org peer.ID) (*protocol.Chain, error)

// StorePractices returns every practice in s, in (publisher, ID) order,
// read from one consistent snapshot.
func StorePractices(s *store.Store) Source {
	return s.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindPractice}})
}

// StoreProfiles returns a profile lookup backed by s, for Options.Profiles
// and Catalog.Profiles. It remembers each publisher's answer (profile or
// none) for its own lifetime, so use a fresh one per export; it is safe
// for concurrent use. A store error reads as "no profile": the name is a
// convenience, the export goes on without it.
func StoreProfiles(s *store.Store) func(peer.ID) *protocol.Profile {
	var (
		mu   sync.Mutex // guards seen
		seen = map[peer.ID]*protocol.Profile{}
	)
	return func(pub peer.ID) *protocol.Profile {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := seen[pub]; ok {
			return p
		}
		var p *protocol.Profile
		rec, err := s.Get(pub, protocol.ProfileSlot)
		switch {
		case err == nil:
			p = rec.Announcement().Profile
		case !errors.Is(err, store.ErrNotFound):
			return nil // not remembered: a later call may succeed
		}
		seen[pub] = p
		return p
	}
}

// eachPractice calls fn for every practice record of recs, in order, and
// returns how many calls succeeded. It stops at the first error, from recs
// (returned as is) or from fn.
func eachPractice(recs Source, fn func(*store.Record, *protocol.Announcement) error) (int, error) {
	n := 0
	for rec, err := range recs {
		if err != nil {
			return n, err
		}
		if rec == nil || rec.Signed == nil {
			continue
		}
		a := rec.Announcement()
		if a.Kind != protocol.KindPractice || a.Practice == nil {
			continue
		}
		if err := fn(rec, a); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// publisherName returns the publisher's name, or "": for an organisation
// the name its operations give (chains), else the name in the
// publisher's profile.
func publisherName(profiles func(peer.ID) *protocol.Profile, chains Chains, pub peer.ID) string {
	if name := orgName(chains, pub); name != "" {
		return name
	}
	if p := profile(profiles, pub); p != nil {
		return p.Name
	}
	return ""
}

// orgName returns the name of organisation pub as its chain gives it, or
// "" when pub is not an organisation or its chain is not known.
func orgName(chains Chains, pub peer.ID) string {
	if chains == nil || !protocol.IsOrg(pub) {
		return ""
	}
	c, err := chains(pub)
	if err != nil || c == nil || !c.Known() {
		return ""
	}
	return c.Name()
}

func profile(profiles func(peer.ID) *protocol.Profile, pub peer.ID) *protocol.Profile {
	if profiles == nil {
		return nil
	}
	return profiles(pub)
}
