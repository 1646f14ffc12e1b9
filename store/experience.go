package store

import (
	"errors"
	"fmt"
	"iter"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The experience index (prefixAbout) lists, for every practice (its
// publisher and ID), the live experience records about it: the state
// records of kind experience whose about names it. It is derived, kept in
// the transaction that changes the state (a new record, a new version
// about another practice, a retraction, RemoveWhere, RemovePublisher) and
// recreated by Rebuild. The practice need not be held: a record about a
// practice this node does not hold (or holds retracted) is indexed all
// the same (PROTOCOL.md 13.4).

// experienceTypeCodes are the experience types' codes in an index entry:
// their indexes. Only append (stored entries hold the codes).
var experienceTypeCodes = []protocol.ExperienceType{
	protocol.ExperienceAdaptation, protocol.ExperienceLesson, protocol.ExperienceQuestion,
	protocol.ExperienceAnswer, protocol.ExperienceEndorsement,
}

func experienceTypeCode(t protocol.ExperienceType) byte {
	for i, c := range experienceTypeCodes {
		if c == t {
			return byte(i)
		}
	}
	return 0xff
}

// ExperienceCounts counts the live experience records about one practice,
// by type.
type ExperienceCounts struct {
	Adaptations, Lessons, Questions, Answers, Endorsements uint64
}

// Total is the number of live experience records counted.
func (c ExperienceCounts) Total() uint64 {
	return c.Adaptations + c.Lessons + c.Questions + c.Answers + c.Endorsements
}

// counter returns the count of the type with code code, nil for an
// unknown code.
func (c *ExperienceCounts) counter(code byte) *uint64 {
	switch int(code) {
	case 0:
		return &c.Adaptations
	case 1:
		return &c.Lessons
	case 2:
		return &c.Questions
	case 3:
		return &c.Answers
	case 4:
		return &c.Endorsements
	}
	return nil
}

// experienceOf returns the experience body of sg, nil when sg is not an
// experience record.
func experienceOf(sg *protocol.Signed) *protocol.Experience {
	if a := sg.Announcement(); a.Kind == protocol.KindExperience {
		return a.Experience
	}
	return nil
}

// indexExperience adds the experience record e, the state of (pub, slot),
// to the index.
func (t *writeTx) indexExperience(pub peer.ID, slot string, e *protocol.Experience) error {
	return t.txn.Set(aboutKey(e.About.Publisher, e.About.ID, pub, slot), []byte{experienceTypeCode(e.Type)})
}

// unindexExperience removes the experience record e, the state of
// (pub, slot) until now, from the index.
func (t *writeTx) unindexExperience(pub peer.ID, slot string, e *protocol.Experience) error {
	return t.txn.Delete(aboutKey(e.About.Publisher, e.About.ID, pub, slot))
}

// stateExperience decodes the state record of (pub, slot), which is of
// kind experience, and returns its body.
func (t *writeTx) stateExperience(pub peer.ID, slot string) (*protocol.Experience, error) {
	env, err := t.stateEnvelope(pub, slot)
	if err != nil {
		return nil, err
	}
	sg, err := protocol.DecodeStored(env)
	if err != nil {
		return nil, errors.Join(ErrCorrupt, err)
	}
	e := experienceOf(sg)
	if e == nil {
		return nil, fmt.Errorf("%w: state %s/%s is not the experience record its header says", ErrCorrupt, pub, slot)
	}
	return e, nil
}

// Experiences returns the live experience records about the practice
// (about, practiceID), whether or not this node holds the practice, in
// index order: by their publisher (raw peer-ID bytes, a shorter ID first),
// then slot. That is not the display order of PROTOCOL.md 13.4 (by time,
// then publisher, then slot, answers threaded), which is the reader's
// job. Iteration reads a consistent snapshot; stop early by breaking out
// of the loop. Safe for concurrent use.
func (s *Store) Experiences(about peer.ID, practiceID string) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		err := s.view(func(txn *badger.Txn) error {
			prefix := aboutPrefix(about, practiceID)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				pub, slot, err := splitPub(it.Item().Key()[len(prefix)-1:])
				if err != nil {
					return err
				}
				item, err := txn.Get(stateKey(pub, string(slot)))
				if err != nil {
					return errors.Join(ErrCorrupt, fmt.Errorf("experience index names the state %s/%s: %w", pub, slot, err))
				}
				rec, err := s.recordFromItem(item)
				if err != nil {
					return err
				}
				if !yield(rec, nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(nil, err)
		}
	}
}

// ExperienceCounts counts the live experience records about the practice
// (about, practiceID) by type, from the index alone (no envelope is
// read). Safe for concurrent use.
func (s *Store) ExperienceCounts(about peer.ID, practiceID string) (ExperienceCounts, error) {
	var c ExperienceCounts
	err := s.view(func(txn *badger.Txn) error {
		prefix := aboutPrefix(about, practiceID)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			err := it.Item().Value(func(v []byte) error {
				var n *uint64
				if len(v) == 1 {
					n = c.counter(v[0])
				}
				if n == nil {
					return fmt.Errorf("%w: experience index entry %x", ErrCorrupt, v)
				}
				*n++
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return c, err
}
