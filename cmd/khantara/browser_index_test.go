package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserIndexNotice opens the web page of a daemon whose search index
// cannot be complete: it holds the demo catalogue but no index, and its
// disk reserve (1 TiB) is above any free space, so every write, the index
// rebuild's included, waits, and the search routes answer 503 with the
// index's progress. The page must say so in its notice, keep
// asking (Retry-After), and show nothing else as a problem.
func TestBrowserIndexNotice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs a daemon and a browser")
	}
	chrome := findChromium(t)
	bin := buildKhantara(t)
	deadline := time.Now().Add(60 * time.Second)
	// A catalogue first, then a restart without an index and with the
	// reserve out of reach: the index rebuild waits at its first batch.
	home := t.TempDir()
	d := startDaemon(t, bin, "node", home, deadline)
	expect(t, bin, 0, nil, "import", "../../demo/sheets", "--home", home)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	if err := os.RemoveAll(filepath.Join(home, "index")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KHANTARA_DISK_RESERVE_MIB", "1048576")
	d = startDaemon(t, bin, "paused", home, deadline)
	var body map[string]any
	err := d.do(http.MethodGet, "/api/v1/search?q=lavoro", "", &body)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("search on a node with its index held back: %v, want a 503", err)
	}

	b := startBrowser(t, chrome, "http://"+d.api)
	ctx, cancel := context.WithTimeout(b.ctx, browserAction)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.base+"/#/")); err != nil {
		t.Fatal(err)
	}
	notice := pollJS(t, b, "the index notice", `(() => { const n = document.getElementById('index-notice'); return n && !n.hidden ? n.textContent : ''; })()`,
		func(s string) bool { return s != "" })
	t.Logf("notice: %s", notice)
	if !strings.Contains(notice, "search index is being rebuilt: 0 of 43 practices") || !strings.Contains(notice, "disk is nearly full") ||
		!strings.Contains(notice, "tries again") {
		t.Errorf("the notice %q does not say the index is incomplete, why, and that the page retries", notice)
	}
	// The page keeps asking: more search requests arrive after the first.
	b.mu.Lock()
	first := b.local
	b.mu.Unlock()
	pollJS(t, b, "a retry", `Date.now()`, func(float64) bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.local > first
	})
	b.mu.Lock()
	outside, problems := b.outside, b.problems
	b.mu.Unlock()
	for _, u := range outside {
		t.Errorf("the page requested %s, outside %s/", u, b.base)
	}
	for _, p := range problems {
		// Chromium logs every non-2xx answer to the console; the 503s are
		// what this test is about.
		if !strings.Contains(p, "status of 503") {
			t.Errorf("the page showed a problem: %s", p)
		}
	}
	b.screenshot(t, "index-notice")
}
