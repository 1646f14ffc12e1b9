package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	khome "github.com/khantara/khantara/home"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/search"
	"github.com/urfave/cli/v2"
)

func ptrTo[T any](v T) *T { return &v }

// parsedQuery runs khantara with args, the action of the command named
// first replaced by one that returns the query its flags make.
func parsedQuery(t *testing.T, args ...string) (search.Query, error) {
	t.Helper()
	app := newApp()
	var got search.Query
	for _, cmd := range app.Commands {
		if cmd.Name == args[0] {
			cmd.Action = func(c *cli.Context) error {
				pos, err := positionals(c)
				if err != nil {
					return err
				}
				got, err = queryFromFlags(c, pos)
				return err
			}
		}
	}
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	err := app.Run(append([]string{"khantara"}, args...))
	return got, err
}

func TestSearchFlagsToQuery(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want search.Query
	}{
		{"nothing", []string{"search"}, search.Query{}},
		{"every flag", []string{"search", "language", "course",
			"--country", "it,fr", "--country", "DE", "--dimension", "Cultural", "--target-group", "women",
			"--target-group", "youth", "--funding-source", "eu", "--achievement", "fully", "--evaluation", "external",
			"--publisher", "12D3KooWAbc", "--language", "pt-br", "--has-translation", "--ongoing=false",
			"--funding-min", "0", "--funding-max", "5000", "--year-from", "2005", "--year-to", "2010",
			"--sort", "-year", "--limit", "10", "--page", "3"},
			search.Query{Text: "language course", Country: []string{"IT", "FR", "DE"}, Dimension: []string{"cultural"},
				TargetGroup: []string{"women", "youth"}, FundingSource: []string{"eu"}, Achievement: []string{"fully"},
				Evaluation: []string{"external"}, Publisher: []string{"12D3KooWAbc"}, Language: []string{"pt-BR"},
				HasTranslation: ptrTo(true), Ongoing: ptrTo(false), FundingMin: ptrTo[int64](0), FundingMax: ptrTo[int64](5000),
				YearFrom: 2005, YearTo: 2010, Sort: "-year", Offset: 20, Limit: 10}},
		{"flags before the words", []string{"search", "--country", "IT", "housing", "--ongoing"},
			search.Query{Text: "housing", Country: []string{"IT"}, Ongoing: ptrTo(true)}},
		{"page with the default limit", []string{"search", "--page", "2"}, search.Query{Offset: 20}},
		{"page 1", []string{"search", "x", "--page", "1", "--limit", "5"}, search.Query{Text: "x", Limit: 5}},
		{"words after --", []string{"search", "x", "--", "-ngo"}, search.Query{Text: "x -ngo"}},
		{"stats filters", []string{"stats", "--by", "year", "--funding-source", "EU,local", "--has-translation=false"},
			search.Query{FundingSource: []string{"eu", "local"}, HasTranslation: ptrTo(false)}},
		{"export filters", []string{"export", "--format", "jsonl", "refugees", "--year-to", "2010"},
			search.Query{Text: "refugees", YearTo: 2010}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsedQuery(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("khantara %q\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
}

// TestSearchUsageErrors checks that bad flags fail with exit code 2 and
// one line naming the flag, before any daemon is needed.
func TestSearchUsageErrors(t *testing.T) {
	home := t.TempDir() // no daemon: a check that passed would exit 3
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"search", "--country", "Italy"}, `--country: "Italy" is not an ISO 3166-1 alpha-2 country code`},
		{[]string{"search", "x", "--country", "uk"}, `--country: "UK" is not ISO 3166-1; write "GB"`},
		{[]string{"search", "x", "--dimension", "economic"}, `--dimension: "economic" is not one of legal_political, socio_economic, cultural`},
		{[]string{"search", "--target-group", "men"}, `--target-group: "men" is not one of all_residents,`},
		{[]string{"stats", "--funding-source", "city"}, `--funding-source: "city" is not one of local,`},
		{[]string{"export", "--achievement", "yes"}, `--achievement: "yes" is not one of fully,`},
		{[]string{"search", "--evaluation", "peer"}, `--evaluation: "peer" is not one of internal,`},
		{[]string{"search", "--publisher", "not/a/peer"}, `--publisher: "not/a/peer" is not a peer ID`},
		{[]string{"search", "--language", "english!"}, `--language: "english!" is not a BCP 47 language tag`},
		{[]string{"search", "--funding-min", "-1"}, "--funding-min: must be 0 or more, got -1"},
		{[]string{"search", "--funding-min", "10", "--funding-max", "5"}, "--funding-min: 10 is more than --funding-max 5"},
		{[]string{"search", "--funding-max", "lots"}, `invalid value "lots" for flag -funding-max`},
		{[]string{"search", "x", "--funding-max", "lots"}, `invalid value "lots" for flag --funding-max`},
		{[]string{"search", "--year-from", "1850"}, "--year-from: 1850 is not a year from 1900 to 2100"},
		{[]string{"search", "--year-from", "0"}, "--year-from: 0 is not a year"},
		{[]string{"stats", "--year-from", "2012", "--year-to", "2005"}, "--year-from: 2012 is after --year-to 2005"},
		{[]string{"search", "--sort", "date"}, `--sort: "date" is not one of relevance, year, -year,`},
		{[]string{"search", "--limit", "5000"}, "--limit: 5000 is over the maximum of 1000"},
		{[]string{"search", "--limit", "-1"}, "--limit: must be 0 or more, got -1"},
		{[]string{"search", "--page", "0"}, "--page: 0 is not a page; pages count from 1"},
		{[]string{"search", "--page", "99999999999"}, "--page: 99999999999 is past the end of any result"},
		{[]string{"search", strings.Repeat("word ", 201)}, "QUERY: 1004 characters; at most 1000"},
		{[]string{"search", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"stats", "--by", "region"}, `--by: "region" is not one of country, dimension, year, source`},
		{[]string{"stats", "--limit", "3"}, "flag provided but not defined: -limit"},
		{[]string{"export", "--format", "xml"}, `--format: "xml" is not one of csv, jsonl, dcat`},
		{[]string{"export", "--page", "2"}, "flag provided but not defined: -page"},
		{[]string{"reindex", "now"}, "reindex takes no arguments"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " ")[:min(40, len(strings.Join(tc.args, " ")))], func(t *testing.T) {
			out, errOut, code := run(t, append(tc.args, "--home", home)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d and one line with %q", code, out, errOut, exitUsage, tc.want)
			}
		})
	}
}

