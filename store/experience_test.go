package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// experienceBody is a valid experience of type typ about (pub, id); id
// names it among its author's (not used by an endorsement).
func experienceBody(typ protocol.ExperienceType, expID string, pub peer.ID, id string) *protocol.Experience {
	e := &protocol.Experience{Type: typ, ID: expID, About: protocol.About{Publisher: pub, ID: id}, Language: "en"}
	switch typ {
	case protocol.ExperienceAdaptation:
		e.Title, e.Country, e.StartYear, e.Changes = "Adapted in Lille", "FR", 2019, "Smaller council."
	case protocol.ExperienceLesson:
		e.Title, e.Text = "What we learned", "Start small."
	case protocol.ExperienceQuestion:
		e.Title, e.Text = "Who chairs it?", "Is the chair elected?"
	case protocol.ExperienceAnswer:
		e.Text, e.InReplyTo = "Yes.", protocol.Ref{Publisher: pub, ID: "some-question"}
	case protocol.ExperienceEndorsement:
		e.ID, e.Text = "", "We recommend it."
	}
	return e
}

func experience(t testing.TB, k crypto.PrivKey, seq uint64, e *protocol.Experience) *protocol.Signed {
	return seal(t, k, &protocol.Announcement{Seq: seq, Kind: protocol.KindExperience, Experience: e})
}

// expModel is the reference of TestExperienceIndexModel: the state of
// every slot, by the slot ranking of section 6.
type expModel map[string]*protocol.Signed // pub/slot -> state

func (m expModel) apply(sg *protocol.Signed) {
	k := string(sg.Announcement().Publisher) + "/" + sg.Slot()
	if cur := m[k]; cur == nil || rankAbove(sg.Announcement().Seq, sg.Hash(), cur.Announcement().Seq, cur.Hash()) {
		m[k] = sg
	}
}

// about returns the hashes (sorted) and counts of the live experience
// records about (pub, id).
func (m expModel) about(pub peer.ID, id string) ([]protocol.Hash, ExperienceCounts) {
	var hs []protocol.Hash
	var c ExperienceCounts
	for _, sg := range m {
		if e := experienceOf(sg); e != nil && e.About.Publisher == pub && e.About.ID == id {
			hs = append(hs, sg.Hash())
			*c.counter(experienceTypeCode(e.Type))++
		}
	}
	slices.SortFunc(hs, func(a, b protocol.Hash) int { return slices.Compare(a[:], b[:]) })
	return hs, c
}

// TestExperienceIndexModel drives a store through random experience
// records (all five types, updates that change what they are about),
// retractions of experience slots, practices and their retractions,
// re-deliveries of old records, RemoveWhere, Rebuild and reopening, and
// after each step compares Experiences, ExperienceCounts and the
// publishers' experience counts with a reference model; every few steps
// checkDerived also recomputes the V1 digests, V1Keys and the whole index
// by brute force.
func TestExperienceIndexModel(t *testing.T) {
	steps := 400
	if testing.Short() {
		steps = 150
	}
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 13))
			dir := t.TempDir()
			s := openStore(t, dir)
			var keys []crypto.PrivKey
			var ids []peer.ID
			for i := range 4 {
				k, id := key(t, byte(130+i))
				keys, ids = append(keys, k), append(ids, id)
			}
			practiceIDs := []string{"alpha", "bravo", "charlie"}
			seqs := make([]uint64, len(keys))
			var sent []*protocol.Signed
			m := expModel{}
			deliver := func(sg *protocol.Signed) {
				apply(t, s, sg)
				m.apply(sg)
			}
			for step := range steps {
				a := rng.IntN(len(keys))
				switch op := rng.IntN(20); {
				case op < 9: // an experience record, often an update
					seqs[a]++
					typ := protocol.ExperienceType(protocol.ExperienceTypes[rng.IntN(len(protocol.ExperienceTypes))])
					e := experienceBody(typ, fmt.Sprint("exp-", rng.IntN(4)), ids[rng.IntN(len(ids))], practiceIDs[rng.IntN(len(practiceIDs))])
					sg := experience(t, keys[a], seqs[a], e)
					sent = append(sent, sg)
					deliver(sg)
				case op < 12: // the retraction of an experience slot, held or not
					seqs[a]++
					slot := protocol.ExperienceSlotPrefix + fmt.Sprint("exp-", rng.IntN(4))
					if rng.IntN(2) == 0 {
						slot = protocol.EndorsementSlotPrefix + ids[rng.IntN(len(ids))].String() + "/" + practiceIDs[rng.IntN(len(practiceIDs))]
					}
					sg := retract(t, keys[a], seqs[a], slot)
					sent = append(sent, sg)
					deliver(sg)
				case op < 14: // a practice or its retraction
					seqs[a]++
					var sg *protocol.Signed
					if id := practiceIDs[rng.IntN(len(practiceIDs))]; rng.IntN(3) == 0 {
						sg = retract(t, keys[a], seqs[a], id)
					} else {
						sg = practice(t, keys[a], seqs[a], id, "Practice "+id)
					}
					sent = append(sent, sg)
					deliver(sg)
				case op < 16 && len(sent) > 0: // an old record delivered again
					deliver(sent[rng.IntN(len(sent))])
				case op < 18: // RemoveWhere: some of a publisher's records lose authority
					odd := rng.IntN(2)
					drop := func(sg *protocol.Signed) bool { return sg.Announcement().Seq%2 == uint64(odd) }
					if _, err := s.RemoveWhere(context.Background(), ids[a], drop); err != nil {
						t.Fatal(err)
					}
					for k, sg := range m {
						if sg.Announcement().Publisher == ids[a] && drop(sg) {
							delete(m, k)
						}
					}
				case op < 19:
					if err := s.Rebuild(context.Background()); err != nil {
						t.Fatal(err)
					}
				default:
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					s = openStore(t, dir)
				}
				compareExperienceModel(t, s, m, ids, practiceIDs, step)
				if step%25 == 0 || step == steps-1 {
					checkDerived(t, s)
				}
			}
		})
	}
}

