package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/khantara/khantara/protocol"
)

// ref is the EnvelopeRef of sg, with a prefix of n hash bytes.
func ref(sg *protocol.Signed, n int) EnvelopeRef {
	a, h := sg.Announcement(), sg.Hash()
	return EnvelopeRef{Publisher: a.Publisher, Seq: a.Seq, Prefix: h[:n]}
}

// TestEnvelopes: Envelopes gives, in the order asked and with each ref's
// index, the bytes Envelope gives for every ref held, packed (read in
// runs, with the gaps superseded versions leave) or inline, across more
// than one chunk, and skips a superseded version and a ref never held.
func TestEnvelopes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openInline(t, dir)
	k, _ := key(t, 1)
	all := practices(t, k, 1, 3*envelopesChunk, "p-%d")
	for i := 0; i < len(all); i += 50 { // groups of 50: adjacent in the pack
		apply(t, s, all[i:min(len(all), i+50)]...)
	}
	// Superseded (all[7]): its old envelope stays in the pack, a gap in a
	// run.
	newer := practice(t, k, uint64(len(all))+1, "p-7", "Practice 7, revised")
	apply(t, s, newer)
	// Inline: kept in Badger, not in a pack.
	inline := practice(t, k, uint64(len(all))+2, "inline", "Inline")
	if _, err := s.ApplyCommitted(context.Background(), Incoming{Signed: inline, From: "test"}); err != nil {
		t.Fatal(err)
	}
	other, _ := key(t, 2)
	never := practice(t, other, 1, "never", "Never applied")

	var refs []EnvelopeRef
	for _, sg := range append(all, newer, inline, never) {
		refs = append(refs, ref(sg, 8))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	shuffled := map[int][]byte{}
	for i, r := range refs {
		for j, sg := range append(all, newer, inline) {
			if j != 7 && string(ref(sg, 8).Prefix) == string(r.Prefix) {
				shuffled[i] = sg.Envelope()
			}
		}
	}
	if len(shuffled) != len(refs)-2 {
		t.Fatalf("%d envelopes to find, want %d", len(shuffled), len(refs)-2)
	}
	held := map[int]bool{}
	for i := range shuffled {
		held[i] = true
	}
	last := -1
	err := s.Envelopes(refs, func(i int, env []byte) error {
		if i <= last {
			t.Fatalf("ref %d after ref %d: not in the order asked", i, last)
		}
		last = i
		if string(env) != string(shuffled[i]) {
			t.Fatalf("ref %d: other bytes than its envelope (held: %v)", i, shuffled[i] != nil)
		}
		delete(shuffled, i)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(shuffled) != 0 {
		t.Fatalf("%d held envelopes not given", len(shuffled))
	}
	for i, r := range refs {
		env, err := s.Envelope(r.Publisher, r.Seq, r.Prefix)
		if held[i] != (err == nil && len(env) > 0) || (!held[i] && !errors.Is(err, ErrNotFound)) {
			t.Fatalf("Envelope of ref %d (held %v): %d bytes, %v", i, held[i], len(env), err)
		}
	}
	// A chunk stops once its envelopes reach its byte limit.
	const limit = 20_000
	envs, err := s.readEnvelopes(refs, limit)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, env := range envs[:len(envs)-1] {
		size += len(env)
	}
	if size >= limit || size+len(envs[len(envs)-1]) < limit {
		t.Fatalf("a chunk read %d refs, %d bytes before its last and %d with it: want it to stop on reaching %d",
			len(envs), size, size+len(envs[len(envs)-1]), limit)
	}
	// fn's error ends the call.
	stop := errors.New("stop")
	calls := 0
	if err := s.Envelopes(refs, func(int, []byte) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("fn failing: %v after %d calls, want its error after 1", err, calls)
	}
}

// TestEnvelopesCorruptRun: an envelope altered in the middle of a run
// fails the read with ErrCorrupt naming its pack and offset, not the
// run's; the others of the run read alone.
func TestEnvelopesCorruptRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	k, _ := key(t, 1)
	all := practices(t, k, 1, 20, "p-%d")
	apply(t, s, all...)
	files := packFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d pack files, want 1", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// The tenth envelope: its offset in the pack.
	off := 0
	for _, sg := range all[:9] {
		off += len(sg.Envelope())
	}
	if string(b[off:off+len(all[9].Envelope())]) != string(all[9].Envelope()) {
		t.Fatal("the pack does not hold the envelopes back to back: the test would prove nothing")
	}
	b[off+100] ^= 0x20
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	var refs []EnvelopeRef
	for _, sg := range all {
		refs = append(refs, ref(sg, 8))
	}
	err = s.Envelopes(refs, func(int, []byte) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a run with an altered envelope: %v, want ErrCorrupt", err)
	}
	if want := filepath.Base(files[0]); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name the pack %s", err, want)
	}
	if want := "at " + strconv.Itoa(off) + ":"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name the altered envelope's offset (%s)", err, want)
	}
	// Every other envelope still reads.
	for i, r := range refs {
		if i == 9 {
			continue
		}
		if _, err := s.Envelope(r.Publisher, r.Seq, r.Prefix); err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
	}
}
