package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/khantara/khantara/search"
)

// The harness of TestBrowser: a headless Chromium tab on a daemon's web
// page, with waits on the page's data-state and records of every request.

// findChromium returns the path of a Chromium or Chrome binary. Without
// one the test is skipped, unless CI or KHANTARA_BROWSER=required says it
// must run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no chromium, chromium-browser or google-chrome on PATH; .ci/run installs it (apt-get install chromium)"
	if os.Getenv("CI") != "" || os.Getenv("KHANTARA_BROWSER") == "required" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one tab of a headless Chromium showing a daemon's web page. It
// records every request the tab makes and every console error it shows.
type browser struct {
	ctx   context.Context // the tab; ends with the test
	base  string          // http://HOST:PORT of the daemon
	out   *lockedBuffer   // Chromium's own output
	shots string          // KHANTARA_SCREENSHOTS: a folder that keeps the screenshots

	// mu guards the fields below it, written by the tab's event loop.
	mu       sync.Mutex
	local    int      // requests to base
	outside  []string // requests elsewhere, not yet reported
	problems []string // console errors, exceptions and CSP violations, not yet reported
	csp      string   // Content-Security-Policy of the last document loaded from base
}

// armScript runs in every new document before the page's own scripts:
// settled counts the times body's data-state left "loading", so a wait
// after an interaction sees the page reload, not the previous ready state.
const armScript = `window.__khantaraTest = {settled: 0};
new MutationObserver(records => {
	for (const r of records) if (r.target === document.body && r.oldValue === "loading") window.__khantaraTest.settled++;
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state"], attributeOldValue: true});`

// startBrowser starts a headless Chromium with a fresh profile, which
// makes no request of its own, and opens a tab. The browser is stopped at
// the end of the test.
func startBrowser(t *testing.T, exe, base string) *browser {
	t.Helper()
	b := &browser{base: base, out: &lockedBuffer{}, shots: os.Getenv("KHANTARA_SCREENSHOTS")}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // CI runs the tests as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(b.out),
		// No network traffic of the browser's own.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
	)
	// The whole browser session is bounded, whatever hangs.
	life, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	b.ctx = ctx
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit, before its profile is removed
		stop()
		if t.Failed() {
			var lines []string
			for l := range strings.Lines(b.out.String()) {
				if !strings.Contains(l, "ERROR:dbus/") { // no D-Bus in CI: noise
					lines = append(lines, l)
				}
			}
			t.Logf("Chromium's output, without D-Bus errors (last 50 lines):\n%s", strings.Join(lines[max(0, len(lines)-50):], ""))
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, b.out.String())
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: armScript}); err != nil {
		t.Fatalf("add the test script: %v", err)
	}
	return b
}

// listen records the tab's requests and problems. It runs in the tab's
// event loop: it must return fast and send no command.
func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		switch u := ev.Request.URL; {
		case strings.HasPrefix(u, b.base+"/"):
			b.local++
		case strings.HasPrefix(u, "data:"), strings.HasPrefix(u, "about:"):
		default:
			b.outside = append(b.outside, u)
		}
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && strings.HasPrefix(ev.Response.URL, b.base+"/") {
			b.csp = ""
			for k, v := range ev.Response.Headers {
				if strings.EqualFold(k, "Content-Security-Policy") {
					b.csp = fmt.Sprint(v)
				}
			}
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.problems = append(b.problems, fmt.Sprintf("%s error: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// begin makes the end of subtest t fail on any request outside the daemon
// and any console problem not yet reported, and, when t failed, log the
// page's body and keep a screenshot.
func (b *browser) begin(t *testing.T) {
	t.Cleanup(func() {
		b.mu.Lock()
		outside, problems := b.outside, b.problems
		b.outside, b.problems = nil, nil
		b.mu.Unlock()
		for _, u := range outside {
			t.Errorf("the page requested %s, outside %s/", u, b.base)
		}
		for _, p := range problems {
			t.Errorf("the page showed a problem: %s", p)
		}
		if !t.Failed() {
			return
		}
		loc, _ := runJS[string](b, `location.href`)
		if html, err := runJS[string](b, `document.body ? document.body.outerHTML : document.documentElement.outerHTML`); err != nil {
			t.Logf("cannot read the page at %s: %v", loc, err)
		} else {
			t.Logf("the page at %s, body:\n%s", loc, html[:min(len(html), 30000)])
		}
		b.screenshot(t, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
	})
}

// do runs actions in the tab, failing t on error.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserAction)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// load opens base/hash as a new document and waits for view to be ready.
func (b *browser) load(t *testing.T, hash, view string) {
	t.Helper()
	b.do(t, "leave the page", chromedp.Navigate("about:blank"))
	ctx, cancel := context.WithTimeout(b.ctx, browserAction)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+"/"+hash))
	if err != nil {
		t.Fatalf("load %s: %v", hash, err)
	}
	if resp.Status != http.StatusOK || resp.MimeType != "text/html" {
		t.Fatalf("load %s: %d %s, want 200 text/html", hash, resp.Status, resp.MimeType)
	}
	b.waitView(t, view)
}

// interact runs actions that make the page load something, then waits for
// view to be ready again.
func (b *browser) interact(t *testing.T, what, view string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	b.do(t, what, append([]chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](`window.__khantaraTest.settled = 0`),
	}, actions...)...)
	b.waitView(t, view)
}

