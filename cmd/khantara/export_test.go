package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportExperienceFlags: --format takes the adaptation graph's
// formats and .graphml files; --kind goes with jsonl only and names its
// values; the request carries both; the summary counts what was written.
func TestExportExperienceFlags(t *testing.T) {
	var got canned
	const jsonl = "{\"kind\":\"experience\"}\n{\"kind\":\"experience\"}\n{\"kind\":\"experience\"}\n"
	d := newFakeDaemon(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.record(t, r, "format", "kind")
		switch r.URL.Query().Get("format") {
		case "jsonl":
			io.WriteString(w, jsonl)
		case "adaptations-csv":
			io.WriteString(w, "source,target\na,b\nc,d\n")
		default:
			io.WriteString(w, "<graphml/>\n")
		}
	}))
	dir := t.TempDir()
	for _, tc := range []struct {
		args       []string
		query, msg string
	}{
		{[]string{"--format", "jsonl", "--kind", "experience", "-o", "e.jsonl"}, "format=jsonl&kind=experience", "wrote 3 experience records to "},
		{[]string{"--kind", "All", "-o", "a.ndjson"}, "format=jsonl&kind=all", "wrote 3 records to "},
		{[]string{"--format", "adaptations-csv", "--country", "IT", "-o", "g.csv"}, "country=IT&format=adaptations-csv", "wrote 2 adaptations to "},
		{[]string{"-o", "g.graphml"}, "format=graphml", "wrote "},
	} {
		out := filepath.Join(dir, tc.args[len(tc.args)-1])
		args := append(append([]string{"export", "--home", d.home}, tc.args[:len(tc.args)-1]...), out)
		_, errOut, code := run(t, args...)
		if code != 0 || got.query != tc.query || !strings.HasPrefix(errOut, tc.msg+out+" (") {
			t.Errorf("%v: exit %d, query %q, stderr %q; want query %q and %q", tc.args, code, got.query, errOut, tc.query, tc.msg)
		}
		if _, err := os.Stat(out); err != nil {
			t.Errorf("%v: %v", tc.args, err)
		}
	}
	before := got.calls.Load()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kind", "experience"}, "--kind: only --format jsonl takes it, not csv"},
		{[]string{"--format", "graphml", "--kind", "all"}, "--kind: only --format jsonl takes it, not graphml"},
		{[]string{"--format", "jsonl", "--kind", "lessons"}, `--kind: "lessons" is not one of practice, experience, all`},
		{[]string{"--format", "gexf"}, `--format: "gexf" is not one of csv, jsonl, dcat, adaptations-csv, graphml`},
	} {
		_, errOut, code := run(t, append([]string{"export", "--home", d.home}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
	if got.calls.Load() != before {
		t.Errorf("a refused command called the daemon")
	}
}
