package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/demo"
	"github.com/khantara/khantara/demo/federation"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
)

// webDemo is a demo federation (package federation, in this process)
// whose last node's web page a browser test reads: the demo catalogue
// and its experience records, published by the demo's organisations.
type webDemo struct {
	f    *federation.Federation
	node *federation.Node // the node the browser reads
	base string           // http://HOST:PORT of its API
}

// The experience routes' JSON, as the test reads it: publisher IDs as
// text (encoding/json cannot decode an organisation ID into a peer.ID).
type (
	webRef struct {
		Publisher string `json:"publisher"`
		ID        string `json:"id"`
	}
	webExp struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		Title       string `json:"title"`
		Text        string `json:"text"`
		Country     string `json:"country"`
		City        string `json:"city"`
		Changes     string `json:"changes"`
		Achievement string `json:"achievement"`
		Outcomes    string `json:"outcomes"`
		About       webRef `json:"about"`
		InReplyTo   webRef `json:"in_reply_to"`
		Practice    webRef `json:"practice"`
	}
	webExperience struct {
		Publisher  string `json:"publisher"`
		Slot       string `json:"slot"`
		AboutState string `json:"about_state"`
		Experience webExp `json:"experience"`
	}
	webPracticeExps struct {
		State       string               `json:"state"`
		Counts      api.ExperienceCounts `json:"counts"`
		Experiences []webExperience      `json:"experiences"`
	}
	webExpList struct {
		Experiences []webExperience `json:"experiences"`
		Next        string          `json:"next"`
	}
)

// startWebDemo starts a demo federation of n nodes, publishes the demo
// and waits until every node holds it and the last node's search index
// holds every practice. The federation stops at the end of the test.
func startWebDemo(t *testing.T, n int) *webDemo {
	t.Helper()
	pubs, err := demo.Publishers(n)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	f, err := federation.Start(ctx, t.TempDir(), pubs, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Shutdown(context.Background()) })
	var progress bytes.Buffer
	if err := f.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Converge(ctx, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	nodes := f.Nodes()
	w := &webDemo{f: f, node: nodes[len(nodes)-1], base: "http://" + nodes[len(nodes)-1].APIAddr()}
	w.waitIndex(t, "", f.Total())
	return w
}

// get reads the JSON of GET path from the node's API into out.
func (w *webDemo) get(t *testing.T, path string, out any) {
	t.Helper()
	res, err := http.Get(w.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s (%v)", path, res.Status, body, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// waitIndex waits until the search of query (URL query text) counts
// total practices, polling every 50 ms for 30 s.
func (w *webDemo) waitIndex(t *testing.T, query string, total int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var r search.Result
		res, err := http.Get(w.base + "/api/v1/search?limit=1&" + query)
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&r)
			res.Body.Close()
			if err == nil && res.StatusCode == http.StatusOK && r.Total == total {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the search of %q on %s never counted %d practices (last %d, %v)", query, w.node.Name, total, r.Total, err)
		}
		<-tick.C
	}
}

// adaptations are every adaptation the node holds, by the API.
func (w *webDemo) adaptations(t *testing.T) []webExperience {
	t.Helper()
	var out []webExperience
	after := ""
	for {
		var page webExpList
		w.get(t, "/api/v1/experiences?type=adaptation&limit=2&after="+url.QueryEscape(after), &page)
		out = append(out, page.Experiences...)
		if after = page.Next; after == "" {
			return out
		}
	}
}

// practiceOf is the demo organisation's ID and the practice ID of the
// demo practice id, as a page path: "ORG/ID".
func (w *webDemo) practiceOf(t *testing.T, id string) string {
	t.Helper()
	o := w.f.PracticeOrg(id)
	if o == nil {
		t.Fatalf("no demo node publishes %s", id)
	}
	return o.ID.String() + "/" + id
}

// retract makes the organisation that publishes the demo practice id
// retract it, and waits until the browsed node holds the retraction.
func (w *webDemo) retract(t *testing.T, id string) {
	t.Helper()
	o := w.f.PracticeOrg(id)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, d := range o.Delegates {
		if !slices.Contains(d.May, protocol.KindRetract) {
			continue
		}
		ann := &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: id, Reason: "a test of the web page"}}
		if _, err := w.f.Nodes()[d.Node].Node().PublishAs(ctx, o.ID, ann); err != nil {
			t.Fatal(err)
		}
		w.waitIndex(t, "", w.f.Total()-1)
		return
	}
	t.Fatalf("%s delegates no node to retract", o.Slug)
}