func TestSearchNeedsDaemon(t *testing.T) {
	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "x.csv")
	for _, args := range [][]string{{"search", "housing"}, {"stats"}, {"export"}, {"export", "-o", out}, {"reindex"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errOut, code := run(t, append(args, "--home", home)...)
			want := "khantara: no daemon is running for " + home + " (start it with: khantara daemon --home " + home + ")\n"
			if code != exitNoDaemon || errOut != want {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, exitNoDaemon, want)
			}
		})
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(matches) != 0 {
		t.Fatalf("export without a daemon left %q", matches)
	}
}

// facets makes facet values from value, count pairs.
func facets(pairs ...any) []search.FacetValue {
	var out []search.FacetValue
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, search.FacetValue{Value: pairs[i].(string), Count: pairs[i+1].(int)})
	}
	return out
}

// sampleResult is a canned answer of GET /api/v1/search.
func sampleResult() search.Result {
	return search.Result{
		Total: 3,
		Took:  3200 * time.Microsecond,
		Hits: []search.Hit{
			{Publisher: "12D3KooWAbcdefghijklmnop", ID: "cric-roubaix", Country: "FR", StartYear: 2011, Ongoing: true,
				FundingEUR: ptrTo[int64](8000), Title: strings.TrimSpace(strings.Repeat("Long title ", 12))},
			{Publisher: "12D3KooWQrstuvwxyz123456", ID: "polo-sociale", Country: "IT", StartYear: 2009, EndYear: 2012,
				FundingEUR: ptrTo[int64](1250000), Title: "Polo Sociale Integrato"},
			{Publisher: "P", ID: "x", Title: "No years"},
		},
		Facets: map[string][]search.FacetValue{
			"country":    facets("FR", 1, "IT", 1),
			"dimension":  facets("cultural", 2),
			"publisher":  facets("12D3KooWAbcdefghijklmnop", 1, "P", 1),
			"start_year": facets("2001", 1, "2002", 1, "2003", 1, "2004", 1, "2005", 1, "2006", 1, "2007", 1, "2008", 1, "2009", 1, "2010", 1, "2011", 1, "2012", 1),
			"custom":     facets("", 3),
			"language":   {},
		},
	}
}

