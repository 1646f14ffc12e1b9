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

// jsonlLine is one line of JSONL.
type jsonlLine struct {
	Publisher     string              `json:"publisher"`
	PublisherName string              `json:"publisher_name,omitempty"`
	ID            string              `json:"id"`
	Seq           uint64              `json:"seq"`
	Hash          string              `json:"hash"`
	Signer        string              `json:"signer"`
	SignedAt      time.Time           `json:"signed_at"`
	ReceivedAt    time.Time           `json:"received_at,omitzero"`
	ReceivedFrom  string              `json:"received_from,omitempty"`
	Practice      *protocol.FactSheet `json:"practice"`
	Envelope      []byte              `json:"envelope"`
}

// JSONL writes one JSON object per practice of recs to w, one per line
// (JSON Lines), and returns the number of practices written. Each object
// carries the practice with its signed provenance:
//
//	{"publisher": "12D3KooW…", "publisher_name": "Comune di Palermo",
//	 "id": "…", "seq": 7, "hash": "<hex SHA-256 of the payload>",
//	 "signer": "12D3KooW…",
//	 "signed_at": "<RFC 3339>", "received_at": "<RFC 3339>",
//	 "received_from": "12D3KooW…", "practice": {<the fact sheet>},
//	 "envelope": "<base64>"}
//
// practice has the members of the wire format (PROTOCOL.md section 5).
// envelope is the signed envelope as stored, in standard base64: anyone can
// check it with protocol.Open, which gives back the same publisher, seq,
// hash and practice. publisher is a peer ID or an organisation ID;
// signer is the key that signed (the publisher itself for a plain
// publisher, a delegate of an organisation otherwise). publisher_name (an
// organisation's name from opts.Chains, else the profile's name from
// opts.Profiles) is absent when unknown, received_from for this node's own publications; opts.NoBOM does
// not apply (JSONL never has a BOM).
//
// Writes go through a buffer, flushed before JSONL returns. An error from
// recs aborts the export and is returned as is, with the number of lines
// written before it.
func JSONL(w io.Writer, recs Source, opts Options) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n, err := eachPractice(recs, func(rec *store.Record, a *protocol.Announcement) error {
		line := jsonlLine{
			Publisher:     a.Publisher.String(),
			PublisherName: publisherName(opts.Profiles, opts.Chains, a.Publisher),
			ID:            a.Practice.ID,
			Seq:           a.Seq,
			Hash:          rec.Signed.Hash().String(),
			Signer:        rec.Signed.Signer().String(),
			SignedAt:      a.Time.UTC(),
			ReceivedAt:    rec.ReceivedAt.UTC(),
			ReceivedFrom:  rec.From,
			Practice:      a.Practice,
			Envelope:      rec.Signed.Envelope(),
		}
		if err := json.MarshalWrite(bw, &line, json.Deterministic(true)); err != nil {
			return fmt.Errorf("write JSONL: practice %s/%s: %w", a.Publisher, a.Practice.ID, err)
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
