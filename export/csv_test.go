package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// wantColumns is the CSV header, as documented.
var wantColumns = []string{
	"publisher", "publisher_name", "id", "seq", "title", "language", "translations",
	"country", "region", "city", "lat", "lon", "organiser", "start_year", "end_year", "ongoing",
	"duration_years", "dimensions", "issues", "target_groups", "funding_eur",
	"funding_period_years", "funding_sources", "partner_types", "partner_names",
	"beneficiaries", "achievement", "evaluation", "part_of_national_programme",
	"replicable", "summary", "objective", "context", "challenges", "issues_text",
	"target_groups_text", "assistance", "activities", "staff_training", "funding_notes",
	"partner_description", "beneficiaries_text", "outcomes", "lessons", "evaluation_text",
	"other_information", "contact_organisation", "contact_unit", "contact_email", "website", "links",
	"tags", "signed_at", "received_at", "received_from", "hash", "signer",
}

var plainNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// defused is the test's own statement of the formula rule.
func defused(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && !plainNumber.MatchString(s) {
		return "'" + s
	}
	return s
}

// wantRow derives a practice's CSV row from its YAML document and its
// stored record, column by column.
func wantRow(d sheetDoc, rec *store.Record, pubName string) map[string]string {
	raw := d.raw
	a := rec.Announcement()
	j := func(vs []string) string { return strings.Join(vs, "; ") }
	ongoing := ""
	switch {
	case get(raw, "ongoing") == true:
		ongoing = "true"
	case get(raw, "end_year") != nil:
		ongoing = "false"
	}
	row := map[string]string{
		"publisher":                  a.Publisher.String(),
		"publisher_name":             pubName,
		"id":                         str(raw, "id"),
		"seq":                        strconv.FormatUint(a.Seq, 10),
		"title":                      str(raw, "title"),
		"language":                   str(raw, "language"),
		"translations":               strings.Join(sortedKeys(raw, "translations"), ","),
		"country":                    str(raw, "country"),
		"region":                     str(raw, "region"),
		"city":                       str(raw, "city"),
		"lat":                        str(raw, "location", "lat"),
		"lon":                        str(raw, "location", "lon"),
		"organiser":                  str(raw, "organiser"),
		"start_year":                 str(raw, "start_year"),
		"end_year":                   str(raw, "end_year"),
		"ongoing":                    ongoing,
		"duration_years":             str(raw, "duration_years"),
		"dimensions":                 j(strs(raw, "dimensions")),
		"issues":                     j(strs(raw, "issues")),
		"target_groups":              j(strs(raw, "target_groups")),
		"funding_eur":                str(raw, "funding", "amount_eur"),
		"funding_period_years":       str(raw, "funding", "period_years"),
		"funding_sources":            j(strs(raw, "funding", "sources")),
		"partner_types":              j(strs(raw, "partners", "types")),
		"partner_names":              j(strs(raw, "partners", "names")),
		"beneficiaries":              str(raw, "beneficiaries"),
		"achievement":                str(raw, "achievement"),
		"evaluation":                 str(raw, "evaluation"),
		"part_of_national_programme": str(raw, "part_of_national_programme"),
		"replicable":                 str(raw, "transferability", "replicable"),
		"summary":                    str(raw, "summary"),
		"objective":                  str(raw, "objective"),
		"context":                    str(raw, "context"),
		"challenges":                 str(raw, "challenges"),
		"assistance":                 str(raw, "assistance"),
		"activities":                 str(raw, "activities"),
		"outcomes":                   str(raw, "outcomes"),
		"lessons":                    str(raw, "transferability", "lessons"),
		"other_information":          str(raw, "other_information"),
		"issues_text":                str(raw, "issues_text"),
		"target_groups_text":         str(raw, "target_groups_text"),
		"staff_training":             str(raw, "staff_training"),
		"funding_notes":              str(raw, "funding", "notes"),
		"partner_description":        str(raw, "partners", "description"),
		"beneficiaries_text":         str(raw, "beneficiaries_text"),
		"evaluation_text":            str(raw, "evaluation_text"),
		"contact_organisation":       str(raw, "contact", "organisation"),
		"contact_unit":               str(raw, "contact", "unit"),
		"contact_email":              str(raw, "contact", "email"),
		"website":                    str(raw, "contact", "website"),
		"links":                      j(linkURLs(raw)),
		"tags":                       j(strs(raw, "tags")),
		"signed_at":                  a.Time.UTC().Format(time.RFC3339Nano),
		"received_at":                rec.ReceivedAt.UTC().Format(time.RFC3339Nano),
		"received_from":              rec.From,
		"hash":                       rec.Signed.Hash().String(),
		"signer":                     a.Publisher.String(), // a plain publisher signs its own records
	}
	for k, v := range row {
		row[k] = defused(strings.ReplaceAll(v, "\r\n", "\n"))
	}
	return row
}

