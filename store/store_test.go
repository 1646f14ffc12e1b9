package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
)

func TestApplyAndRead(t *testing.T) {
	s := openStore(t, "")
	k, pub := key(t, 1)
	v1 := practice(t, k, 1, "language-cafe", "Language café")
	res := apply(t, s, v1, profile(t, k, 2, "Comune di Prova"), practice(t, k, 3, "job-desk", "Job desk"))
	for _, r := range res {
		if r.Outcome != Applied || r.Equivocation {
			t.Fatalf("first apply: %+v", res)
		}
	}
	got, err := s.Get(pub, "language-cafe")
	if err != nil || got.Signed.Hash() != v1.Hash() || got.From != "test" || got.ReceivedAt.IsZero() {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if got.Announcement().Practice.Title != "Language café" {
		t.Fatalf("decoded title %q", got.Announcement().Practice.Title)
	}
	if _, err := s.Get(pub, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}
	if r, err := s.Get(pub, protocol.ProfileSlot); err != nil || r.Announcement().Profile.Name != "Comune di Prova" {
		t.Fatalf("profile: %v", err)
	}

	// Update, duplicate, stale replay, retraction, replay after retraction.
	v2 := practice(t, k, 4, "language-cafe", "Language café, second edition")
	if r := apply(t, s, v2, v2); r[0].Outcome != Applied || r[1].Outcome != Duplicate {
		t.Fatalf("update + duplicate: %+v", r)
	}
	if r := apply(t, s, v1); r[0].Outcome != Duplicate {
		t.Fatalf("old version replayed: %+v", r)
	}
	// A replica that has only the new version keeps it against the old one.
	other := openStore(t, "")
	if r := apply(t, other, v2, v1); r[0].Outcome != Applied || r[1].Outcome != Stale {
		t.Fatalf("old version after new: %+v", r)
	}
	rt := retract(t, k, 5, "language-cafe")
	if r := apply(t, s, rt, v2, v1); r[0].Outcome != Applied || r[1].Outcome != Duplicate || r[2].Outcome != Duplicate {
		t.Fatalf("retract then replays: %+v", r)
	}
	if r, _ := s.Get(pub, "language-cafe"); r.Announcement().Kind != protocol.KindRetract {
		t.Fatalf("retracted practice resurrected: %s", r.Announcement().Kind)
	}
	c, d, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if c != (Counts{Publishers: 1, Practices: 1, Retracted: 1, Profiles: 1}) || d.Count != 3 || d.MaxSeq != 5 {
		t.Fatalf("counts %+v digest %+v", c, d)
	}
	// Practices only, in slot order, with paging.
	var ids []string
	var after string
	for {
		var page []*Record
		for r, err := range s.List(ListOptions{Kinds: []protocol.Kind{protocol.KindPractice, protocol.KindRetract}, After: after}) {
			if err != nil {
				t.Fatal(err)
			}
			page = append(page, r)
			if len(page) == 1 {
				break
			}
		}
		if len(page) == 0 {
			break
		}
		ids = append(ids, page[0].Signed.Slot())
		after = Cursor(page[0])
	}
	if !slices.Equal(ids, []string{"job-desk", "language-cafe"}) {
		t.Fatalf("paged listing %v", ids)
	}
	checkDerived(t, s)
}

func TestEquivocation(t *testing.T) {
	s := openStore(t, "")
	k, pub := key(t, 2)
	a := practice(t, k, 1, "same-slot", "Version A")
	b := practice(t, k, 1, "same-slot", "Version B")
	c := practice(t, k, 1, "other-slot", "Version C")
	res := apply(t, s, a, b, c)
	if res[0].Equivocation || !res[1].Equivocation || !res[2].Equivocation {
		t.Fatalf("equivocation flags %+v", res)
	}
	winner := a
	if b.Hash().String() < a.Hash().String() {
		winner = b
	}
	if r, _ := s.Get(pub, "same-slot"); r.Signed.Hash() != winner.Hash() {
		t.Fatal("the lower hash does not win the slot")
	}
	var eqs []Equivocation
	for e, err := range s.Equivocations() {
		if err != nil {
			t.Fatal(err)
		}
		eqs = append(eqs, e)
	}
	if len(eqs) != 1 || eqs[0].Seq != 1 || len(eqs[0].Hashes) != 3 || eqs[0].DetectedAt.IsZero() {
		t.Fatalf("equivocations %+v", eqs)
	}
	if p, _ := s.PublisherSummary(pub); p.Equivocations != 1 {
		t.Fatalf("summary counts %d equivocations", p.Equivocations)
	}
	checkDerived(t, s)
}

func TestLockAndClose(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	k, _ := key(t, 3)
	if _, err := s.Apply(context.Background(), Incoming{Signed: practice(t, k, 1, "abc", "x")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close = %v", err)
	}
	// The lock is released: the directory opens again, with its data.
	s2 := openStore(t, dir)
	if c, _, _ := s2.Counts(); c.Publishers != 0 {
		t.Fatalf("unexpected data %+v", c)
	}
}

func TestConcurrentApplyGroupsCommits(t *testing.T) {
	s := openStore(t, "")
	k, pub := key(t, 4)
	const n = 400
	signed := make([]*protocol.Signed, n)
	for i := range signed {
		signed[i] = practice(t, k, uint64(i+1), "p-"+strconv.Itoa(i), "Practice")
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range signed {
		wg.Go(func() {
			_, err := s.Apply(context.Background(), Incoming{Signed: signed[i]})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p, err := s.PublisherSummary(pub); err != nil || p.Practices != n || p.Digest.MaxSeq != n {
		t.Fatalf("summary %+v, %v", p, err)
	}
	checkDerived(t, s)
}

func TestApplyCanceled(t *testing.T) {
	s := openStore(t, "")
	k, _ := key(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Apply(ctx, Incoming{Signed: practice(t, k, 1, "abc", "x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply with a canceled context = %v", err)
	}
	if _, err := s.Apply(context.Background(), Incoming{}); err == nil {
		t.Fatal("Apply of a nil announcement succeeded")
	}
}

// TestPropertyOrderIndependence applies the same announcements, with
// updates, retractions, replays, profiles and equivocations, in many random
// orders, with duplicates and in random batches, and requires every store to
// end in the same state as a reference model; Rebuild must not change it.
func TestPropertyOrderIndependence(t *testing.T) {
	var all []*protocol.Signed
	model := map[string]*protocol.Signed{} // publisher/slot -> winner
	consider := func(s *protocol.Signed) {
		all = append(all, s)
		a := s.Announcement()
		k := a.Publisher.String() + "/" + s.Slot()
		if cur := model[k]; cur == nil || rankAbove(a.Seq, s.Hash(), cur.Announcement().Seq, cur.Hash()) {
			model[k] = s
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	slots := []string{"alpha", "bravo", "charlie", "delta"}
	for p := range 3 {
		k, _ := key(t, byte(10+p))
		for seq := uint64(1); seq <= 24; seq++ {
			slot := slots[rng.IntN(len(slots))]
			switch r := rng.IntN(10); {
			case r < 2:
				consider(retract(t, k, seq, slot))
			case r < 3:
				consider(profile(t, k, seq, "Org "+strconv.Itoa(int(seq))))
			default:
				consider(practice(t, k, seq, slot, "Title "+strconv.Itoa(int(seq))))
			}
			if rng.IntN(6) == 0 { // equivocate: another statement with the same seq
				consider(practice(t, k, seq, slots[rng.IntN(len(slots))], "Equivocation "+strconv.Itoa(int(seq))))
			}
		}
	}
	var want []string
	for _, w := range model {
		a := w.Announcement()
		want = append(want, a.Publisher.String()+" "+w.Slot()+" "+w.Hash().String())
	}
	slices.Sort(want)

	var first string
	for round := range 12 {
		order := slices.Clone(all)
		for range len(all) / 3 { // duplicates
			order = append(order, all[rng.IntN(len(all))])
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		s := openStore(t, "")
		for len(order) > 0 {
			n := min(len(order), 1+rng.IntN(8))
			apply(t, s, order[:n]...)
			order = order[n:]
		}
		var got []string
		for r, err := range s.List(ListOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			a := r.Announcement()
			got = append(got, a.Publisher.String()+" "+r.Signed.Slot()+" "+r.Signed.Hash().String())
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: state differs from the model:\n got %v\nwant %v", round, got, want)
		}
		d := dump(t, s)
		if round == 0 {
			first = d
		} else if d != first {
			t.Fatalf("round %d: replica differs:\n%s\nfirst:\n%s", round, d, first)
		}
		checkDerived(t, s)
		if round%4 == 0 {
			if err := s.Rebuild(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d2 := dump(t, s); d2 != d {
				t.Fatalf("Rebuild changed the store:\n%s\nbefore:\n%s", d2, d)
			}
		}
	}
	if !strings.Contains(first, "\nequivocation ") {
		t.Fatal("the generated history has no equivocation; the test lost its teeth")
	}
}

// TestInterruptedRebuildFinishesOnOpen simulates a crash in the middle of
// Rebuild (marker set, derived records dropped) and requires Open to
// restore them.
func TestInterruptedRebuildFinishesOnOpen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	k, _ := key(t, 6)
	apply(t, s, practice(t, k, 1, "alpha", "A"), practice(t, k, 1, "bravo", "B"), retract(t, k, 2, "alpha"))
	want := dump(t, s)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaRebuilding, nil) }); err != nil {
		t.Fatal(err)
	}
	if err := s.db.DropPrefix(derivedPrefixes...); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := s.Counts(); c.Publishers != 0 {
		t.Fatal("derived records were not dropped")
	}
	s.Close()
	s2 := openStore(t, dir)
	if got := dump(t, s2); got != want {
		t.Fatalf("after reopen:\n%s\nwant:\n%s", got, want)
	}
	checkDerived(t, s2)
}
