package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.RunContext(context.Background(), append([]string{"khantara"}, args...))
	if err != nil {
		code = exitCode(err) // as main does
		errOut.WriteString("khantara: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), code
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("id: x-y-z\ntitle: T\nlanguage: en\ncountry: UK\norganiser: O\nstart_year: 2020\nobjective: O\ndimensions: [cultural]\nfunding: {amount_eur: -5}\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"demo sheet", []string{"validate", "../../demo/sheets/cric-roubaix.yaml"}, 0, []string{"ok", "cric-roubaix (FR, 2011)"}, nil},
		{"bad sheet", []string{"validate", bad}, 2, nil, []string{
			bad + `:4: country: "UK" is not ISO 3166-1; write "GB"`,
			bad + ":9: funding.amount_eur: must be >= 0, got -5",
			"khantara: 1 of 1 sheets are invalid"}},
		{"missing file", []string{"validate", filepath.Join(dir, "nope.yaml")}, 2, nil, []string{"nope.yaml: no such file"}},
		{"json", []string{"validate", "--json", "../../demo/sheets/cric-roubaix.yaml", bad}, 2, []string{`"valid": true`, `"id": "cric-roubaix"`, `"path": "funding.amount_eur"`, `"line": 9`}, []string{"1 of 2 sheets are invalid"}},
		{"version json", []string{"--json", "version"}, 0, []string{`"sync_protocol": "/khantara/sync/1"`, `"sync_protocols": [`, `"/khantara/sync/3"`}, nil},
		{"no arguments", []string{"validate"}, 2, nil, []string{"name at least one fact-sheet file"}},
		{"version", []string{"version"}, 0, []string{"khantara ", "/khantara/announcement/1", "/khantara/sync/4, /khantara/sync/3, /khantara/sync/2, /khantara/sync/1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}
