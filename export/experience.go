package export

import (
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// StoreExperiences returns every live experience record in s (the state
// records of kind experience: no tombstones), in (publisher, slot)
// order, read from one consistent snapshot: JSONL's experience lines and
// the adaptation graph (AdaptationsCSV, GraphML) of the whole catalogue,
// practices held here or not.
func StoreExperiences(s *store.Store) Source {
	return s.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindExperience}})
}

// StoreRecords returns every practice and every live experience record
// in s, in (publisher, slot) order, read from one consistent snapshot.
func StoreRecords(s *store.Store) Source {
	return s.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindPractice, protocol.KindExperience}})
}

// ExperiencesAbout returns, for every practice of practices in its
// order, the practice itself when withPractices, then the live
// experience records about it (store.Store.Experiences: by author, then
// slot). Records of practices that are not practices are skipped. It is
// how a query, whose filters select practices, selects experience
// records: those about the practices it matches. An error from practices
// or from s ends the sequence with that error.
func ExperiencesAbout(s *store.Store, practices Source, withPractices bool) Source {
	return func(yield func(*store.Record, error) bool) {
		for rec, err := range practices {
			if err != nil {
				yield(nil, err)
				return
			}
			if rec == nil || rec.Signed == nil {
				continue
			}
			a := rec.Announcement()
			if a.Kind != protocol.KindPractice || a.Practice == nil {
				continue
			}
			if withPractices && !yield(rec, nil) {
				return
			}
			for exp, err := range s.Experiences(a.Publisher, a.Practice.ID) {
				if !yield(exp, err) || err != nil {
					return
				}
			}
		}
	}
}