func TestSearchOutput(t *testing.T) {
	var b strings.Builder
	printSearch(&b, sampleResult(), search.Query{}, 0, true)
	want := `3 practices (took 3.2 ms)
PUBLISHER  ID            COUNTRY  YEARS            EUR  TITLE
…ijklmnop  cric-roubaix  FR       2011–now       8,000  ` + strings.TrimSpace(strings.Repeat("Long title ", 12)) + `
…yz123456  polo-sociale  IT       2009–2012  1,250,000  Polo Sociale Integrato
P          x             -        -                  -  No years

Facets (matching practices per value):
  country: FR 1, IT 1
  dimension: cultural 2
  publisher: …ijklmnop 1, P 1
  start_year: 2001 1, 2002 1, 2003 1, 2004 1, 2005 1, 2006 1, 2007 1, 2008 1, 2009 1, 2010 1, +2 more
  custom: (none) 3
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	// On a terminal, titles are cut to fit.
	b.Reset()
	printSearch(&b, sampleResult(), search.Query{}, 80, false)
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}
	if !strings.Contains(b.String(), "  Long title Long title L…\n") || strings.Contains(b.String(), "Facets") {
		t.Fatalf("at 80 columns without --facets:\n%s", b.String())
	}

	// A middle page says which practices it shows and how to get more.
	page := sampleResult()
	page.Total, page.Took = 45, 25*time.Millisecond
	b.Reset()
	printSearch(&b, page, search.Query{Offset: 20, Limit: 20}, 0, false)
	if !strings.HasPrefix(b.String(), "45 practices, 21–23 shown (took 25 ms)\n") || !strings.HasSuffix(b.String(), "\nmore: add --page 3\n") {
		t.Fatalf("page 2:\n%s", b.String())
	}

	for _, tc := range []struct {
		res  search.Result
		q    search.Query
		want string
	}{
		{search.Result{Took: 400 * time.Microsecond}, search.Query{}, "no practices match (took 0.4 ms)\n"},
		{search.Result{Total: 1234, Took: time.Millisecond}, search.Query{Offset: 2000, Limit: 100}, "1,234 practices; page 21 is past the end (took 1.0 ms)\n"},
		{search.Result{Total: 1, Hits: []search.Hit{{Publisher: "P", ID: "a", StartYear: 2020, EndYear: 2020, Title: "T"}}}, search.Query{},
			"1 practice (took 0.0 ms)\nPUBLISHER  ID  COUNTRY  YEARS  EUR  TITLE\nP          a   -        2020     -  T\n"},
	} {
		b.Reset()
		printSearch(&b, tc.res, tc.q, 0, true)
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
}

func TestStatsOutput(t *testing.T) {
	var b strings.Builder
	printStats(&b, search.Stats{
		By:    "dimension",
		Total: search.Group{Practices: 40, Funded: 22, FundingEUR: 31_500_000, Beneficiaries: 120_345},
		Groups: []search.Group{
			{Key: "socio_economic", Practices: 30, Funded: 18, FundingEUR: 30_000_000, Beneficiaries: 100_000},
			{Key: "cultural", Practices: 12, Funded: 4, FundingEUR: 1_500_000, Beneficiaries: 20_345},
			{Key: "legal_political", Practices: 2},
		},
	})
	want := `DIMENSION        PRACTICES  FUNDED         EUR  BENEFICIARIES
socio_economic          30      18  30,000,000        100,000
cultural                12       4   1,500,000         20,345
legal_political          2       0           -              0
total                   40      22  31,500,000        120,345
(a practice with several values of dimension counts in each of their rows, and once in the total)
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	printStats(&b, search.Stats{By: "country"})
	if b.String() != "no practices match\n" {
		t.Fatalf("empty stats: %q", b.String())
	}
}