// practicePage is the page of the practice "ORG/ID".
func practicePage(path string) string { return "#/practice/" + path }

// TestBrowserExperiences drives the practice page in a headless Chromium
// against the last node of a demo federation of three nodes, which holds
// the demo's experience records: the counts by type, each adaptation with
// its outcome, the answers threaded under their questions, the links from
// an original to the practice adapted from it and back, the note on the
// experiences of a retracted practice, a translation opened from the
// keyboard, and a 360 px window. Expected answers come from the API;
// no request may leave the node's address. It saves screenshots.
func TestBrowserExperiences(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a demo federation and a browser")
	}
	chrome := findChromium(t)
	w := startWebDemo(t, 3)
	b := startBrowser(t, chrome, w.base)
	shots := t.TempDir()

	t.Run("threads and outcomes", func(t *testing.T) {
		b.begin(t)
		path := w.practiceOf(t, "where-the-rivers-meet")
		var exps webPracticeExps
		w.get(t, "/api/v1/practices/"+path+"/experiences", &exps)
		if exps.State != api.AboutHeld || exps.Counts.Adaptations == 0 || exps.Counts.Questions == 0 || exps.Counts.Answers == 0 {
			t.Fatalf("the demo's where-the-rivers-meet: %s, counts %+v; the test needs an adaptation and an answered question", exps.State, exps.Counts)
		}
		b.load(t, practicePage(path), "practice")
		checkExperienceCounts(t, b, exps.Counts)
		checkAdaptations(t, b, exps.Experiences)
		checkThreads(t, b, exps.Experiences)
		if got := b.attrs(t, "#experiences article.experience, #experiences li.experience", "data-slot"); len(got) != len(exps.Experiences) {
			t.Errorf("the page shows %d experiences, the API %d", len(got), len(exps.Experiences))
		}
		b.saveShot(t, shots, "practice-experiences")
	})

	t.Run("every experience", func(t *testing.T) {
		b.begin(t)
		checkEveryExperience(t, b, w)
	})

	t.Run("adapted from", func(t *testing.T) {
		b.begin(t)
		checkAdaptedFrom(t, b, w)
	})

	t.Run("keyboard", func(t *testing.T) {
		b.begin(t)
		b.load(t, practicePage(w.practiceOf(t, "where-the-rivers-meet")), "practice")
		sel := "#experiences details.exp-translation > summary"
		if n := evalJS[int](t, b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel))); n == 0 {
			t.Fatal("no translation of an experience to open")
		}
		b.do(t, "press Enter on a translation",
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).focus()`, jsString(sel))),
			chromedp.KeyEvent("\r"))
		if !evalJS[bool](t, b, fmt.Sprintf(`document.querySelector(%s).parentElement.open`, jsString(sel))) {
			t.Error("Enter on the translation's summary did not open it")
		}
		if evalJS[bool](t, b, `Array.from(document.querySelectorAll('#experiences a')).some(a => a.tabIndex < 0)`) {
			t.Error("a link of the experiences is out of the tab order")
		}
		b.do(t, "press Enter on the summary's button",
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#experience-summary button').focus()`),
			chromedp.KeyEvent("\r"))
		if got := evalJS[string](t, b, `document.activeElement?.id ?? ""`); got != "h-experiences" {
			t.Errorf("after Enter on the summary's button the focus is on #%s, want #h-experiences", got)
		}
	})

	t.Run("narrow", func(t *testing.T) {
		b.begin(t)
		b.do(t, "narrow the window", chromedp.EmulateViewport(360, 800))
		b.load(t, practicePage(w.practiceOf(t, "where-the-rivers-meet")), "practice")
		if got := evalJS[float64](t, b, `document.documentElement.scrollWidth`); got > 360 {
			t.Errorf("the practice page with its experiences is %v px wide in a 360 px window", got)
		}
		b.saveShot(t, shots, "practice-experiences-360")
		b.do(t, "widen the window", chromedp.EmulateViewport(1280, 900))
	})

	// Last: it retracts a practice of the demo.
	t.Run("retracted practice", func(t *testing.T) {
		b.begin(t)
		path := w.practiceOf(t, "hessen-modellregionen-integration")
		w.retract(t, "hessen-modellregionen-integration")
		var exps webPracticeExps
		w.get(t, "/api/v1/practices/"+path+"/experiences", &exps)
		if exps.State != api.AboutRetracted || len(exps.Experiences) == 0 {
			t.Fatalf("after the retraction the API says %s with %d experiences", exps.State, len(exps.Experiences))
		}
		b.load(t, practicePage(path), "practice")
		if !strings.Contains(b.text(t, "#retracted"), "retracted by its publisher") {
			t.Errorf("#retracted says %q", b.text(t, "#retracted"))
		}
		if got := b.text(t, "#experiences-retracted"); !strings.Contains(got, "about a retracted practice") {
			t.Errorf("#experiences-retracted says %q", got)
		}
		checkExperienceCounts(t, b, exps.Counts)
		checkAdaptations(t, b, exps.Experiences)
		b.saveShot(t, shots, "practice-retracted-experiences")
	})
}

