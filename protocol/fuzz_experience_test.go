package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Experience records in the fuzz corpora: their envelopes and payloads
// seed FuzzOpen and FuzzDecodePayload (as files of testdata/fuzz, which
// every `go test` runs), and experience files seed FuzzParseExperience.

// experienceSeeds are signed experience records for the corpora: one of
// each type by a key, an organisation's, and retractions of an
// experience slot and of an endorsement slot.
func experienceSeeds(t testing.TB) map[string]*Signed {
	t.Helper()
	key := testKey(t, 7)
	out := map[string]*Signed{}
	for i, e := range testRecords(t) {
		out["experience-"+string(e.Type)] = mustSeal(t, &Announcement{V: Version, Seq: uint64(2 + i), Time: t0, Kind: KindExperience, Experience: e}, key)
	}
	out["retract-experience"] = mustSeal(t, &Announcement{V: Version, Seq: 9, Time: t0, Kind: KindRetract,
		Retract: &Retraction{ID: out["experience-lesson"].Slot(), Reason: "withdrawn"}}, key)
	out["retract-endorsement"] = mustSeal(t, &Announcement{V: Version, Seq: 10, Time: t0, Kind: KindRetract,
		Retract: &Retraction{ID: out["experience-endorsement"].Slot()}}, key)
	ex := experienceExample(t)
	out["experience-example"] = ex
	return out
}

// TestWriteExperienceFuzzCorpus regenerates the experience seeds of
// testdata/fuzz when KHANTARA_WRITE_CORPUS=1; otherwise it checks that
// they are there and up to date.
func TestWriteExperienceFuzzCorpus(t *testing.T) {
	corpus := map[string]map[string][]byte{"FuzzOpen": {}, "FuzzDecodePayload": {}, "FuzzParseExperience": {}}
	for name, s := range experienceSeeds(t) {
		payload, err := EncodePayload(s.Announcement())
		if err != nil {
			t.Fatal(err)
		}
		corpus["FuzzOpen"][name] = s.Envelope()
		corpus["FuzzDecodePayload"][name] = payload
	}
	corpus["FuzzParseExperience"]["adaptation-yaml"] = []byte(adaptationYAML)
	corpus["FuzzParseExperience"]["answer-json"] = []byte(`{"type":"answer","id":"re-1","about":{"publisher":"` + vecPublisher +
		`","id":"cric-roubaix"},"language":"en","text":"Yes.","in_reply_to":{"publisher":"5ubP5HxjCqyCHBWPxW4VmTLoptmwVm","id":"q-1"}}`)
	corpus["FuzzParseExperience"]["wrong-shapes"] = []byte("type: [lesson]\nabout: x\nseq: -1\ntranslations: {fr: 3}\n")
	for target, entries := range corpus {
		for name, data := range entries {
			path := filepath.Join("testdata", "fuzz", target, name)
			body := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data))))
			if os.Getenv("KHANTARA_WRITE_CORPUS") != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, body, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, body) {
				t.Errorf("seed corpus file %s missing or stale (regenerate with KHANTARA_WRITE_CORPUS=1): %v", path, err)
			}
		}
	}
}

func FuzzParseExperience(f *testing.F) {
	f.Add([]byte(adaptationYAML))
	f.Add([]byte("type: lesson\nabout: {publisher: 5ubP5HxjCqyCHBWPxW4VmTLoptmwVm, id: abc, seq: 1e3}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseExperience(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ParseExperience error %T %v is neither a validation error nor ErrTooLarge", err, err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("ParseExperience accepted an invalid record: %v", err)
		}
		// What parses seals, and opens to the same slot.
		s, err := Seal(&Announcement{V: Version, Seq: 1, Time: t0, Kind: KindExperience, Experience: e}, testKey(t, 1))
		if err != nil && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("a parsed record does not seal: %v", err)
		}
		if err == nil && (s.Slot() != e.Slot() || IsV1(s)) {
			t.Fatalf("sealed slot %q, record slot %q, v1 %v", s.Slot(), e.Slot(), IsV1(s))
		}
	})
}

// FuzzRetractID checks the grammar of a retraction's id against the slot
// functions: an accepted id is a practice ID or an experience slot that
// the slot functions write back exactly, and IsV1 is true only for a
// practice ID.
func FuzzRetractID(f *testing.F) {
	for _, s := range []string{"cric-roubaix", "_exp/abc", "_profile", EndorsementSlot(OrgID([]byte("o")), "abc"),
		"_endorse/" + vecPublisher + "/cric-roubaix", "_endorse/" + vecPublisher + "/x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		valid := (&Retraction{ID: id}).Validate() == nil
		pub, pid, ok := ParseEndorsementSlot(id)
		if ok && EndorsementSlot(pub, pid) != id {
			t.Fatalf("endorsement slot %q reads as %s %q", id, pub, pid)
		}
		practice := idPattern.MatchString(id)
		exp := strings.HasPrefix(id, ExperienceSlotPrefix) && idPattern.MatchString(id[len(ExperienceSlotPrefix):])
		if valid != (practice || exp || ok) {
			t.Fatalf("retraction of %q valid %v; practice ID %v, experience slot %v, endorsement slot %v", id, valid, practice, exp, ok)
		}
		a := &Announcement{Publisher: idOf(t, testKey(t, 7)), Kind: KindRetract, Retract: &Retraction{ID: id}}
		if valid && a.IsV1() != practice {
			t.Fatalf("retraction of %q: IsV1 %v", id, a.IsV1())
		}
	})
}