// canned records what a fake daemon was asked.
type canned struct {
	method, path, query, auth string
	parsed                    search.Query
	calls                     atomic.Int32
}

// record notes the request and parses its query as the API does.
func (c *canned) record(t *testing.T, r *http.Request, extra ...string) {
	c.calls.Add(1)
	c.method, c.path, c.query, c.auth = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")
	q, err := search.ParseQuery(r.URL.Query(), extra...)
	if err != nil {
		t.Errorf("the API would refuse %q: %v", r.URL.RawQuery, err)
	}
	c.parsed = q
}

func TestSearchFakeDaemon(t *testing.T) {
	var got canned
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.record(t, r)
		if r.URL.Query().Get("q") == "fail" {
			answerJSON(w, 400, api.Error{Error: `country: "XX" is not an ISO 3166-1 alpha-2 country code`})
			return
		}
		answerJSON(w, 200, sampleResult())
	}))

	out, errOut, code := run(t, "search", "--home", d.home, "housing", "--country", "it,fr", "--limit", "10", "--page", "2", "--facets")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := search.Query{Text: "housing", Country: []string{"IT", "FR"}, Offset: 10, Limit: 10}
	if got.method != "GET" || got.path != "/api/v1/search" || got.query != "country=IT%2CFR&limit=10&offset=10&q=housing" ||
		!reflect.DeepEqual(got.parsed, want) {
		t.Fatalf("sent %s %s?%s, parsed %+v", got.method, got.path, got.query, got.parsed)
	}
	if !strings.HasPrefix(out, "3 practices, 11–13 shown (took 3.2 ms)\nPUBLISHER  ID") || !strings.Contains(out, "  country: FR 1, IT 1\n") {
		t.Fatalf("stdout:\n%s", out)
	}

	out, _, code = run(t, "--json", "search", "--home", d.home)
	var res search.Result
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || !reflect.DeepEqual(res, sampleResult()) {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
	}
	if got.query != "" {
		t.Fatalf("an empty search sent %q", got.query)
	}

	_, errOut, code = run(t, "search", "--home", d.home, "fail")
	if code != exitFailed || errOut != "khantara: country: \"XX\" is not an ISO 3166-1 alpha-2 country code\n" {
		t.Fatalf("API error: exit %d, stderr %q", code, errOut)
	}
}

func TestSearchFakeDaemonEmptyLists(t *testing.T) {
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, map[string]any{"total": 0, "hits": nil, "facets": nil})
	}))
	out, _, code := run(t, "search", "--json", "--home", d.home)
	if code != 0 || !strings.Contains(out, `"hits": []`) || !strings.Contains(out, `"facets": {}`) {
		t.Fatalf("exit %d, stdout:\n%s", code, out)
	}
}

func TestStatsFakeDaemon(t *testing.T) {
	var got canned
	st := search.Stats{By: "source", Total: search.Group{Practices: 2, Funded: 1, FundingEUR: 5000},
		Groups: []search.Group{{Key: "eu", Practices: 1, Funded: 1, FundingEUR: 5000}, {Key: "", Practices: 1}}}
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.record(t, r, "by")
		answerJSON(w, 200, st)
	}))
	out, errOut, code := run(t, "stats", "--home", d.home, "--by", "Source", "--ongoing", "migrants")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got.path != "/api/v1/stats" || got.query != "by=source&ongoing=1&q=migrants" ||
		!reflect.DeepEqual(got.parsed, search.Query{Text: "migrants", Ongoing: ptrTo(true)}) {
		t.Fatalf("sent %s?%s", got.path, got.query)
	}
	want := "SOURCE  PRACTICES  FUNDED    EUR  BENEFICIARIES\neu              1       1  5,000              0\n(none)          1       0      -              0\ntotal           2       1  5,000              0\n"
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	out, _, code = run(t, "stats", "--home", d.home, "--json")
	var back search.Stats
	if err := json.Unmarshal([]byte(out), &back); code != 0 || err != nil || !reflect.DeepEqual(back, st) || got.query != "by=country" {
		t.Fatalf("--json: exit %d, %v, query %q:\n%s", code, err, got.query, out)
	}
}