// compareExperienceModel checks the experience index and counts of s
// against m for every practice of pubs × ids.
func compareExperienceModel(t *testing.T, s *Store, m expModel, pubs []peer.ID, ids []string, step int) {
	t.Helper()
	for _, pub := range pubs {
		for _, id := range ids {
			want, wantCounts := m.about(pub, id)
			var got []protocol.Hash
			for r, err := range s.Experiences(pub, id) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r.Signed.Hash())
			}
			slices.SortFunc(got, func(a, b protocol.Hash) int { return slices.Compare(a[:], b[:]) })
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: Experiences(%s, %s) holds %d records, the model %d", step, pub, id, len(got), len(want))
			}
			c, err := s.ExperienceCounts(pub, id)
			if err != nil || c != wantCounts || c.Total() != uint64(len(want)) {
				t.Fatalf("step %d: ExperienceCounts(%s, %s) = %+v, %v; model %+v", step, pub, id, c, err, wantCounts)
			}
		}
	}
	for _, pub := range pubs {
		var exps, rexps uint64
		for _, sg := range m {
			a := sg.Announcement()
			if a.Publisher != pub {
				continue
			}
			switch {
			case a.Kind == protocol.KindExperience:
				exps++
			case a.Kind == protocol.KindRetract && protocol.IsExperienceSlot(sg.Slot()):
				rexps++
			}
		}
		p, err := s.PublisherSummary(pub)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if p.Experiences != exps || p.RetractedExperiences != rexps {
			t.Fatalf("step %d: publisher %s counts %d experiences, %d experience tombstones; model %d, %d", step, pub, p.Experiences, p.RetractedExperiences, exps, rexps)
		}
	}
}

// TestUpgradeFromSchema2 writes a store, turns it into what schema 2
// wrote (no v1 flag in the sequence records, summaries in the version-3
// layout without experience counts or v1 digest, no experience index,
// schema version 2), opens it again and finds every derived record as
// the current code writes it.
func TestUpgradeFromSchema2(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	k, pub := key(t, 151)
	k2, pub2 := key(t, 152)
	apply(t, s,
		practice(t, k, 1, "alpha", "A"), practice(t, k, 2, "bravo", "B"), retract(t, k, 3, "alpha"),
		experience(t, k2, 1, experienceBody(protocol.ExperienceLesson, "lesson-one", pub, "bravo")),
		experience(t, k2, 2, experienceBody(protocol.ExperienceEndorsement, "", pub, "bravo")),
		experience(t, k2, 3, experienceBody(protocol.ExperienceQuestion, "ask", pub, "alpha")),
		retract(t, k2, 4, protocol.ExperienceSlotPrefix+"ask"),
		practice(t, k2, 5, "delta", "D"))
	want := dump(t, s)
	wantCounts, err := s.ExperienceCounts(pub, "bravo")
	if err != nil || wantCounts.Total() != 2 {
		t.Fatalf("before: %+v, %v", wantCounts, err)
	}
	err = s.db.DropPrefix([]byte{prefixAbout})
	if err == nil {
		err = s.db.Update(func(txn *badger.Txn) error {
			var sets [][2][]byte
			for _, p := range []byte{prefixSeq, prefixPublisher} {
				it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
				for it.Seek([]byte{p}); it.ValidForPrefix([]byte{p}); it.Next() {
					v, err := it.Item().ValueCopy(nil)
					if err != nil {
						it.Close()
						return err
					}
					if p == prefixSeq {
						v = append(v[:8:8], v[9:]...) // pos(8) slot
					} else {
						sum, err := decodeSummary(v)
						if err != nil {
							it.Close()
							return err
						}
						v = []byte{3}
						for _, n := range sum.fields()[:9] {
							v = binary.BigEndian.AppendUint64(v, *n)
						}
						v = append(v, sum.sum[:]...)
						v = binary.BigEndian.AppendUint64(v, uint64(sum.updated.UnixNano()))
					}
					sets = append(sets, [2][]byte{it.Item().KeyCopy(nil), v})
				}
				it.Close()
			}
			for _, kv := range sets {
				if err := txn.Set(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return txn.Set(metaSchema, binary.BigEndian.AppendUint32(nil, 2))
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if got := dump(t, s); got != want {
		t.Fatalf("after upgrade:\n%s\nwant:\n%s", got, want)
	}
	checkDerived(t, s)
	checkFeed(t, s)
	if c, err := s.ExperienceCounts(pub, "bravo"); err != nil || c != wantCounts {
		t.Fatalf("after upgrade: %+v, %v; want %+v", c, err, wantCounts)
	}
	if p, err := s.PublisherSummary(pub2); err != nil || p.Experiences != 2 || p.RetractedExperiences != 1 || p.V1.Count != 1 {
		t.Fatalf("after upgrade: %+v, %v", p, err)
	}
	requireSchema(t, s, "after upgrade")
}