// readCSV parses CSV output, checking the BOM, and returns header and rows.
func readCSV(t *testing.T, out []byte, wantBOM bool) ([]string, [][]string) {
	t.Helper()
	if got := bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")); got != wantBOM {
		t.Fatalf("BOM present = %v, want %v (output starts %q)", got, wantBOM, out[:min(len(out), 12)])
	}
	out = bytes.TrimPrefix(out, []byte("\xEF\xBB\xBF"))
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output does not parse as CSV: %v", err)
	}
	if len(rows) == 0 {
		t.Fatal("no header row")
	}
	return rows[0], rows[1:]
}

func TestCSV(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		src     func() Source
		opts    Options
		wantBOM bool
	}{
		{"practices with BOM", func() Source { return StorePractices(f.st) }, Options{Profiles: StoreProfiles(f.st)}, true},
		{"all kinds without BOM", func() Source { return f.st.List(store.ListOptions{}) }, Options{NoBOM: true, Profiles: StoreProfiles(f.st)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := CSV(&buf, tc.src(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			header, rows := readCSV(t, buf.Bytes(), tc.wantBOM)
			if !slices.Equal(header, wantColumns) {
				t.Fatalf("header\n got %q\nwant %q", header, wantColumns)
			}
			if n != len(f.docs) || len(rows) != n {
				t.Fatalf("wrote %d practices in %d rows, want %d", n, len(rows), len(f.docs))
			}
			seen := map[string]bool{}
			for _, row := range rows {
				k := key2(row[0], row[2])
				d, ok := f.docs[k]
				if !ok || seen[k] {
					t.Fatalf("unexpected or repeated row %s (retracted: %v)", k, k == f.retractKey)
				}
				seen[k] = true
				name := ""
				if row[0] == f.a.String() {
					name = f.aName
				}
				want := wantRow(d, f.record(t, k), name)
				for i, col := range header {
					if row[i] != want[col] {
						t.Errorf("%s: column %s\n got %q\nwant %q", k, col, row[i], want[col])
					}
				}
			}
		})
	}
}

func key2(pub, id string) string { return pub + "/" + id }

// TestCSVCells checks single cells by hand: formula neutralisation, text
// that needs quoting, UTF-8, and values that are zero or false.
func TestCSVCells(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	if _, err := CSV(&buf, StorePractices(f.st), Options{Profiles: StoreProfiles(f.st)}); err != nil {
		t.Fatal(err)
	}
	header, rows := readCSV(t, buf.Bytes(), true)
	col := func(row []string, name string) string { return row[slices.Index(header, name)] }
	var edge []string
	for _, r := range rows {
		if col(r, "id") == "edge-cases-test" {
			edge = r
		}
	}
	if edge == nil {
		t.Fatal("no row for the edge sheet")
	}
	for _, tc := range []struct{ column, want string }{
		{"title", `'=SUM(A1:A3)+HYPERLINK("http://evil.example")`},
		{"organiser", "'@Evil Org, Ltd."},
		{"objective", "'+cmd|' /C calc'!A0"},
		{"context", "-5"},
		{"challenges", "'-5 and more"},
		{"lessons", "'\ttab-led lesson"},
		{"outcomes", "'@mention first"},
		{"partner_names", `'-5; Verein "Brücke", e.V.; -Dash Org`},
		{"summary", "Zeile eins, mit \"Anführungszeichen\", Kommas; und Grüße.\nLinia druga: Łódź, miło, ελληνικά, \"quoted\", done.\n"},
		{"other_information", "line one\nline two"},
		{"translations", "el,pl"},
		{"funding_eur", "1500000"},
		{"funding_period_years", "0.5"},
		{"duration_years", "2.5"},
		{"beneficiaries", "0"},
		{"part_of_national_programme", "false"},
		{"replicable", "false"},
		{"ongoing", "false"},
		{"end_year", "2022"},
		{"dimensions", "cultural; legal_political"},
		{"links", "https://edge.example/a?x=1;y=2; https://edge.example/b"},
		{"publisher_name", f.aName},
		{"received_from", ""},
	} {
		if got := col(edge, tc.column); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.column, got, tc.want)
		}
	}
	// The demo catalogue's own non-ASCII text survives (its Polish and
	// Greek is in translations, which CSV leaves out; the edge sheet's
	// summary above has some).
	for _, s := range []string{"ü", "ä", "é", "–"} {
		found := false
		for _, r := range rows {
			if col(r, "id") != "edge-cases-test" && slices.ContainsFunc(r, func(c string) bool { return strings.Contains(c, s) }) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no demo row contains %q", s)
		}
	}
	// B has no profile and its records came from A.
	for _, r := range rows {
		if col(r, "publisher") == f.b.String() && (col(r, "publisher_name") != "" || col(r, "received_from") != f.a.String()) {
			t.Errorf("row %s: publisher_name %q, received_from %q", col(r, "id"), col(r, "publisher_name"), col(r, "received_from"))
		}
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"=1+1":      "'=1+1",
		"+1":        "+1",
		"-5":        "-5",
		"-2.5":      "-2.5",
		"-5e3":      "'-5e3",
		"-.5":       "'-.5",
		"-5.":       "'-5.",
		"- item":    "'- item",
		"@SUM(A1)":  "'@SUM(A1)",
		"\tx":       "'\tx",
		"\rx":       "'\rx",
		"a=b":       "a=b",
		" =1":       " =1",
		"1500000":   "1500000",
		"'=already": "'=already",
	} {
		if got := neutralise(in); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestErrors covers a failing source and a failing writer for every format.
func TestErrors(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("disk on fire")
	failAfter := func(k int) Source {
		return func(yield func(*store.Record, error) bool) {
			i := 0
			for r, err := range StorePractices(f.st) {
				if i == k {
					yield(nil, boom)
					return
				}
				if !yield(r, err) {
					return
				}
				i++
			}
		}
	}
	for _, name := range []string{"CSV", "JSONL", "DCAT"} {
		t.Run(name+" source error", func(t *testing.T) {
			var buf bytes.Buffer
			n, err := runTo(&buf, name, failAfter(3), f)
			if !errors.Is(err, boom) || n != 3 {
				t.Fatalf("got n=%d err=%v, want 3 and %v", n, err, boom)
			}
		})
		t.Run(name+" writer error", func(t *testing.T) {
			n, err := runTo(failingWriter{boom}, name, StorePractices(f.st), f)
			if !errors.Is(err, boom) {
				t.Fatalf("got n=%d err=%v, want %v", n, err, boom)
			}
		})
		t.Run(name+" empty", func(t *testing.T) {
			var buf bytes.Buffer
			n, err := runTo(&buf, name, func(func(*store.Record, error) bool) {}, f)
			if err != nil || n != 0 {
				t.Fatalf("got n=%d err=%v", n, err)
			}
			if name == "CSV" && strings.Count(buf.String(), "\n") != 1 {
				t.Errorf("empty CSV is not one header row: %q", buf.String())
			}
		})
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func runTo(w io.Writer, format string, src Source, f *fixture) (int, error) {
	switch format {
	case "CSV":
		return CSV(w, src, Options{})
	case "JSONL":
		return JSONL(w, src, Options{})
	default:
		return DCAT(w, src, Catalog{NodeID: f.a})
	}
}

// TestStreaming checks that every format writes while the source is still
// yielding: output reaches the writer long before the last record.
func TestStreaming(t *testing.T) {
	f := newFixture(t)
	var recs []*store.Record
	for r, err := range StorePractices(f.st) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	const total = 3000
	for _, format := range []string{"CSV", "JSONL", "DCAT"} {
		t.Run(format, func(t *testing.T) {
			var w countingWriter
			writtenMidway := -1
			src := func(yield func(*store.Record, error) bool) {
				for i := range total {
					if i == total/2 {
						writtenMidway = w.n
					}
					if !yield(recs[i%len(recs)], nil) {
						return
					}
				}
			}
			n, err := runTo(&w, format, iter.Seq2[*store.Record, error](src), f)
			if err != nil || n != total {
				t.Fatalf("n=%d err=%v", n, err)
			}
			if writtenMidway < w.n/4 {
				t.Errorf("%d of %d bytes written when half the records were read", writtenMidway, w.n)
			}
		})
	}
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// TestSkipsOtherKinds feeds a retraction and a profile directly.
func TestSkipsOtherKinds(t *testing.T) {
	f := newFixture(t)
	var others []*store.Record
	for r, err := range f.st.List(store.ListOptions{Kinds: []protocol.Kind{protocol.KindRetract, protocol.KindProfile}}) {
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, r)
	}
	if len(others) != 2 {
		t.Fatalf("fixture has %d retractions and profiles, want 2", len(others))
	}
	src := func(yield func(*store.Record, error) bool) {
		for _, r := range others {
			if !yield(r, nil) {
				return
			}
		}
	}
	for _, format := range []string{"CSV", "JSONL", "DCAT"} {
		var w countingWriter
		if n, err := runTo(&w, format, src, f); err != nil || n != 0 {
			t.Errorf("%s: n=%d err=%v, want 0 practices", format, n, err)
		}
	}
}