// pageState is what waitView reads of the page.
type pageState struct {
	Settled int    `json:"settled"`
	State   string `json:"state"`
	View    string `json:"view"`
}

// waitView waits until body says data-view=view and data-state=ready,
// after leaving data-state=loading; it fails at once on data-state=error.
func (b *browser) waitView(t *testing.T, view string) {
	t.Helper()
	st := pollJS(t, b, "the "+view+` view to be ready (data-state "loading", then "ready")`,
		`({settled: window.__khantaraTest?.settled ?? -1, state: document.body?.dataset.state ?? "", view: document.body?.dataset.view ?? ""})`,
		func(s pageState) bool {
			return s.State == "error" || s.Settled > 0 && s.State == "ready" && s.View == view
		})
	if st.State == "error" {
		t.Fatalf("the page went to data-state=error, waiting for the %s view", view)
	}
}

// waitText waits until the text of the element sel is want.
func (b *browser) waitText(t *testing.T, sel, want string) {
	t.Helper()
	pollJS(t, b, fmt.Sprintf("%s to read %q", sel, want), textJS(sel), func(s string) bool { return s == want })
}

// text is the rendered text (innerText) of the element sel, spaces
// normalised. It fails t if there is no such element.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	if evalJS[int](t, b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel))) == 0 {
		t.Fatalf("the page has no %s", sel)
	}
	return evalJS[string](t, b, textJS(sel))
}

// textJS is an expression giving the text that text reads.
func textJS(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%s)?.innerText ?? "").replace(/\s+/g, " ").trim()`, jsString(sel))
}

// attrs lists the values of the attributes names of every element sel,
// element by element.
func (b *browser) attrs(t *testing.T, sel string, names ...string) []string {
	t.Helper()
	return evalJS[[]string](t, b, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).flatMap(e => %s.map(n => e.getAttribute(n) ?? ""))`,
		jsString(sel), jsValue(names)))
}

// hash is the page's location.hash.
func (b *browser) hash(t *testing.T) string {
	t.Helper()
	return evalJS[string](t, b, `location.hash`)
}