// exportBody is a CSV export of two practices, one with a quoted newline.
const exportBody = "publisher,id,title\nP,a,\"Two\nlines, \"\"quoted\"\"\"\nP,b,Plain\n"

func TestExportFakeDaemon(t *testing.T) {
	var got canned
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.record(t, r, "format")
		switch r.URL.Query().Get("q") {
		case "bad":
			answerJSON(w, 400, api.Error{Error: "the index is busy"})
		case "cut":
			w.Header().Set("Content-Type", "text/csv")
			io.WriteString(w, "publisher,id\nP,a\n")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		default:
			w.Header().Set("Content-Type", "text/csv")
			io.WriteString(w, exportBody)
		}
	}))
	dir := t.TempDir()
	file := filepath.Join(dir, "out.csv")
	noTemp := func(t *testing.T) {
		t.Helper()
		if _, err := os.Stat(file + ".tmp"); err == nil {
			t.Fatal("the export left its temporary file")
		}
	}

	t.Run("stdout", func(t *testing.T) {
		out, errOut, code := run(t, "export", "--home", d.home, "--country", "IT")
		if code != 0 || out != exportBody || errOut != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if got.path != "/api/v1/export" || got.query != "country=IT&format=csv" {
			t.Fatalf("sent %s?%s", got.path, got.query)
		}
	})
	t.Run("file", func(t *testing.T) {
		out, errOut, code := run(t, "export", "--home", d.home, "-o", file)
		if code != 0 || out != "" || errOut != "wrote 2 practices to "+file+" (csv, 57 B)\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if b, _ := os.ReadFile(file); string(b) != exportBody {
			t.Fatalf("file holds %q", b)
		}
		noTemp(t)
	})
	t.Run("refuses to overwrite", func(t *testing.T) {
		before := got.calls.Load()
		_, errOut, code := run(t, "export", "--home", d.home, "-o", file, "--format", "jsonl")
		if code != exitFailed || errOut != "khantara: "+file+" exists; add --force to overwrite it\n" || got.calls.Load() != before {
			t.Fatalf("exit %d, stderr %q, calls %d", code, errOut, got.calls.Load()-before)
		}
	})
	t.Run("force", func(t *testing.T) {
		writeTestFile(t, file, "old")
		_, errOut, code := run(t, "export", "--home", d.home, "--output", file, "--force", "--format", "DCAT")
		if code != 0 || errOut != "wrote "+file+" (dcat, 57 B)\n" || got.query != "format=dcat" {
			t.Fatalf("exit %d, stderr %q, query %q", code, errOut, got.query)
		}
		if b, _ := os.ReadFile(file); string(b) != exportBody {
			t.Fatalf("file holds %q", b)
		}
	})
	t.Run("format from the extension", func(t *testing.T) {
		_, errOut, code := run(t, "export", "--home", d.home, "-o", filepath.Join(dir, "x.ndjson"))
		if code != 0 || got.query != "format=jsonl" || !strings.Contains(errOut, "(jsonl, 57 B)") {
			t.Fatalf("exit %d, stderr %q, query %q", code, errOut, got.query)
		}
	})
	for _, q := range []string{"bad", "cut"} {
		t.Run("failure "+q, func(t *testing.T) {
			writeTestFile(t, file, "old")
			_, errOut, code := run(t, "export", "--home", d.home, "-o", file, "--force", q)
			if code != exitFailed || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if b, _ := os.ReadFile(file); string(b) != "old" {
				t.Fatalf("a failed export changed the file: %q", b)
			}
			noTemp(t)
		})
	}
	t.Run("cut on stdout", func(t *testing.T) {
		_, errOut, code := run(t, "export", "--home", d.home, "cut")
		if code != exitFailed || !strings.Contains(errOut, "GET /api/v1/export stopped after 17 bytes") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("temporary file in the way", func(t *testing.T) {
		os.Remove(file)
		writeTestFile(t, file+".tmp", "other")
		t.Cleanup(func() { os.Remove(file + ".tmp") })
		_, errOut, code := run(t, "export", "--home", d.home, "-o", file)
		if code != exitFailed || !strings.Contains(errOut, file+".tmp exists: another export") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if b, _ := os.ReadFile(file + ".tmp"); string(b) != "other" {
			t.Fatalf("the export touched a file it did not create: %q", b)
		}
	})
}

func TestExportFormat(t *testing.T) {
	for _, tc := range []struct{ flag, out, want string }{
		{"", "", "csv"}, {"", "a.CSV", "csv"}, {"", "a.jsonl", "jsonl"}, {"", "a.ndjson", "jsonl"},
		{"", "a.jsonld", "dcat"}, {"", "a.txt", "csv"}, {"jsonl", "a.csv", "jsonl"}, {" Dcat ", "", "dcat"},
	} {
		if got, err := exportFormat(tc.flag, tc.out); err != nil || got != tc.want {
			t.Errorf("exportFormat(%q, %q) = %q, %v; want %q", tc.flag, tc.out, got, err, tc.want)
		}
	}
}

func TestExportRecordCounter(t *testing.T) {
	for _, tc := range []struct {
		body   string
		csv    bool
		chunks int
		want   int64
	}{
		{"", true, 1, 0},
		{"h1,h2\n", true, 1, 0},
		{exportBody, true, 1, 2},
		{exportBody, true, 7, 2},
		{"h\r\na\r\nb", true, 1, 2},
		{`{"a":"x\ny"}` + "\n" + `{"b":"\""}` + "\n", false, 3, 2},
		{`{"a":1}`, false, 1, 1},
	} {
		var sink strings.Builder
		rc := &recordCounter{w: &sink, csv: tc.csv}
		step := max(1, len(tc.body)/tc.chunks)
		for i := 0; i < len(tc.body); i += step {
			rc.Write([]byte(tc.body[i:min(len(tc.body), i+step)]))
		}
		if rc.records() != tc.want || sink.String() != tc.body || rc.n != int64(len(tc.body)) {
			t.Errorf("%q in %d chunks: %d records, %d bytes; want %d", tc.body, tc.chunks, rc.records(), rc.n, tc.want)
		}
	}
}

func TestReindexFakeDaemon(t *testing.T) {
	var got canned
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.auth = r.Method, r.URL.Path, r.Header.Get("Authorization")
		if got.auth != "Bearer secret" {
			answerJSON(w, 401, api.Error{Error: "missing or wrong API token"})
			return
		}
		answerJSON(w, 200, api.Reindexed{Indexed: 1234, Seconds: 2.54})
	}))
	out, errOut, code := run(t, "reindex", "--home", d.home)
	if code != 0 || out != "indexed 1,234 practices in 2.5 s\n" || got.method != "POST" || got.path != "/api/v1/reindex" {
		t.Fatalf("exit %d, stdout %q, stderr %q, sent %s %s", code, out, errOut, got.method, got.path)
	}
	out, _, code = run(t, "reindex", "--json", "--home", d.home)
	if code != 0 || out != "{\n  \"indexed\": 1234,\n  \"seconds\": 2.54\n}\n" {
		t.Fatalf("--json: exit %d, %q", code, out)
	}
	writeTestFile(t, filepath.Join(d.home, khome.APITokenFile), "wrong\n")
	_, errOut, code = run(t, "reindex", "--home", d.home)
	if code != exitFailed || !strings.Contains(errOut, "refused the API token") {
		t.Fatalf("wrong token: exit %d, stderr %q", code, errOut)
	}
}

