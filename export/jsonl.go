package export

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// jsonlLine is one line of JSONL: a practice or an experience record.
type jsonlLine struct {
	Kind          protocol.Kind        `json:"kind"`
	Publisher     string               `json:"publisher"`
	PublisherName string               `json:"publisher_name,omitempty"`
	ID            string               `json:"id,omitempty"`
	Slot          string               `json:"slot"`
	Seq           uint64               `json:"seq"`
	Hash          string               `json:"hash"`
	Signer        string               `json:"signer"`
	SignedAt      time.Time            `json:"signed_at"`
	ReceivedAt    time.Time            `json:"received_at,omitzero"`
	ReceivedFrom  string               `json:"received_from,omitempty"`
	Practice      *protocol.FactSheet  `json:"practice,omitempty"`
	Experience    *protocol.Experience `json:"experience,omitempty"`
	Envelope      []byte               `json:"envelope"`
}

// JSONL writes one JSON object per practice and per experience record of
// recs to w, one per line (JSON Lines), and returns the number of lines
// written; records of other kinds (retractions, profiles, an
// organisation's operations) are skipped. Each object carries the record
// with its signed provenance:
//
//	{"kind": "practice", "publisher": "12D3KooW…",
//	 "publisher_name": "Comune di Palermo", "id": "…", "slot": "…",
//	 "seq": 7, "hash": "<hex SHA-256 of the payload>",
//	 "signer": "12D3KooW…",
//	 "signed_at": "<RFC 3339>", "received_at": "<RFC 3339>",
//	 "received_from": "12D3KooW…", "practice": {<the fact sheet>},
//	 "envelope": "<base64>"}
//
// kind is "practice" or "experience". A practice's line has id (the
// practice ID, also its slot) and practice, with the members of the wire
// format (PROTOCOL.md section 5). An experience record's line has id (its
// ID; absent for an endorsement, which has none), slot (PROTOCOL.md
// 13.3: "_exp/<id>", or "_endorse/<publisher>/<practice id>") and
// experience, with the members of the wire format (PROTOCOL.md 13.2);
// (publisher, slot) names a record in both kinds.
//
// envelope is the signed envelope as stored, in standard base64: anyone
// can check it with protocol.Open, which gives back the same publisher,
// seq, hash, kind and body. publisher is a peer ID or an organisation
// ID; signer is the key that signed (the publisher itself for a plain
// publisher, a delegate of an organisation otherwise). publisher_name
// (an organisation's name from opts.Chains, else the profile's name from
// opts.Profiles) is absent when unknown, received_from for this node's
// own publications; opts.NoBOM does not apply (JSONL never has a BOM).
//
// Writes go through a buffer, flushed before JSONL returns. An error from
// recs aborts the export and is returned as is, with the number of lines
// written before it.
func JSONL(w io.Writer, recs Source, opts Options) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n, err := eachRecord(recs, func(rec *store.Record, a *protocol.Announcement) error {
		line := jsonlLine{
			Kind:          a.Kind,
			Publisher:     a.Publisher.String(),
			PublisherName: publisherName(opts.Profiles, opts.Chains, a.Publisher),
			Slot:          rec.Signed.Slot(),
			Seq:           a.Seq,
			Hash:          rec.Signed.Hash().String(),
			Signer:        rec.Signed.Signer().String(),
			SignedAt:      a.Time.UTC(),
			ReceivedAt:    rec.ReceivedAt.UTC(),
			ReceivedFrom:  rec.From,
			Practice:      a.Practice,
			Experience:    a.Experience,
			Envelope:      rec.Signed.Envelope(),
		}
		if a.Practice != nil {
			line.ID = a.Practice.ID
		} else {
			line.ID = a.Experience.ID
		}
		if err := json.MarshalWrite(bw, &line, json.Deterministic(true)); err != nil {
			return fmt.Errorf("write JSONL: %s %s/%s: %w", a.Kind, a.Publisher, line.Slot, err)
		}
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write JSONL: %w", err)
		}
		return nil
	})
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write JSONL: %w", ferr)
	}
	return n, err
}

// eachRecord calls fn for every practice and experience record of recs,
// in order, and returns how many calls succeeded. It stops at the first
// error, from recs (returned as is) or from fn.
func eachRecord(recs Source, fn func(*store.Record, *protocol.Announcement) error) (int, error) {
	n := 0
	for rec, err := range recs {
		if err != nil {
			return n, err
		}
		if rec == nil || rec.Signed == nil {
			continue
		}
		a := rec.Announcement()
		if !(a.Kind == protocol.KindPractice && a.Practice != nil) && !(a.Kind == protocol.KindExperience && a.Experience != nil) {
			continue
		}
		if err := fn(rec, a); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