// clear empties the input sel, as a user deleting its text would.
// (chromedp.SetValue cannot set "": it reads the empty result as a failure.)
func (b *browser) clear(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		e.value = "";
		e.dispatchEvent(new Event("input", {bubbles: true}));
	})()`, jsString(sel)))
}

// setHash changes the page's location.hash, as a link would.
func (b *browser) setHash(hash string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`location.hash = ` + jsString(hash))
}

// screenshot saves a PNG of the whole page under t's artifact directory
// and, when KHANTARA_SCREENSHOTS names a folder, there too.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserAction)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dirs := []string{t.ArtifactDir()}
	if b.shots != "" {
		dirs = append(dirs, b.shots)
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, name+".png")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Errorf("screenshot: %v", err)
		} else if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Errorf("screenshot: %v", err)
		} else {
			t.Logf("screenshot %s", path)
		}
	}
}

// checkCardLinks checks that each card links to its own practice.
func (b *browser) checkCardLinks(t *testing.T) {
	t.Helper()
	cards := evalJS[[][3]string](t, b, `Array.from(document.querySelectorAll("ol#results > li.card"),
		c => [c.dataset.publisher ?? "", c.dataset.id ?? "", c.querySelector("h3 a")?.getAttribute("href") ?? ""])`)
	for _, c := range cards {
		if want := "#/practice/" + c[0] + "/" + c[1]; c[0] == "" || c[2] != want {
			t.Errorf("card %s of %s links to %q, want %q", c[1], c[0], c[2], want)
		}
	}
}

// checkFacet checks that the box of facet=value is there and counts what
// the API counts in res.
func (b *browser) checkFacet(t *testing.T, facet, value string, res search.Result) {
	t.Helper()
	i := slices.IndexFunc(res.Facets[facet], func(v search.FacetValue) bool { return v.Value == value })
	if i < 0 {
		t.Fatalf("the API has no facet %s=%s to check", facet, value)
	}
	got := evalJS[string](t, b, fmt.Sprintf(`(() => {
		const box = document.querySelector(%s);
		if (!box) return "no box";
		const count = (box.closest("label") ?? box.parentElement).querySelector("span.count");
		return count ? count.textContent : "no span.count";
	})()`, jsString(facetBox(facet, value))))
	if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(got), "()")); err != nil || n != res.Facets[facet][i].Count {
		t.Errorf("the facet %s=%s shows count %q, the API %d", facet, value, got, res.Facets[facet][i].Count)
	}
}

// webCharts maps the figures of the charts view to the stats key they show.
var webCharts = []struct{ figure, by string }{
	{"country", "country"}, {"dimension", "dimension"}, {"year", "year"}, {"funding", "source"},
}

// bars reads the bars of figure#chart-NAME: data-key to data-value. It
// fails t unless the figure holds exactly one svg.
func (b *browser) bars(t *testing.T, name string) map[string]string {
	t.Helper()
	fig := "figure#chart-" + name
	if got := evalJS[int](t, b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(fig+" svg"))); got != 1 {
		t.Errorf("%s holds %d svg, want 1", fig, got)
	}
	kv := b.attrs(t, fig+" svg rect.bar", "data-key", "data-value")
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, dup := m[kv[i]]; dup {
			t.Errorf("%s has two bars for %q", fig, kv[i])
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// checkCharts compares every chart with GET /api/v1/stats for query: one
// bar per group with a nonzero value, data-value that value: practices,
// or for the funding chart the sum of funding_eur per source.
func (b *browser) checkCharts(t *testing.T, d *daemon, query string) {
	t.Helper()
	for _, c := range webCharts {
		var st search.Stats
		if err := d.do(http.MethodGet, "/api/v1/stats?by="+c.by+"&"+query, "", &st); err != nil {
			t.Fatal(err)
		}
		practices, funding := map[string]string{}, map[string]string{}
		for _, g := range st.Groups {
			if g.Practices > 0 {
				practices[g.Key] = strconv.Itoa(g.Practices)
			}
			if g.FundingEUR > 0 {
				funding[g.Key] = strconv.FormatInt(g.FundingEUR, 10)
			}
		}
		got := b.bars(t, c.figure)
		for k, v := range got { // "43.0" reads as 43
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == float64(int64(f)) {
				got[k] = strconv.FormatInt(int64(f), 10)
			}
		}
		want := practices
		if c.figure == "funding" {
			want = funding
		}
		if !maps.Equal(got, want) {
			t.Errorf("figure#chart-%s (%s) has bars %v; /api/v1/stats?by=%s says %v", c.figure, query, got, c.by, want)
		}
	}
}

// checkCSP checks that a Content-Security-Policy forbids framing and
// allows scripts from the page's own origin only.
func checkCSP(t *testing.T, what, csp string) {
	t.Helper()
	dirs := map[string][]string{}
	for d := range strings.SplitSeq(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			dirs[strings.ToLower(f[0])] = f[1:]
		}
	}
	if fa := dirs["frame-ancestors"]; !slices.Equal(fa, []string{"'none'"}) {
		t.Errorf("%s: Content-Security-Policy %q lacks frame-ancestors 'none'", what, csp)
	}
	if ss := dirs["script-src"]; !slices.Contains(ss, "'self'") || slices.Contains(ss, "'unsafe-inline'") || slices.Contains(ss, "'unsafe-eval'") {
		t.Errorf("%s: Content-Security-Policy %q does not hold scripts to script-src 'self'", what, csp)
	}
}

// runJS evaluates a JavaScript expression in the tab. DevTools evaluation
// is not subject to the page's CSP.
func runJS[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, browserAction)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// evalJS is runJS failing t on error.
func evalJS[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	v, err := runJS[T](b, expr)
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pollJS evaluates expr every 50 ms until ok holds for its value, and
// returns that value. It fails t after browserWait.
func pollJS[T any](t *testing.T, b *browser, what, expr string, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(browserWait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		v, err := runJS[T](b, expr)
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last read %+v (error: %v)", browserWait, what, v, err)
		}
		<-tick.C
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string { return jsValue(s) }

// jsValue is v as a JavaScript literal.
func jsValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with strings and string slices
	}
	return string(b)
}

// firstInt is the first whole number in s.
func firstInt(t *testing.T, s string) int {
	t.Helper()
	m := regexp.MustCompile(`\d+`).FindString(s)
	n, err := strconv.Atoi(m)
	if err != nil {
		t.Fatalf("no number in %q", s)
	}
	return n
}

// normalSpace collapses runs of white space to one space and trims.
func normalSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// sameTabs compares (lang, selected) pairs in any order.
func sameTabs(got, want []string) bool {
	pairs := func(s []string) []string {
		var p []string
		for i := 0; i+1 < len(s); i += 2 {
			p = append(p, s[i]+"="+s[i+1])
		}
		slices.Sort(p)
		return p
	}
	return len(got) == len(want) && slices.Equal(pairs(got), pairs(want))
}
