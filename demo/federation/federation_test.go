package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"

	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/protocol"
)

// TestFederation starts a three-node demo and checks it over the
// real APIs: every node holds the whole demo catalogue with one digest,
// every node's HOME/api points at its live API, every publisher's profile
// says it is demo data, a practice of node 1 reached node 3 through node 2,
// the organisations are as demo.Organisations describes them (checkOrgs),
// every node holds the demo's experience records (checkExperiences),
// and shutting down removes each HOME/api.
func TestFederation(t *testing.T) {
	pubs, err := demo.Publishers(3)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range pubs {
		total += len(p.Sheets)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	f, err := Start(ctx, dir, pubs, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Shutdown(context.Background()) })
	if err := f.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	if err := f.Converge(ctx, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}

	digests := map[string]bool{}
	for i, d := range f.Nodes() {
		if rel, err := filepath.Rel(dir, d.Home); err != nil || strings.Contains(rel, "..") {
			t.Errorf("%s's home %s is outside the demo directory %s", d.Name, d.Home, dir)
		}
		if _, err := os.Stat(filepath.Join(d.Home, "identity.key")); err != nil {
			t.Errorf("%s has no identity of its own: %v", d.Name, err)
		}
		addr, err := os.ReadFile(filepath.Join(d.Home, home.APIFile))
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		var st api.Status
		getJSON(t, "http://"+string(addr)+"/api/v1/status", &st)
		if st.PeerID != d.Node().ID().String() || st.Network != Network || st.Practices != uint64(total) {
			t.Errorf("%s's API at %s: peer %s, network %q, %d practices; want %s, %q, %d",
				d.Name, addr, st.PeerID, st.Network, st.Practices, d.Node().ID(), Network, total)
		}
		digests[st.Digest] = true
		for _, o := range f.Orgs() {
			rec, err := d.Node().Store().Get(o.ID, protocol.ProfileSlot)
			if err != nil {
				t.Fatalf("%s lacks the profile of %s: %v", d.Name, o.Slug, err)
			}
			prof := rec.Announcement().Profile
			if prof.Name != o.Profile.Name || !strings.Contains(prof.Name, "not a real") {
				t.Errorf("%s holds profile %q for %s", d.Name, prof.Name, o.Slug)
			}
		}
		for _, e := range f.Nodes()[:i] {
			if e.Node().ID() == d.Node().ID() {
				t.Errorf("%s and %s share an identity", e.Name, d.Name)
			}
		}
	}
	if len(digests) != 1 {
		t.Errorf("the nodes' APIs report %d different digests", len(digests))
	}

	// The line topology: node 3 got node 1's practices from node 2.
	first, mid, last := f.Nodes()[0], f.Nodes()[1], f.Nodes()[2]
	// (The store, not the API: the API names key publishers only until it
	// learns organisation IDs.)
	id := first.Publisher.Sheets[0].ID
	rec, err := last.Node().Store().Get(first.For.ID, id)
	if err != nil || rec.From != mid.Node().ID().String() {
		t.Errorf("on %s, %s/%s: %v; want it from %s", last.Name, first.For.ID, id, err, mid.Node().ID())
	} else if rec.Signed.Signer() != first.Node().ID() {
		t.Errorf("on %s, %s is signed by %s, want %s", last.Name, id, rec.Signed.Signer(), first.Node().ID())
	}
	checkOrgs(t, f)
	checkExperiences(t, f)
	if n := len(last.Node().Host().Network().Peers()); n != 1 {
		t.Errorf("%s has %d peers, want only %s", last.Name, n, mid.Name)
	}

	start := time.Now()
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d nodes stopped in %v", len(f.Nodes()), time.Since(start).Round(time.Millisecond))
	if err := f.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	for _, d := range f.Nodes() {
		if _, err := os.Stat(filepath.Join(d.Home, home.APIFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s's api file outlived the node: %v", d.Name, err)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// testLogger sends the nodes' warnings to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
