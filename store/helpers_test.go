package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

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

func retract(t testing.TB, k crypto.PrivKey, seq uint64, id string) *protocol.Signed {
	return seal(t, k, &protocol.Announcement{Seq: seq, Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: id}})
}

func profile(t testing.TB, k crypto.PrivKey, seq uint64, name string) *protocol.Signed {
	return seal(t, k, &protocol.Announcement{Seq: seq, Kind: protocol.KindProfile,
		Profile: &protocol.Profile{Name: name, Country: "IT", Level: "municipality"}})
}

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
		fmt.Fprintf(&b, "publisher %s practices=%d retracted=%d profiles=%d orgops=%d lists=%d equivocations=%d maxseen=%d bytes=%d digest=%d/%d/%x\n",
			p.ID, p.Practices, p.Retracted, p.Profiles, p.OrgOps, p.Lists, p.Equivocations, p.MaxSeenSeq, p.Bytes, p.Digest.Count, p.Digest.MaxSeq, p.Digest.Fingerprint())
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
	}
}
