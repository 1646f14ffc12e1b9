package node

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// expBody is a valid experience of type typ, named expID among its
// author's (an endorsement has no ID), about the practice (pub, id).
func expBody(typ protocol.ExperienceType, expID string, pub peer.ID, id string) *protocol.Experience {
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

// expAnn is the announcement of an experience record.
func expAnn(e *protocol.Experience) *protocol.Announcement {
	return &protocol.Announcement{Kind: protocol.KindExperience, Experience: e}
}

// sealAs seals ann by the plain publisher k at seq and time at.
func sealAs(t testing.TB, k crypto.PrivKey, seq uint64, at time.Time, ann *protocol.Announcement) *protocol.Signed {
	t.Helper()
	ann.V, ann.Seq, ann.Time = protocol.Version, seq, at.UTC()
	sg, err := protocol.Seal(ann, k)
	if err != nil {
		t.Fatalf("seal %s seq %d: %v", ann.Kind, seq, err)
	}
	return sg
}

// expWorld is the history of TestExperienceReplicasModel: a practice
// publisher's practices (some retracted), and the experience records and
// experience-slot retractions of two plain publishers and of an
// organisation (through a delegate allowed the kind).
type expWorld struct {
	recs      []*protocol.Signed // everything, the genesis included
	practices []struct {
		pub peer.ID
		id  string
	}
	stats map[string]int
}

func newExpWorld(t *testing.T, rng *rand.Rand, seed uint64) *expWorld {
	w := &expWorld{stats: map[string]int{}}
	pk := testKey(t, seed)
	pp := keyID(t, pk)
	authors := []crypto.PrivKey{testKey(t, seed+1), testKey(t, seed+2)}
	del := testKey(t, seed+3)
	org := newTestOrg(t, "Ville de Lille", []uint64{seed + 4}, delegation(keyID(t, del), protocol.KindExperience, protocol.KindRetract))
	base := org.base // every record after the genesis
	w.recs = append(w.recs, org.gen)
	ids := []string{"expprop-a", "expprop-b", "expprop-c"}
	for _, id := range ids {
		w.practices = append(w.practices, struct {
			pub peer.ID
			id  string
		}{pp, id})
	}
	// A practice of the organisation's, never published: experiences
	// about a practice not held are kept all the same.
	w.practices = append(w.practices, struct {
		pub peer.ID
		id  string
	}{org.id, "never-published"})
	sheets := demoSheets(t)
	seq := map[peer.ID]uint64{}
	next := func(p peer.ID) (uint64, time.Time) {
		seq[p]++
		return seq[p], base.Add(time.Duration(seq[p]) * time.Second)
	}
	for i, id := range ids {
		s := *sheets[i]
		s.ID = id
		n, at := next(pp)
		w.recs = append(w.recs, sealAs(t, pk, n, at, practiceAnn(&s)))
	}
	n, at := next(pp)
	w.recs = append(w.recs, sealAs(t, pk, n, at, &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: ids[2]}}))
	// The authors' records: three in four an experience record (often an
	// update of a slot, sometimes about another practice), one in four a
	// retraction of one of its experience slots.
	for range 60 {
		a := rng.IntN(len(authors) + 1)
		p := w.practices[rng.IntN(len(w.practices))]
		typ := protocol.ExperienceType(protocol.ExperienceTypes[rng.IntN(len(protocol.ExperienceTypes))])
		e := expBody(typ, fmt.Sprint("exp-", rng.IntN(4)), p.pub, p.id)
		var ann *protocol.Announcement
		if rng.IntN(4) == 0 {
			ann = &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: e.Slot()}}
			w.stats["retraction"]++
		} else {
			ann = expAnn(e)
			w.stats[string(typ)]++
		}
		if a == len(authors) {
			n, at := next(org.id)
			w.recs = append(w.recs, org.record(del, org.gen, n+1, at, ann)) // the genesis is seq 1
			w.stats["organisation"]++
			continue
		}
		k := authors[a]
		n, at := next(keyID(t, k))
		w.recs = append(w.recs, sealAs(t, k, n, at, ann))
	}
	return w
}

// state is the reference model: in each slot, the record of highest seq
// (every record is valid and authorised, no publisher equivocates).
func (w *expWorld) state() map[string]*protocol.Signed {
	m := map[string]*protocol.Signed{}
	for _, sg := range w.recs {
		k := string(sg.Announcement().Publisher) + "/" + sg.Slot()
		if cur := m[k]; cur == nil || sg.Announcement().Seq > cur.Announcement().Seq {
			m[k] = sg
		}
	}
	return m
}

