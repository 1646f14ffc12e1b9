package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
)

// catalogue answers GET /api/v1/practices?id= and /status from a fixed
// list of practices.
func catalogue(self string, ps ...api.Practice) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status":
			answerJSON(w, 200, api.Status{PeerID: self})
		case "/api/v1/practices":
			out := api.PracticeList{Practices: []api.Practice{}}
			for _, p := range ps {
				if p.ID == r.URL.Query().Get("id") {
					out.Practices = append(out.Practices, p)
				}
			}
			answerJSON(w, 200, out)
		default:
			answerJSON(w, 404, api.Error{Error: "no"})
		}
	}
}

func TestResolvePractice(t *testing.T) {
	const self, other, third = "12D3KooWSelf", "12D3KooWOther", "12D3KooWThird"
	tests := []struct {
		name    string
		arg     string
		have    []api.Practice
		pub     string
		code    int // exit code of the error; 0 for none
		errWant string
	}{
		{"publisher given", other + "/x", nil, other, 0, ""},
		{"only one", "x", []api.Practice{{Publisher: other, ID: "x"}}, other, 0, ""},
		{"own wins", "x", []api.Practice{{Publisher: other, ID: "x"}, {Publisher: self, ID: "x"}}, self, 0, ""},
		{"ambiguous", "x", []api.Practice{{Publisher: third, ID: "x"}, {Publisher: other, ID: "x"}}, "", exitFailed,
			"2 publishers have a practice x: " + other + ", " + third + "; name one: khantara show PUBLISHER/x"},
		{"unknown", "x", []api.Practice{{Publisher: other, ID: "y"}}, "", exitFailed, "no practice x is known here"},
		{"empty publisher", "/x", nil, "", exitUsage, "neither ID nor PUBLISHER/ID"},
		{"empty id", "p/", nil, "", exitUsage, "neither ID nor PUBLISHER/ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDaemon(t, catalogue(self, tc.have...))
			pub, id, err := resolvePractice(context.Background(), d.client(t), tc.arg)
			if tc.code != 0 {
				if err == nil || exitCodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.errWant) {
					t.Fatalf("err = %v (exit %d), want exit %d and %q", err, exitCodeOf(err), tc.code, tc.errWant)
				}
				return
			}
			if err != nil || pub != tc.pub || id != "x" {
				t.Fatalf("got %q %q %v, want %q x", pub, id, err, tc.pub)
			}
		})
	}
}

func TestPrintRecord(t *testing.T) {
	now := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	amount, yes := int64(8000), true
	sheet := &protocol.FactSheet{
		ID: "cric-roubaix", Title: "Conseil Roubaisien", Language: "en", Country: "FR", Region: "Hauts-de-France",
		City: "Roubaix", Organiser: "Ville de Roubaix", StartYear: 2011, Ongoing: true,
		Objective:  strings.Repeat("To give the communities a voice. ", 10),
		Dimensions: []string{"legal_political", "cultural"}, TargetGroups: []string{"third_country_nationals"},
		Funding:         &protocol.Funding{AmountEUR: &amount, PeriodYears: 1, Sources: []string{"local"}},
		Transferability: &protocol.Transferability{Replicable: &yes},
	}
	rec := api.Record{
		Listing: api.Practice{Publisher: "12D3KooWPub", ID: "cric-roubaix", Seq: 3, Kind: protocol.KindPractice,
			Title: sheet.Title, ReceivedAt: now.Add(-5 * time.Minute)},
		Hash: "abcd", SignatureVerified: true, Practice: sheet,
		Profile: &protocol.Profile{Name: "Ville de Roubaix", Country: "FR"},
	}
	var b strings.Builder
	printRecord(&b, rec, now, 80)
	out := b.String()
	for _, want := range []string{
		"Conseil Roubaisien\n==================\n",
		"Region / city:     Hauts-de-France, Roubaix\n",
		"Years:             2011–ongoing\n",
		"Dimensions:        legal political, cultural\n",
		"Funding:           EUR 8,000 over 1 year; sources: local\n",
		"Replicable:        yes\n",
		"\nObjective\n  To give the communities a voice.",
		"Publisher:         12D3KooWPub (Ville de Roubaix, FR)\n",
		"Signature:         verified against the publisher's key\n",
		"(5 minutes ago), published here\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d characters: %q", n, line)
		}
	}

	rec.Kind, rec.Practice, rec.From = protocol.KindRetract, nil, "12D3KooWFrom"
	rec.Retraction = &protocol.Retraction{ID: "cric-roubaix", Reason: "ended in 2020"}
	rec.SignatureVerified = false
	b.Reset()
	printRecord(&b, rec, now, 80)
	out = b.String()
	for _, want := range []string{"cric-roubaix is retracted", "Reason:            ended in 2020", "NOT verified", "from peer 12D3KooWFrom"} {
		if !strings.Contains(out, want) {
			t.Errorf("retracted output lacks %q:\n%s", want, out)
		}
	}
}
