package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

func TestJSONL(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	n, err := JSONL(&buf, StorePractices(f.st), Options{Profiles: StoreProfiles(f.st)})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(f.docs) {
		t.Fatalf("wrote %d practices, want %d", n, len(f.docs))
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	lines := 0
	seen := map[string]bool{}
	for sc.Scan() {
		lines++
		var members map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &members); err != nil {
			t.Fatalf("line %d does not decode: %v", lines, err)
		}
		for _, m := range []string{"publisher", "id", "seq", "hash", "signer", "signed_at", "received_at", "practice", "envelope"} {
			if _, ok := members[m]; !ok {
				t.Errorf("line %d has no %q", lines, m)
			}
		}
		var line struct {
			Publisher     string          `json:"publisher"`
			PublisherName string          `json:"publisher_name"`
			ID            string          `json:"id"`
			Seq           uint64          `json:"seq"`
			Hash          string          `json:"hash"`
			Signer        string          `json:"signer"`
			SignedAt      time.Time       `json:"signed_at"`
			ReceivedAt    time.Time       `json:"received_at"`
			ReceivedFrom  string          `json:"received_from"`
			Practice      json.RawMessage `json:"practice"`
			Envelope      []byte          `json:"envelope"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		k := key2(line.Publisher, line.ID)
		if _, ok := f.docs[k]; !ok || seen[k] {
			t.Fatalf("unexpected or repeated practice %s", k)
		}
		seen[k] = true

		// The envelope verifies and names the same statement.
		sg, err := protocol.Open(line.Envelope)
		if err != nil {
			t.Fatalf("%s: envelope does not verify: %v", k, err)
		}
		a := sg.Announcement()
		if line.Signer != sg.Signer().String() || line.Signer != line.Publisher {
			t.Errorf("%s: signer %q, want the publisher's key %s", k, line.Signer, sg.Signer())
		}
		if a.Publisher.String() != line.Publisher || a.Seq != line.Seq || sg.Hash().String() != line.Hash ||
			a.Kind != protocol.KindPractice || a.Practice.ID != line.ID || !a.Time.Equal(line.SignedAt) {
			t.Errorf("%s: line says %s seq %d hash %s at %v; envelope says %s seq %d hash %s at %v",
				k, line.Publisher, line.Seq, line.Hash, line.SignedAt, a.Publisher, a.Seq, sg.Hash(), a.Time)
		}
		// practice is the signed fact sheet.
		var practice protocol.FactSheet
		if err := json.Unmarshal(line.Practice, &practice); err != nil {
			t.Fatalf("%s: practice: %v", k, err)
		}
		if !reflect.DeepEqual(&practice, a.Practice) {
			t.Errorf("%s: practice differs from the signed one\n got %+v\nwant %+v", k, practice, *a.Practice)
		}
		if d := f.docs[k]; practice.Title != str(d.raw, "title") || practice.Summary != str(d.raw, "summary") {
			t.Errorf("%s: practice texts differ from the sheet", k)
		}
		// Provenance as stored.
		rec := f.record(t, k)
		if !line.ReceivedAt.Equal(rec.ReceivedAt) || line.ReceivedFrom != rec.From {
			t.Errorf("%s: received %v from %q, store says %v from %q", k, line.ReceivedAt, line.ReceivedFrom, rec.ReceivedAt, rec.From)
		}
		if _, has := members["received_from"]; has != (rec.From != "") {
			t.Errorf("%s: received_from present = %v for From %q", k, has, rec.From)
		}
		wantName := ""
		if line.Publisher == f.a.String() {
			wantName = f.aName
		}
		if line.PublisherName != wantName {
			t.Errorf("%s: publisher_name %q, want %q", k, line.PublisherName, wantName)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != n {
		t.Fatalf("%d lines for %d practices", lines, n)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) && buf.Len() > 0 {
		t.Error("last line is not terminated")
	}
}

// TestJSONLText checks that non-ASCII and HTML-like text is written as is.
func TestJSONLText(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	if _, err := JSONL(&buf, StorePractices(f.st), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Łódź", "miło", "ελληνικά", "Grüße", "Διδασκαλία", `\"Brücke\"`} {
		if !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("output lacks %q", s)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte(`\u00`)) {
		t.Error("output escapes non-ASCII text")
	}
}
