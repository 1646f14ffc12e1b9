package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPIQueryStrict: over real HTTP, a malformed percent escape, a ';' or
// a repeated single-valued parameter is a 400 naming the parameter, on
// every route with a query; and a well-formed query still works.
func TestAPIQueryStrict(t *testing.T) {
	n := newTestNet(t, 31).add()
	c := newTestClient(t, n)
	publish(t, n, demoSheets(t)[0])

	tests := []struct {
		name, method, path string
		auth               bool
		want               string // in the error; "" means 200
	}{
		{"good listing", "GET", "/api/v1/practices?limit=5&mine=1", false, ""},
		{"good escape", "GET", "/api/v1/practices?limit=%35&mine=%31", false, ""},
		{"after malformed escape", "GET", "/api/v1/practices?after=%%%", false, `"after": the value "%%%" has a malformed percent escape`},
		{"limit malformed escape", "GET", "/api/v1/practices?limit=%zz", false, `"limit": the value`},
		{"name malformed escape", "GET", "/api/v1/practices?li%mit=5", false, `query parameter "li%mit"`},
		{"limit twice", "GET", "/api/v1/practices?limit=5&limit=6", false, "limit is given 2 times; give it once"},
		{"mine twice", "GET", "/api/v1/practices?mine=1&mine=1", false, "mine is given 2 times"},
		{"semicolon", "GET", "/api/v1/practices?limit=5;mine=1", false, `"limit": ';' does not separate`},
		{"profile publisher twice", "GET", "/api/v1/profile?publisher=a&publisher=b", false, "publisher is given 2 times"},
		{"profile malformed escape", "GET", "/api/v1/profile?publisher=%g0", false, `"publisher": the value "%g0"`},
		{"dry_run twice", "POST", "/api/v1/practices?dry_run=1&dry_run=0", true, "dry_run is given 2 times"},
		{"search malformed escape", "GET", "/api/v1/search?q=%e9%", false, `"q": the value`},
		{"search q twice", "GET", "/api/v1/search?q=a&q=b", false, "q: given 2 times"},
		{"stats by twice", "GET", "/api/v1/stats?by=country&by=year", false, "by is given 2 times"},
		{"export format twice", "GET", "/api/v1/export?format=csv&format=jsonl", false, "format is given 2 times"},
		{"export malformed escape", "GET", "/api/v1/export?format=csv&country=%", false, `"country": the value "%"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				var v PracticeList
				c.ok(tt.method, tt.path, "", tt.auth, &v)
				if len(v.Practices) != 1 {
					t.Errorf("%d practices, want 1", len(v.Practices))
				}
				return
			}
			e := c.fail(tt.method, tt.path, "", tt.auth, http.StatusBadRequest)
			if !strings.Contains(e.Error, tt.want) {
				t.Errorf("error %q, want it to contain %q", e.Error, tt.want)
			}
		})
	}
}

// TestAPINoLongEcho: a 100 KB ID or publisher comes back as a short,
// quoted prefix, never whole.
func TestAPINoLongEcho(t *testing.T) {
	n := newTestNet(t, 32).add()
	c := newTestClient(t, n)
	long := strings.Repeat("a", 100<<10)
	tests := []struct {
		name, method, path string
		auth               bool
		code               int
		want               string
	}{
		{"record", "GET", "/api/v1/practices/" + n.ID().String() + "/" + long, false, 404, `no practice "` + strings.Repeat("a", maxQuoted) + `…" of publisher`},
		{"record binary", "GET", "/api/v1/practices/" + n.ID().String() + "/" + "%ff%00%1b[31m" + long, false, 404, `no practice "�\x00\x1b[31m`},
		{"publisher", "GET", "/api/v1/practices/" + long + "/x", false, 400, `publisher "aaaa`},
		{"retract", "POST", "/api/v1/practices/" + long + "/retract", true, 404, `no practice "aaaa`},
		{"list publisher", "GET", "/api/v1/practices?publisher=" + long, false, 400, `publisher "aaaa`},
		{"unknown parameter", "GET", "/api/v1/practices?" + long + "=1", false, 400, `unknown query parameter "aaaa`},
		{"profile publisher", "GET", "/api/v1/profile?publisher=" + long, false, 400, `publisher "aaaa`},
		{"export format", "GET", "/api/v1/export?format=" + long, false, 400, `format: "aaaa`},
		{"search value", "GET", "/api/v1/search?sort=" + long, false, 400, `sort`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := c.fail(tt.method, tt.path, "", tt.auth, tt.code)
			if !strings.Contains(e.Error, tt.want) {
				t.Errorf("error %q, want it to contain %q", e.Error, tt.want)
			}
			if len(e.Error) > 300 {
				t.Errorf("error of %d bytes: %.120q…", len(e.Error), e.Error)
			}
		})
	}
}

// TestAPIRetractReasonUTF8: a retraction reason that is not UTF-8 is a
// 400 naming the field, whether raw or escaped, and nothing is retracted.
func TestAPIRetractReasonUTF8(t *testing.T) {
	n := newTestNet(t, 33).add()
	c := newTestClient(t, n)
	s := publish(t, n, demoSheets(t)[0])
	id := s.Announcement().Slot()
	for _, body := range []string{"{\"reason\": \"ferm\xe9\"}", `{"reason": "ferm\ud800"}`} {
		e := c.fail("POST", "/api/v1/practices/"+id+"/retract", body, true, http.StatusBadRequest)
		if !strings.Contains(e.Error, "reason: must be valid UTF-8") || len(e.Problems) != 1 || e.Problems[0].Path != "reason" {
			t.Errorf("body %q: error %+v, want reason: must be valid UTF-8", body, e)
		}
	}
	if rec, err := n.Store().Get(n.ID(), id); err != nil || rec.Announcement().Seq != s.Announcement().Seq {
		t.Fatalf("the practice changed: %v", err)
	}
	var p Published
	c.ok("POST", "/api/v1/practices/"+id+"/retract", `{"reason": "fermé"}`, true, &p)
	if rec, err := n.Store().Get(n.ID(), id); err != nil || rec.Announcement().Retract == nil || rec.Announcement().Retract.Reason != "fermé" {
		t.Fatalf("valid reason not retracted as given: %+v, %v", rec, err)
	}
}