// checkExperienceCounts compares the counts by type with the API's.
func checkExperienceCounts(t *testing.T, b *browser, c api.ExperienceCounts) {
	t.Helper()
	kv := b.attrs(t, "#experience-counts li", "data-type", "data-count")
	want := []string{"adaptation", fmt.Sprint(c.Adaptations), "lesson", fmt.Sprint(c.Lessons), "question", fmt.Sprint(c.Questions),
		"answer", fmt.Sprint(c.Answers), "endorsement", fmt.Sprint(c.Endorsements)}
	if !slices.Equal(kv, want) {
		t.Errorf("the counts read %v; the API says %v", kv, want)
	}
}

// checkAdaptations checks that each adaptation of exps is shown with
// where it was adapted, what changed and its outcome, as the API has it.
func checkAdaptations(t *testing.T, b *browser, exps []webExperience) {
	t.Helper()
	n := 0
	for _, x := range exps {
		e := x.Experience
		if e.Type != string(protocol.ExperienceAdaptation) {
			continue
		}
		n++
		art := fmt.Sprintf(`#exp-adaptations article[data-author="%s"][data-slot="%s"]`, x.Publisher, x.Slot)
		field := func(f string) string { return b.text(t, art+` dd[data-field="`+f+`"]`) }
		if got := field("changes"); got != normalSpace(e.Changes) {
			t.Errorf("%s: what changed reads %q, the API %q", x.Slot, got, e.Changes)
		}
		if got := field("where"); !strings.Contains(got, "("+e.Country+")") || !strings.Contains(got, e.City) {
			t.Errorf("%s: where reads %q; the API says %s, %q", x.Slot, got, e.Country, e.City)
		}
		if e.Outcomes != "" {
			if got := field("outcomes"); got != normalSpace(e.Outcomes) {
				t.Errorf("%s: outcomes read %q, the API %q", x.Slot, got, e.Outcomes)
			}
		}
		if e.Achievement != "" && field("achievement") == "" {
			t.Errorf("%s: the achievement %q is not shown", x.Slot, e.Achievement)
		}
		if !strings.Contains(b.text(t, art+" h4"), normalSpace(e.Title)) {
			t.Errorf("%s: heading %q, title %q", x.Slot, b.text(t, art+" h4"), e.Title)
		}
	}
	if got := len(b.attrs(t, "#exp-adaptations article.experience", "data-slot")); got != n {
		t.Errorf("%d adaptations shown, the API has %d", got, n)
	}
}

// checkThreads checks that every answer of exps whose in_reply_to names a
// record of exps is shown in the replies of that record, and every
// question at the top of the thread with its text.
func checkThreads(t *testing.T, b *browser, exps []webExperience) {
	t.Helper()
	held := map[string]bool{}
	for _, x := range exps {
		held[x.Publisher+" "+x.Slot] = true
	}
	answered := 0
	for _, x := range exps {
		e := x.Experience
		switch e.Type {
		case string(protocol.ExperienceQuestion):
			sel := fmt.Sprintf(`#exp-questions ol.thread > li > article[data-author="%s"][data-slot="%s"]`, x.Publisher, x.Slot)
			if got := b.text(t, sel+" p.prose"); got != normalSpace(e.Text) {
				t.Errorf("question %s reads %q, the API %q", x.Slot, got, e.Text)
			}
		case string(protocol.ExperienceAnswer):
			to := protocol.ExperienceSlot(e.InReplyTo.ID)
			if !held[e.InReplyTo.Publisher+" "+to] {
				continue
			}
			js := fmt.Sprintf(`(() => {
				const q = document.querySelector('#exp-questions article[data-author=%s][data-slot=%s]');
				return !!q?.closest('li').querySelector(':scope > ol.replies > li > article[data-author=%s][data-slot=%s]');
			})()`, jsString(e.InReplyTo.Publisher), jsString(to), jsString(x.Publisher), jsString(x.Slot))
			if !evalJS[bool](t, b, js) {
				t.Errorf("the answer %s is not shown under %s", x.Slot, to)
			}
			answered++
		}
	}
	if answered == 0 {
		t.Error("no answer to thread: the test checked nothing")
	}
}

