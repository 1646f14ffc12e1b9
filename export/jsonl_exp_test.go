package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// jsonlExpLine is a JSONL line as a researcher's script reads it.
type jsonlExpLine struct {
	Kind          string          `json:"kind"`
	Publisher     string          `json:"publisher"`
	PublisherName string          `json:"publisher_name"`
	ID            string          `json:"id"`
	Slot          string          `json:"slot"`
	Seq           uint64          `json:"seq"`
	Hash          string          `json:"hash"`
	Signer        string          `json:"signer"`
	SignedAt      time.Time       `json:"signed_at"`
	Practice      json.RawMessage `json:"practice"`
	Experience    json.RawMessage `json:"experience"`
	Envelope      []byte          `json:"envelope"`
}

// verifyJSONL opens every line's envelope with protocol.Open (the real
// signature check) and checks that the line says what the envelope
// signs. It returns the lines by key(publisher, slot).
func verifyJSONL(tb testing.TB, out []byte) map[string]jsonlExpLine {
	tb.Helper()
	lines := map[string]jsonlExpLine{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l jsonlExpLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("line %d: %v", len(lines)+1, err)
		}
		sg, err := protocol.Open(l.Envelope)
		if err != nil {
			tb.Fatalf("%s %s: the envelope does not verify: %v", l.Publisher, l.Slot, err)
		}
		a := sg.Announcement()
		if string(a.Kind) != l.Kind || a.Publisher.String() != l.Publisher || sg.Slot() != l.Slot || a.Seq != l.Seq ||
			sg.Hash().String() != l.Hash || sg.Signer().String() != l.Signer || !a.Time.Equal(l.SignedAt) {
			tb.Errorf("%s %s: the line and its envelope disagree: %+v", l.Publisher, l.Slot, a)
		}
		switch a.Kind {
		case protocol.KindExperience:
			var e protocol.Experience
			if err := json.Unmarshal(l.Experience, &e); err != nil || !reflect.DeepEqual(&e, a.Experience) || l.ID != a.Experience.ID || l.Practice != nil {
				tb.Errorf("%s: experience member %s (%v), id %q; the envelope signs %+v", l.Slot, l.Experience, err, l.ID, a.Experience)
			}
		case protocol.KindPractice:
			if l.ID != a.Practice.ID || l.Slot != l.ID || l.Experience != nil || l.Practice == nil {
				tb.Errorf("practice line %s: id %q slot %q", l.Publisher, l.ID, l.Slot)
			}
		default:
			tb.Errorf("%s: a line of kind %s", l.Slot, a.Kind)
		}
		k := key2(l.Publisher, l.Slot)
		if _, dup := lines[k]; dup {
			tb.Errorf("%s written twice", k)
		}
		lines[k] = l
	}
	return lines
}

// TestJSONLExperiences exports the live experience records, alone and
// with the practices, and verifies every envelope: exactly the live
// records (no superseded version, no retracted record), each line
// saying what its envelope signs.
func TestJSONLExperiences(t *testing.T) {
	f := newExpFixture(t)
	var buf bytes.Buffer
	n, err := JSONL(&buf, StoreExperiences(f.st), Options{Profiles: StoreProfiles(f.st)})
	if err != nil {
		t.Fatal(err)
	}
	lines := verifyJSONL(t, buf.Bytes())
	if n != len(f.live) || len(lines) != len(f.live) {
		t.Fatalf("%d lines (n=%d), want the %d live experience records", len(lines), n, len(f.live))
	}
	types := map[protocol.ExperienceType]int{}
	for k, sg := range f.live {
		l, ok := lines[k]
		if !ok || l.Hash != sg.Hash().String() || l.Kind != "experience" {
			t.Errorf("%s: line %+v, want the record %s", k, l, sg.Hash())
		}
		if want := map[string]string{f.a.String(): f.aName, f.c.String(): f.cName}[l.Publisher]; l.PublisherName != want {
			t.Errorf("%s: publisher_name %q, want %q", k, l.PublisherName, want)
		}
		types[sg.Announcement().Experience.Type]++
	}
	if len(types) != len(protocol.ExperienceTypes) {
		t.Errorf("the fixture covers the types %v, not all five", types)
	}

	buf.Reset()
	n, err = JSONL(&buf, StoreRecords(f.st), Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines = verifyJSONL(t, buf.Bytes())
	if n != len(f.live)+len(f.docs) || len(lines) != n {
		t.Fatalf("practices and experiences: %d lines (n=%d), want %d + %d", len(lines), n, len(f.docs), len(f.live))
	}
}

// TestExperiencesAbout selects experience records through the practices
// they are about, as a query's filters do: each practice (when asked)
// followed by the live records about it, nothing about practices not
// selected.
func TestExperiencesAbout(t *testing.T) {
	f := newExpFixture(t)
	// The practices of A that have experience records, and one without.
	about := map[string]int{}
	for _, sg := range f.live {
		e := sg.Announcement().Experience
		about[key(e.About.Publisher, e.About.ID)]++
	}
	var picked []*store.Record
	want := 0
	for rec, err := range StorePractices(f.st) {
		if err != nil {
			t.Fatal(err)
		}
		k := key(rec.Announcement().Publisher, rec.Announcement().Practice.ID)
		if about[k] > 0 && len(picked) < 4 || about[k] == 0 && len(picked) == 4 {
			picked = append(picked, rec)
			want += about[k]
		}
	}
	src := func(yield func(*store.Record, error) bool) {
		for _, r := range picked {
			if !yield(r, nil) {
				return
			}
		}
	}
	for _, withPractices := range []bool{false, true} {
		var got []*store.Record
		for rec, err := range ExperiencesAbout(f.st, src, withPractices) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rec)
		}
		wantN := want
		if withPractices {
			wantN += len(picked)
		}
		if len(got) != wantN || want == 0 {
			t.Fatalf("withPractices %v: %d records, want %d", withPractices, len(got), wantN)
		}
		var current *protocol.Announcement
		for _, rec := range got {
			a := rec.Announcement()
			if a.Kind == protocol.KindPractice {
				current = a
				continue
			}
			e := a.Experience
			if f.live[key(a.Publisher, rec.Signed.Slot())] == nil {
				t.Errorf("%s is not a live experience record", rec.Signed.Slot())
			}
			if withPractices && (current == nil || e.About.Publisher != current.Publisher || e.About.ID != current.Practice.ID) {
				t.Errorf("%s is about %s, not after its practice", rec.Signed.Slot(), e.About.ID)
			}
		}
	}
}