// TestExperienceReplicasModel is the property test of issue 13:
// experience records of all five types, by two plain publishers and an
// organisation's delegate, updated and partly retracted, are delivered
// with the practices they are about (some never published, one
// retracted) and the organisation's genesis to three replicas, each
// record to random replicas in a random order with duplicates, by gossip
// (the validator and the apply loop's batches) interleaved with sync
// sessions between random pairs. After settling every replica holds the
// same catalogue, and for every practice the same experience records and
// counts as the reference model.
func TestExperienceReplicasModel(t *testing.T) {
	rounds := 4
	if testing.Short() {
		rounds = 2
	}
	stats := map[string]int{}
	for round := range rounds {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(round), 0xe4e1))
			w := newExpWorld(t, rng, 13000+uint64(round)*10)
			for k, v := range w.stats {
				stats[k] += v
			}
			tn := newTestNet(t, 1300+uint64(round))
			replicas := []*Node{tn.add(), tn.add(), tn.add()}
			for i, a := range replicas {
				for j, b := range replicas {
					if i != j {
						tn.connect(a, b)
					}
				}
			}
			var sched []modelDelivery
			for _, sg := range w.recs {
				for range []int{1, 1, 2, 3}[rng.IntN(4)] {
					sched = append(sched, modelDelivery{sg, rng.IntN(len(replicas))})
				}
			}
			rng.Shuffle(len(sched), func(i, j int) { sched[i], sched[j] = sched[j], sched[i] })
			for len(sched) > 0 {
				if rng.IntN(5) == 0 {
					i := rng.IntN(len(replicas))
					modelSync(t, replicas[i], replicas[(i+1+rng.IntN(len(replicas)-1))%len(replicas)])
					continue
				}
				k := min(len(sched), 1+rng.IntN(6))
				gossipBatch(t, replicas, sched[:k])
				sched = sched[k:]
			}
			settle(t, replicas)
			checkExperienceModel(t, w, replicas)
		})
	}
	for _, k := range append(slices.Clone(protocol.ExperienceTypes), "retraction", "organisation") {
		if stats[k] == 0 {
			t.Errorf("no round produced a %s: %v", k, stats)
		}
	}
}

// checkExperienceModel compares every replica's state and experience
// index with the model of w.
func checkExperienceModel(t *testing.T, w *expWorld, replicas []*Node) {
	t.Helper()
	m := w.state()
	var wantAll []protocol.Hash
	for _, sg := range m {
		wantAll = append(wantAll, sg.Hash())
	}
	wantAll = sortedHashes(wantAll)
	for i, n := range replicas {
		if got := syncHashes(t, n); !slices.Equal(got, wantAll) {
			t.Fatalf("replica %d holds %d records, the model %d", i, len(got), len(wantAll))
		}
		for _, p := range w.practices {
			var want []protocol.Hash
			var wantCounts store.ExperienceCounts
			for _, sg := range m {
				a := sg.Announcement()
				if a.Kind != protocol.KindExperience || a.Experience.About.Publisher != p.pub || a.Experience.About.ID != p.id {
					continue
				}
				want = append(want, sg.Hash())
				switch a.Experience.Type {
				case protocol.ExperienceAdaptation:
					wantCounts.Adaptations++
				case protocol.ExperienceLesson:
					wantCounts.Lessons++
				case protocol.ExperienceQuestion:
					wantCounts.Questions++
				case protocol.ExperienceAnswer:
					wantCounts.Answers++
				case protocol.ExperienceEndorsement:
					wantCounts.Endorsements++
				}
			}
			var got []*protocol.Signed
			for r, err := range n.Store().Experiences(p.pub, p.id) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r.Signed)
			}
			if g := hashesOfRecs(got...); !slices.Equal(g, sortedHashes(want)) {
				t.Fatalf("replica %d: %d experiences about %s/%s, the model %d", i, len(g), p.pub, p.id, len(want))
			}
			c, err := n.Store().ExperienceCounts(p.pub, p.id)
			if err != nil || c != wantCounts {
				t.Fatalf("replica %d: counts about %s/%s %+v, %v; the model %+v", i, p.pub, p.id, c, err, wantCounts)
			}
		}
	}
}

func sortedHashes(hs []protocol.Hash) []protocol.Hash {
	hs = slices.Clone(hs)
	slices.SortFunc(hs, func(a, b protocol.Hash) int { return slices.Compare(a[:], b[:]) })
	return hs
}
