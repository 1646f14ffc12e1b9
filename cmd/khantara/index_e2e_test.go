package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// indexPractices is how many practices TestIndexNoDowntime puts in the
// store: the 20,000 of the issue that asked for it (the store is written
// directly, which takes about 20 s under the race detector).
const indexPractices = 20_000

// fillStore writes n practices signed with the identity of home into
// home's store, as if the node had published them, and returns how long
// it took.
func fillStore(t *testing.T, home string, n int) time.Duration {
	t.Helper()
	start := time.Now()
	key, err := node.LoadIdentity(filepath.Join(home, "identity.key"))
	if err != nil {
		t.Fatal(err)
	}
	sheets, err := demo.ParseAll()
	if err != nil || len(sheets) == 0 {
		t.Fatalf("demo sheets: %v", err)
	}
	st, err := store.Open(filepath.Join(home, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	const batch = 1000
	for from := 0; from < n; from += batch {
		var in []store.Incoming
		for i := from; i < min(n, from+batch); i++ {
			s := *sheets[i%len(sheets)]
			s.ID = fmt.Sprintf("%s-%d", s.ID[:min(len(s.ID), 50)], i)
			a := &protocol.Announcement{V: protocol.Version, Seq: uint64(i + 1), Kind: protocol.KindPractice, Practice: &s, Time: at}
			signed, err := protocol.Seal(a, key)
			if err != nil {
				t.Fatal(err)
			}
			in = append(in, store.Incoming{Signed: signed})
		}
		if _, err := st.Apply(context.Background(), in...); err != nil {
			t.Fatal(err)
		}
	}
	return time.Since(start)
}

// searchAnswer is one answer of GET /api/v1/search?limit=1.
type searchAnswer struct {
	code       int
	total      int
	retryAfter string
	body       api.Error
}

func (d *daemon) searchTotal(t *testing.T) searchAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.api+"/api/v1/search?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := d.client.Do(req)
	if err != nil {
		return searchAnswer{code: -1, body: api.Error{Error: err.Error()}}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := searchAnswer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode == http.StatusOK {
		var res struct {
			Total int `json:"total"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatalf("search answer %s: %v", raw, err)
		}
		a.total = res.Total
	} else if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("search error %d %s: %v", resp.StatusCode, raw, err)
	}
	return a
}

// TestIndexNoDowntime: a daemon whose store holds thousands of practices
// and no index answers its API within 2 s of start, and search answers
// 503 with progress and Retry-After until the background rebuild is done.
// Then, killed with SIGKILL while practices are being published (the
// index following them), it restarts with its API answering within 2 s
// and search complete (its total equal to the store's practices) within
// 10 s, without a rebuild.
func TestIndexNoDowntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and fills a store")
	}
	n := indexPractices
	bin := buildKhantara(t)
	home := t.TempDir()
	took := fillStore(t, home, n)
	t.Logf("store filled with %d practices in %v", n, took.Round(time.Millisecond))

	// 1. No index at all.
	start := time.Now()
	d := startDaemon(t, bin, "node", home, start.Add(30*time.Second))
	up := time.Since(start)
	first := d.searchTotal(t)
	t.Logf("no index: API answered %v after start; first search: %d %q (Retry-After %s)", up.Round(time.Millisecond), first.code, first.body.Error, first.retryAfter)
	if up > 2*time.Second {
		t.Errorf("the API answered %v after start, want within 2 s", up)
	}
	if first.code != http.StatusServiceUnavailable || first.retryAfter == "" || first.body.Index == nil ||
		!strings.Contains(first.body.Error, "search index is") {
		t.Fatalf("first search during the rebuild: %+v, want 503 with progress and Retry-After", first)
	}
	var last searchAnswer
	var shown uint64
	waitFor(t, start.Add(120*time.Second), "the rebuilt index", []*daemon{d}, func() bool {
		last = d.searchTotal(t)
		if ix := last.body.Index; last.code == http.StatusServiceUnavailable && ix != nil && ix.Done > shown {
			shown = ix.Done
			t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), last.body.Error)
		}
		return last.code == http.StatusOK
	})
	rebuilt := time.Since(start)
	if last.total != n {
		t.Fatalf("search total %d after the rebuild, want %d", last.total, n)
	}
	t.Logf("no index: search complete (%d practices) %v after start", last.total, rebuilt.Round(time.Millisecond))

	// 2. Ingest through the API; kill -9 while it runs, once the index
	// is seen following it.
	bodies := diskSheetsFrom(t, 400, n)
	var published atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(bodies); i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, "http://"+d.api+"/api/v1/practices", strings.NewReader(bodies[i]))
				req.Header.Set("Authorization", "Bearer "+d.token)
				resp, err := d.client.Do(req)
				if err != nil {
					return // killed
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
					published.Add(1)
				}
			}
		})
	}
	waitFor(t, time.Now().Add(30*time.Second), "the index following the ingest", []*daemon{d}, func() bool {
		a := d.searchTotal(t)
		return a.code == http.StatusOK && a.total >= n+20
	})
	d.kill(t)
	close(stop)
	wg.Wait()
	t.Logf("killed with SIGKILL after %d publishes acknowledged", published.Load())

	// 3. Restart.
	start = time.Now()
	d = startDaemon(t, bin, "node", home, start.Add(30*time.Second))
	up = time.Since(start)
	st := d.status
	if up > 2*time.Second {
		t.Errorf("after kill -9 the API answered %v after start, want within 2 s", up)
	}
	if st.Index == nil || st.Index.State == "rebuilding" {
		t.Errorf("after kill -9 the index is %+v, want it catching up, not rebuilt", st.Index)
	}
	want := int(st.Practices)
	if want < n+int(published.Load()) {
		t.Fatalf("the store holds %d practices, %d were acknowledged", want, n+int(published.Load()))
	}
	waitFor(t, start.Add(10*time.Second), "search complete after the restart", []*daemon{d}, func() bool {
		last = d.searchTotal(t)
		return last.code == http.StatusOK && last.total == want
	})
	t.Logf("after kill -9: API answered %v after start (index %s, position %d of %d); search complete (%d practices) %v after start",
		up.Round(time.Millisecond), st.Index.State, st.Index.Position, st.Index.StorePosition, last.total, time.Since(start).Round(time.Millisecond))
}

// diskSheetsFrom is diskSheets with IDs numbered from offset, so they do
// not collide with the practices already in the store.
func diskSheetsFrom(t *testing.T, count, offset int) []string {
	all := diskSheets(t, count)
	for i := range all {
		all[i] = strings.Replace(all[i], fmt.Sprintf("-%d\n", i), fmt.Sprintf("-x%d\n", offset+i), 1)
	}
	return all
}
