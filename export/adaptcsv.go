package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// AdaptationsCSV writes the adaptation graph's edge list to w: one row
// per live adaptation record of recs (other records are skipped), after
// a header row, and returns the number of adaptations written. The
// quoting, the byte order mark (unless opts.NoBOM), the formula guard
// and the forms of numbers, booleans and times are those of CSV.
//
// The columns, in order:
//
//   - source, target: the edge's node IDs (adaptations.go: the practice
//     adapted; the resulting practice, else the adaptation's own node),
//     as GraphML names the nodes; Gephi's spreadsheet import and
//     networkx's from_pandas_edgelist read them as the edge's ends.
//   - from_publisher, from_publisher_name, from_id, from_status,
//     from_title, from_country, from_region, from_city: the practice
//     adapted (the record's about), its status (held, retracted or
//     not_held here) and, when held, its title and place.
//   - adapter, adapter_name: the record's publisher and its name;
//     experience_id, slot: the record's ID and slot (_exp/<id>).
//   - language, title, translations (the languages, comma-joined),
//     country, region, city, start_year, end_year, ongoing: the
//     adaptation, where and when.
//   - to_publisher, to_id, to_status, to_title: the practice that
//     resulted, when the record names one.
//   - achievement, evaluation, changes, text, outcomes: what was changed
//     and the result.
//   - about_seq (the version of the original the adapter read, when
//     given), seq, signed_at, received_at, received_from, hash, signer:
//     the record's provenance, as in CSV.
//
// Names come from opts.Chains and opts.Profiles, the practices' state
// from opts.Practices. Writes go through a buffer, flushed before
// AdaptationsCSV returns; an error from recs or a look-up aborts the
// export and is returned, with the number of rows written before it.
func AdaptationsCSV(w io.Writer, recs Source, opts Options) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if !opts.NoBOM {
		bw.WriteString(bom) // an error sticks in bw and shows at Flush
	}
	cw := csv.NewWriter(bw)
	row := make([]string, len(adaptationColumns))
	for i, c := range adaptationColumns {
		row[i] = c.name
	}
	cw.Write(row)
	n, err := eachAdaptation(recs, &opts, func(ad *adaptation) error {
		for i, c := range adaptationColumns {
			row[i] = neutralise(c.value(ad, &opts))
		}
		return cw.Write(row)
	})
	cw.Flush()
	if werr := cw.Error(); werr != nil {
		return n, fmt.Errorf("write adaptations CSV: %w", werr)
	}
	return n, err
}

// adaptationColumn is one column of AdaptationsCSV.
type adaptationColumn struct {
	name  string
	value func(ad *adaptation, opts *Options) string
}

// adaptationColumns are AdaptationsCSV's columns, in order.
var adaptationColumns = []adaptationColumn{
	{"source", func(ad *adaptation, _ *Options) string { return ad.source() }},
	{"target", func(ad *adaptation, _ *Options) string { return ad.target() }},
	{"from_publisher", func(ad *adaptation, _ *Options) string { return ad.from.pub.String() }},
	{"from_publisher_name", func(ad *adaptation, o *Options) string { return publisherName(o.Profiles, o.Chains, ad.from.pub) }},
	{"from_id", func(ad *adaptation, _ *Options) string { return ad.from.id }},
	{"from_status", func(ad *adaptation, _ *Options) string { return ad.from.status }},
	{"from_title", func(ad *adaptation, _ *Options) string { return text(ad.from.title()) }},
	{"from_country", func(ad *adaptation, _ *Options) string { return ad.from.country() }},
	{"from_region", func(ad *adaptation, _ *Options) string { return ad.from.region() }},
	{"from_city", func(ad *adaptation, _ *Options) string { return ad.from.city() }},
	{"adapter", func(ad *adaptation, _ *Options) string { return ad.a.Publisher.String() }},
	{"adapter_name", func(ad *adaptation, o *Options) string { return publisherName(o.Profiles, o.Chains, ad.a.Publisher) }},
	{"experience_id", func(ad *adaptation, _ *Options) string { return ad.e.ID }},
	{"slot", func(ad *adaptation, _ *Options) string { return ad.rec.Signed.Slot() }},
	{"language", func(ad *adaptation, _ *Options) string { return ad.e.Language }},
	{"title", func(ad *adaptation, _ *Options) string { return text(ad.e.Title) }},
	{"translations", func(ad *adaptation, _ *Options) string {
		return strings.Join(slices.Sorted(maps.Keys(ad.e.Translations)), ",")
	}},
	{"country", func(ad *adaptation, _ *Options) string { return ad.e.Country }},
	{"region", func(ad *adaptation, _ *Options) string { return ad.e.Region }},
	{"city", func(ad *adaptation, _ *Options) string { return ad.e.City }},
	{"start_year", func(ad *adaptation, _ *Options) string { return year(ad.e.StartYear) }},
	{"end_year", func(ad *adaptation, _ *Options) string { return year(ad.e.EndYear) }},
	{"ongoing", func(ad *adaptation, _ *Options) string { return ongoing(ad.e) }},
	{"to_publisher", func(ad *adaptation, _ *Options) string { return ad.e.Practice.Publisher.String() }},
	{"to_id", func(ad *adaptation, _ *Options) string { return ad.e.Practice.ID }},
	{"to_status", func(ad *adaptation, _ *Options) string {
		if ad.to == nil {
			return ""
		}
		return ad.to.status
	}},
	{"to_title", func(ad *adaptation, _ *Options) string {
		if ad.to == nil {
			return ""
		}
		return text(ad.to.title())
	}},
	{"achievement", func(ad *adaptation, _ *Options) string { return ad.e.Achievement }},
	{"evaluation", func(ad *adaptation, _ *Options) string { return ad.e.Evaluation }},
	{"changes", func(ad *adaptation, _ *Options) string { return text(ad.e.Changes) }},
	{"text", func(ad *adaptation, _ *Options) string { return text(ad.e.Text) }},
	{"outcomes", func(ad *adaptation, _ *Options) string { return text(ad.e.Outcomes) }},
	{"about_seq", func(ad *adaptation, _ *Options) string { return seqText(ad.e.About.Seq) }},
	{"seq", func(ad *adaptation, _ *Options) string { return seqText(ad.a.Seq) }},
	{"signed_at", func(ad *adaptation, _ *Options) string { return timestamp(ad.a.Time) }},
	{"received_at", func(ad *adaptation, _ *Options) string { return timestamp(ad.rec.ReceivedAt) }},
	{"received_from", func(ad *adaptation, _ *Options) string { return ad.rec.From }},
	{"hash", func(ad *adaptation, _ *Options) string { return ad.rec.Signed.Hash().String() }},
	{"signer", func(ad *adaptation, _ *Options) string { return ad.rec.Signed.Signer().String() }},
}

// seqText is a sequence number, "" for 0 (not given).
func seqText(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}
