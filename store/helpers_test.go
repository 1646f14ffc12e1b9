package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func key(t testing.TB, seed byte) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(k)
	return k, id
}

func sheet(id, title string) *protocol.FactSheet {
	return &protocol.FactSheet{
		ID: id, Title: title, Language: "en", Country: "IT", Organiser: "Comune di Prova",
		StartYear: 2011, Objective: "Help newcomers learn the language and find work.",
		Dimensions: []string{"cultural", "socio_economic"},
	}
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func seal(t testing.TB, k crypto.PrivKey, a *protocol.Announcement) *protocol.Signed {
	t.Helper()
	a.V = protocol.Version
	if a.Time.IsZero() {
		a.Time = t0.Add(time.Duration(a.Seq) * time.Second)
	}
	s, err := protocol.Seal(a, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func practice(t testing.TB, k crypto.PrivKey, seq uint64, id, title string) *protocol.Signed {
	return seal(t, k, &protocol.Announcement{Seq: seq, Kind: protocol.KindPractice, Practice: sheet(id, title)})
}

// practices are n practices of k, sequences first..first+n-1, with the
// IDs fmt.Sprintf(idFormat, i) for i from 0.
func practices(t testing.TB, k crypto.PrivKey, first uint64, n int, idFormat string) []*protocol.Signed {
	out := make([]*protocol.Signed, n)
	for i := range out {
		out[i] = practice(t, k, first+uint64(i), fmt.Sprintf(idFormat, i), fmt.Sprintf("Practice %d", i))
	}
	return out
}

func retract(t testing.TB, k crypto.PrivKey, seq uint64, id string) *protocol.Signed {
	return seal(t, k, &protocol.Announcement{Seq: seq, Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: id}})
}

func profile(t testing.TB, k crypto.PrivKey, seq uint64, name string) *protocol.Signed {
	return seal(t, k, &protocol.Announcement{Seq: seq, Kind: protocol.KindProfile,
		Profile: &protocol.Profile{Name: name, Country: "IT", Level: "municipality"}})
}

// withInlineCommitted makes ApplyCommitted keep envelopes inline in
// Badger, as stores did before gossip went to the packs.
func withInlineCommitted() Option { return func(c *config) { c.inlineCommitted = true } }

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(dir, WithMemTableSize(8<<20), WithCacheSize(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func apply(t testing.TB, s *Store, items ...*protocol.Signed) []Result {
	t.Helper()
	in := make([]Incoming, len(items))
	for i, it := range items {
		in[i] = Incoming{Signed: it, From: "test"}
	}
	res, err := s.Apply(context.Background(), in...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// dump renders everything that must agree between replicas: the state,
// the equivocation records and the digests.
func dump(t testing.TB, s *Store) string {
	t.Helper()
	var b bytes.Buffer
	for r, err := range s.List(ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		a := r.Announcement()
		fmt.Fprintf(&b, "state %s %s seq=%d kind=%s signer=%s hash=%s\n", a.Publisher, r.Signed.Slot(), a.Seq, a.Kind, r.Signed.Signer(), r.Signed.Hash())
	}
	for e, err := range s.Equivocations() {
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "equivocation %s signer=%s seq=%d hashes=%v\n", e.Publisher, e.Signer, e.Seq, e.Hashes)
	}
	for p, err := range s.Publishers() {
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "publisher %s practices=%d retracted=%d profiles=%d orgops=%d lists=%d experiences=%d/%d equivocations=%d maxseen=%d bytes=%d digest=%d/%d/%x v1=%d/%d/%x\n",
			p.ID, p.Practices, p.Retracted, p.Profiles, p.OrgOps, p.Lists, p.Experiences, p.RetractedExperiences, p.Equivocations, p.MaxSeenSeq, p.Bytes,
			p.Digest.Count, p.Digest.MaxSeq, p.Digest.Fingerprint(), p.V1.Count, p.V1.MaxSeq, p.V1.Fingerprint())
	}
	c, d, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "counts %+v root=%x\n", c, d.Fingerprint())
	return b.String()
}

// checkDerived verifies that the derived records agree with the primary
// ones: the sequence index lists exactly the state, and each publisher's
// digest is the sum over its state.
func checkDerived(t testing.TB, s *Store) {
	t.Helper()
	for p, err := range s.Publishers() {
		if err != nil {
			t.Fatal(err)
		}
		var d Digest
		for it, err := range s.Items(p.ID, 0) {
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Get(p.ID, it.Slot)
			if err != nil || r.Signed.Hash() != it.Hash {
				t.Fatalf("sequence index entry %d %s has no matching state: %v", it.Seq, it.Slot, err)
			}
			d.Count++
			d.MaxSeq = max(d.MaxSeq, it.Seq)
			d.Sum.Add(it.Hash)
		}
		var states uint64
		for _, err := range s.List(ListOptions{Publisher: p.ID}) {
			if err != nil {
				t.Fatal(err)
			}
			states++
		}
		if d != p.Digest || states != d.Count {
			t.Fatalf("publisher %s: summary digest %+v, recomputed %+v, %d state records", p.ID, p.Digest, d, states)
		}
		checkV1Summary(t, s, p)
	}
	checkV1Keys(t, s)
	checkExperienceIndex(t, s)
}

// checkV1Summary recomputes p's v1 digest and experience counts from its
// state records, decoded.
func checkV1Summary(t testing.TB, s *Store, p Publisher) {
	t.Helper()
	var v1 Digest
	var exps, rexps uint64
	for r, err := range s.List(ListOptions{Publisher: p.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		a := r.Announcement()
		if protocol.IsV1(r.Signed) {
			v1.Count++
			v1.MaxSeq = max(v1.MaxSeq, a.Seq)
			v1.Sum.Add(r.Signed.Hash())
		}
		switch {
		case a.Kind == protocol.KindExperience:
			exps++
		case a.Kind == protocol.KindRetract && protocol.IsExperienceSlot(r.Signed.Slot()):
			rexps++
		}
	}
	if v1 != p.V1 || exps != p.Experiences || rexps != p.RetractedExperiences {
		t.Fatalf("publisher %s: V1 %+v, experiences %d/%d; recomputed %+v, %d/%d", p.ID, p.V1, p.Experiences, p.RetractedExperiences, v1, exps, rexps)
	}
}

// checkV1Keys compares V1Keys and V1EvidenceDigest with Keys filtered by
// decoding each envelope.
func checkV1Keys(t testing.TB, s *Store) {
	t.Helper()
	var want []Key
	var ev Digest
	for k, err := range s.Keys() {
		if err != nil {
			t.Fatal(err)
		}
		env, err := s.Envelope(k.Publisher, k.Seq, k.Hash[:])
		if err != nil {
			t.Fatal(err)
		}
		sg, err := protocol.DecodeStored(env)
		if err != nil {
			t.Fatal(err)
		}
		if !protocol.IsV1(sg) {
			continue
		}
		want = append(want, k)
		if r, err := s.Get(k.Publisher, sg.Slot()); err != nil || r.Signed.Hash() != k.Hash {
			ev.Count++ // not the state: evidence
			ev.MaxSeq = max(ev.MaxSeq, k.Seq)
			ev.Sum.Add(k.Hash)
		}
	}
	var got []Key
	for k, err := range s.V1Keys() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("V1Keys: %d keys, recomputed %d", len(got), len(want))
	}
	if d, err := s.V1EvidenceDigest(); err != nil || d != ev {
		t.Fatalf("V1EvidenceDigest %+v, %v; recomputed %+v", d, err, ev)
	}
}

// checkExperienceIndex checks that the experience index holds exactly the
// live experience records, each under the practice it is about.
func checkExperienceIndex(t testing.TB, s *Store) {
	t.Helper()
	want := map[string]ExperienceCounts{}
	type practiceRef struct {
		pub peer.ID
		id  string
	}
	refs := map[string]practiceRef{}
	var live uint64
	for r, err := range s.List(ListOptions{Kinds: []protocol.Kind{protocol.KindExperience}}) {
		if err != nil {
			t.Fatal(err)
		}
		e := r.Announcement().Experience
		k := string(e.About.Publisher) + "/" + e.About.ID
		c := want[k]
		*c.counter(experienceTypeCode(e.Type))++
		want[k] = c
		refs[k] = practiceRef{e.About.Publisher, e.About.ID}
		live++
		found := false
		for x, err := range s.Experiences(e.About.Publisher, e.About.ID) {
			if err != nil {
				t.Fatal(err)
			}
			found = found || x.Signed.Hash() == r.Signed.Hash()
		}
		if !found {
			t.Fatalf("experience %s/%s is not indexed under %s/%s", r.Announcement().Publisher, r.Signed.Slot(), e.About.Publisher, e.About.ID)
		}
	}
	for k, c := range want {
		got, err := s.ExperienceCounts(refs[k].pub, refs[k].id)
		if err != nil || got != c {
			t.Fatalf("ExperienceCounts(%s, %s) = %+v, %v; want %+v", refs[k].pub, refs[k].id, got, err, c)
		}
	}
	var entries uint64
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixAbout}})
		defer it.Close()
		for it.Seek([]byte{prefixAbout}); it.ValidForPrefix([]byte{prefixAbout}); it.Next() {
			entries++
		}
		return nil
	})
	if err != nil || entries != live {
		t.Fatalf("experience index: %d entries, %d live experience records (%v)", entries, live, err)
	}
}

// requireSchema requires s to be stamped with the current schemaVersion.
func requireSchema(t testing.TB, s *Store, when string) {
	t.Helper()
	var version uint32
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(metaSchema)
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { version = binary.BigEndian.Uint32(v); return nil })
	})
	if err != nil || version != schemaVersion {
		t.Fatalf("schema version %d %s (%v), want %d", version, when, err, schemaVersion)
	}
}