// checkAdaptedFrom checks both links of every demo adaptation that names
// the practice it resulted in: the original's page links to the
// resulting practice, whose page says it was adapted from the original.
func checkAdaptedFrom(t *testing.T, b *browser, w *webDemo) {
	t.Helper()
	n := 0
	for _, x := range w.adaptations(t) {
		e := x.Experience
		if e.Practice.ID == "" {
			continue
		}
		n++
		original := e.About.Publisher + "/" + e.About.ID
		result := e.Practice.Publisher + "/" + e.Practice.ID
		b.load(t, practicePage(original), "practice")
		art := fmt.Sprintf(`#exp-adaptations article[data-author="%s"][data-slot="%s"]`, x.Publisher, x.Slot)
		if got := b.attrs(t, art+` dd[data-field="practice"] a`, "href"); !slices.Equal(got, []string{practicePage(result)}) {
			t.Errorf("on %s, the adaptation %s links to %v, want %s", original, x.Slot, got, practicePage(result))
		}
		b.interact(t, "follow the link to the resulting practice", "practice", chromedp.Click(chromedp.CSS(art+` dd[data-field="practice"] a`)))
		li := fmt.Sprintf(`#adapted-from li[data-original="%s"][data-slot="%s"]`, original, x.Slot)
		if got := b.attrs(t, li+" > a.original", "href"); !slices.Equal(got, []string{practicePage(original)}) {
			t.Errorf("on %s, adapted from links to %v, want %s", result, got, practicePage(original))
		}
		if got := b.text(t, li); !strings.Contains(got, "Adapted from") || !strings.Contains(got, normalSpace(e.Title)) {
			t.Errorf("on %s, adapted from reads %q", result, got)
		}
	}
	if n == 0 {
		t.Fatal("no demo adaptation names the practice it resulted in")
	}
}

// checkEveryExperience loads the page of every practice the node's
// experience records are about and checks that each record is shown in
// the part of its type, and the counts.
func checkEveryExperience(t *testing.T, b *browser, w *webDemo) {
	t.Helper()
	var all []webExperience
	for after := ""; ; {
		var page webExpList
		w.get(t, "/api/v1/experiences?limit=10&after="+url.QueryEscape(after), &page)
		all = append(all, page.Experiences...)
		if after = page.Next; after == "" {
			break
		}
	}
	about := map[string]bool{}
	for _, x := range all {
		about[x.Experience.About.Publisher+"/"+x.Experience.About.ID] = true
	}
	if len(all) != w.f.Experiences() || len(about) < 10 {
		t.Fatalf("the API lists %d experiences about %d practices; the demo published %d", len(all), len(about), w.f.Experiences())
	}
	part := map[string]string{"adaptation": "#exp-adaptations", "lesson": "#exp-lessons", "question": "#exp-questions",
		"answer": "#exp-questions", "endorsement": "#exp-endorsements"}
	for _, path := range slices.Sorted(maps.Keys(about)) {
		var exps webPracticeExps
		w.get(t, "/api/v1/practices/"+path+"/experiences", &exps)
		b.load(t, practicePage(path), "practice")
		checkExperienceCounts(t, b, exps.Counts)
		for _, x := range exps.Experiences {
			sel := fmt.Sprintf(`%s [data-author="%s"][data-slot="%s"]`, part[x.Experience.Type], x.Publisher, x.Slot)
			got := b.text(t, sel)
			for _, want := range []string{x.Experience.Title, x.Experience.Text} {
				if !strings.Contains(got, normalSpace(want)) {
					t.Errorf("on %s, %s reads %q, without %q", path, x.Slot, got, want)
				}
			}
		}
		if !strings.HasPrefix(b.text(t, "#experience-summary"), "Experiences of other organisations: ") {
			t.Errorf("on %s, the summary reads %q", path, b.text(t, "#experience-summary"))
		}
	}
}