// TestSearchExperienceFlags: the flags experience records bring make
// their query parameters.
func TestSearchExperienceFlags(t *testing.T) {
	pub := "12D3KooWAbc"
	tests := []struct {
		name string
		args []string
		want search.Query
	}{
		{"practice filters", []string{"search", "--adapted", "2", "--adapted-max", "4", "--has-lessons", "--endorsed-by", pub, "--sort", "-adapted"},
			search.Query{Adapted: 2, AdaptedMax: ptrTo(4), HasLessons: ptrTo(true), EndorsedBy: []string{pub}, Sort: "-adapted"}},
		{"never adapted", []string{"stats", "--by", "adaptation", "--adapted-max", "0"}, search.Query{AdaptedMax: ptrTo(0)}},
		{"records", []string{"search", "café", "--kind", "experience", "--type", "lesson,answer", "--about", pub + "/cric-roubaix",
			"--about-state", "not_held", "--sort", "-time"},
			search.Query{Kind: "experience", Text: "café", Type: []string{"lesson", "answer"}, About: []string{pub + "/cric-roubaix"},
				AboutState: []string{"not_held"}, Sort: "-time"}},
		{"export", []string{"export", "--has-lessons=false"}, search.Query{HasLessons: ptrTo(false)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsedQuery(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("khantara %q\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
	home := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "--adapted", "-1"}, "--adapted: must be 0 or more, got -1"},
		{[]string{"search", "--adapted", "3", "--adapted-max", "1"}, "--adapted: 3 is more than --adapted-max 1"},
		{[]string{"search", "--kind", "records"}, `--kind: "records" is not one of practice, experience`},
		{[]string{"search", "--type", "lesson"}, "--type: filters experience records; add --kind experience"},
		{[]string{"search", "--kind", "experience", "--dimension", "cultural"}, "--dimension: filters practices; not with --kind experience"},
		{[]string{"search", "--kind", "experience", "--about", "cric"}, `--about: "cric" is not <publisher>/<practice id>`},
		{[]string{"stats", "--kind", "experience"}, "flag provided but not defined: -kind"},
	} {
		_, errOut, code := run(t, append(tc.args, "--home", home)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("khantara %q: exit %d, stderr %q; want %d and one line with %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// TestSearchExperienceOutput: a page of experience records, the records
// a practice matched through, and the flows of stats --by adaptation.
func TestSearchExperienceOutput(t *testing.T) {
	var b strings.Builder
	res := search.Result{Total: 2, Took: 1500 * time.Microsecond, Experiences: []search.ExperienceHit{
		{Publisher: "12D3KooWAbcdefghijklmnop", Slot: "_exp/conseil-lille", ID: "conseil-lille", Type: "adaptation",
			Title: "A council in Lille", About: search.PracticeRef{Publisher: "12D3KooWQrstuvwxyz123456", ID: "cric-roubaix"}, AboutState: "held"},
		{Publisher: "P", Slot: "_endorse/X/y", Type: "endorsement", Excerpt: "We recommend it.",
			About: search.PracticeRef{Publisher: "X", ID: "y"}, AboutState: "not_held"},
	}}
	printExperienceHits(&b, res, search.Query{Kind: "experience"}, 0)
	want := `2 experience records (took 1.5 ms)
AUTHOR     TYPE         ID             ABOUT                   STATE     TITLE
…ijklmnop  adaptation   conseil-lille  …yz123456/cric-roubaix  held      A council in Lille
P          endorsement  -              X/y                     not_held  We recommend it.
`
	if b.String() != want {
		t.Errorf("records:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	page := sampleResult()
	page.Hits[1].MatchedExperiences = []search.ExperienceRef{{Publisher: "12D3KooWAbcdefghijklmnop", Slot: "_exp/l", Type: "lesson", Title: "Start small"}}
	printSearch(&b, page, search.Query{Text: "small"}, 0, false)
	if !strings.Contains(b.String(), "\npolo-sociale matched in: lesson \"Start small\" by …ijklmnop\n") {
		t.Errorf("matched records:\n%s", b.String())
	}

	b.Reset()
	printStats(&b, search.Stats{By: "adaptation", Total: search.Group{Practices: 3},
		Groups: []search.Group{{Key: "0", Practices: 2}, {Key: "3", Practices: 1}},
		Flows:  []search.Flow{{From: "FR", To: "BE", Adaptations: 2, Practices: 1}, {From: "FR", To: "IT", Adaptations: 1, Practices: 1}}})
	want = `ADAPTED (TIMES)  PRACTICES  FUNDED  EUR  BENEFICIARIES
0                        2       0    -              0
3                        1       0    -              0
total                    3       0    -              0

Adaptations by the practice's country and the adaptation's:
FROM  TO  ADAPTATIONS  PRACTICES
FR    BE            2          1
FR    IT            1          1
`
	if b.String() != want {
		t.Errorf("stats by adaptation:\n%s\nwant:\n%s", b.String(), want)
	}
}
