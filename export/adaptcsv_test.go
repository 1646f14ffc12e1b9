package export

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// wantEdge is what the tests expect of an adaptation's row or edge,
// worked out from the record and the fixture's knowledge of the
// practices, apart from the code under test.
func (f *expFixture) wantEdge(tb testing.TB, sg *protocol.Signed) map[string]string {
	tb.Helper()
	a := sg.Announcement()
	e := a.Experience
	names := map[peer.ID]string{f.a: f.aName, f.c: f.cName}
	status := func(pub peer.ID, id string) (string, map[string]any) {
		switch {
		case key(pub, id) == f.retractKey:
			return "retracted", nil
		case f.docs[key(pub, id)].raw != nil:
			return "held", f.docs[key(pub, id)].raw
		}
		return "not_held", nil
	}
	fromStatus, from := status(e.About.Publisher, e.About.ID)
	target := "adaptation." + a.Publisher.String() + "." + e.ID
	toStatus, to := "", map[string]any(nil)
	if e.Practice.Publisher != "" {
		target = "practice." + e.Practice.Publisher.String() + "." + e.Practice.ID
		toStatus, to = status(e.Practice.Publisher, e.Practice.ID)
	}
	ongoing := ""
	if e.Ongoing {
		ongoing = "true"
	} else if e.EndYear != 0 {
		ongoing = "false"
	}
	itoa := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	toPub := ""
	if e.Practice.Publisher != "" {
		toPub = e.Practice.Publisher.String()
	}
	aboutSeq := ""
	if e.About.Seq != 0 {
		aboutSeq = strconv.FormatUint(e.About.Seq, 10)
	}
	lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	return map[string]string{
		"source": "practice." + e.About.Publisher.String() + "." + e.About.ID, "target": target,
		"from_publisher": e.About.Publisher.String(), "from_publisher_name": names[e.About.Publisher],
		"from_id": e.About.ID, "from_status": fromStatus, "from_title": str(from, "title"),
		"from_country": str(from, "country"), "from_region": str(from, "region"), "from_city": str(from, "city"),
		"adapter": a.Publisher.String(), "adapter_name": names[a.Publisher], "experience_id": e.ID, "slot": "_exp/" + e.ID,
		"language": e.Language, "title": e.Title, "translations": strings.Join(slices.Sorted(maps.Keys(e.Translations)), ","),
		"country": e.Country, "region": e.Region, "city": e.City,
		"start_year": itoa(e.StartYear), "end_year": itoa(e.EndYear), "ongoing": ongoing,
		"to_publisher": toPub, "to_id": e.Practice.ID, "to_status": toStatus, "to_title": str(to, "title"),
		"achievement": e.Achievement, "evaluation": e.Evaluation, "changes": lf(e.Changes), "text": lf(e.Text),
		"outcomes": lf(e.Outcomes), "about_seq": aboutSeq, "seq": strconv.FormatUint(a.Seq, 10),
		"signed_at": a.Time.UTC().Format(time.RFC3339Nano), "received_from": f.a.String(),
		"hash": sg.Hash().String(), "signer": a.Publisher.String(),
	}
}

// TestAdaptationsCSVRoundTrip reads the edge list back as a researcher
// would and compares every row with the store's live adaptations: one
// row each (no superseded version, no retracted record), every column as
// worked out from the record, the original practices' status and titles
// (held, retracted, not held), formulas defused.
func TestAdaptationsCSVRoundTrip(t *testing.T) {
	f := newExpFixture(t)
	var buf bytes.Buffer
	n, err := AdaptationsCSV(&buf, StoreExperiences(f.st), Options{Profiles: StoreProfiles(f.st), Practices: f.st.Get})
	if err != nil {
		t.Fatal(err)
	}
	header, rows := readCSV(t, buf.Bytes(), true)
	want := f.adaptations()
	if n != len(want) || len(rows) != len(want) || len(want) < 8 {
		t.Fatalf("%d rows (n=%d), want %d live adaptations", len(rows), n, len(want))
	}
	// The store agrees with the fixture on what is live.
	stored := 0
	for rec, err := range StoreExperiences(f.st) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Announcement().Experience.Type == protocol.ExperienceAdaptation {
			stored++
			if want[key(rec.Announcement().Publisher, rec.Signed.Slot())] == nil {
				t.Errorf("the store holds %s, which the fixture does not expect", rec.Signed.Slot())
			}
		}
	}
	if stored != len(want) {
		t.Fatalf("the store holds %d adaptations, the fixture %d", stored, len(want))
	}
	statuses := map[string]int{}
	for _, row := range rows {
		got := map[string]string{}
		for i, h := range header {
			got[h] = row[i]
		}
		sg := want[got["adapter"]+"/"+got["slot"]]
		if sg == nil {
			t.Fatalf("row for %s/%s: no such live adaptation", got["adapter"], got["slot"])
		}
		exp := f.wantEdge(t, sg)
		for col, w := range exp {
			if w != "" && strings.ContainsAny(w[:1], "=+-@") {
				w = "'" + w
			}
			if got[col] != w {
				t.Errorf("%s: %s = %q, want %q", got["slot"], col, got[col], w)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, got["received_at"]); err != nil {
			t.Errorf("%s: received_at %q: %v", got["slot"], got["received_at"], err)
		}
		statuses[got["from_status"]]++
		delete(want, got["adapter"]+"/"+got["slot"])
	}
	if statuses["held"] == 0 || statuses["retracted"] != 1 || statuses["not_held"] != 1 {
		t.Errorf("original practices' statuses %v: want some held, one retracted, one not held", statuses)
	}
	if len(header) != len(f.wantEdge(t, f.adaptations()[key(f.c, "_exp/from-elsewhere")]))+1 {
		t.Errorf("%d columns: a column the test does not check, or a checked one missing: %v", len(header), header)
	}
}

// TestAdaptationsColumnsCoverExperience fails when a member of an
// experience record that an adaptation may give reaches no column: each
// member, changed, changes the row.
func TestAdaptationsColumnsCoverExperience(t *testing.T) {
	_, pub := testKey(t, 7)
	_, other := testKey(t, 8)
	base := protocol.Experience{Type: protocol.ExperienceAdaptation, ID: "base-adaptation",
		About: protocol.About{Publisher: pub, ID: "some-practice"}, Language: "en", Title: "T", Country: "FR",
		StartYear: 2020, Changes: "C"}
	change := map[string]func(e *protocol.Experience){
		"id":          func(e *protocol.Experience) { e.ID = "other-adaptation" },
		"about":       func(e *protocol.Experience) { e.About.Seq = 4 },
		"language":    func(e *protocol.Experience) { e.Language = "de" },
		"title":       func(e *protocol.Experience) { e.Title = "U" },
		"text":        func(e *protocol.Experience) { e.Text = "more" },
		"country":     func(e *protocol.Experience) { e.Country = "DE" },
		"region":      func(e *protocol.Experience) { e.Region = "R" },
		"city":        func(e *protocol.Experience) { e.City = "C" },
		"start_year":  func(e *protocol.Experience) { e.StartYear = 2021 },
		"end_year":    func(e *protocol.Experience) { e.EndYear = 2022 },
		"ongoing":     func(e *protocol.Experience) { e.Ongoing = true },
		"changes":     func(e *protocol.Experience) { e.Changes = "D" },
		"achievement": func(e *protocol.Experience) { e.Achievement = "fully" },
		"evaluation":  func(e *protocol.Experience) { e.Evaluation = "external" },
		"outcomes":    func(e *protocol.Experience) { e.Outcomes = "O" },
		"practice":    func(e *protocol.Experience) { e.Practice = protocol.Ref{Publisher: other, ID: "result"} },
		"translations": func(e *protocol.Experience) {
			e.Translations = map[string]protocol.ExperienceTranslation{"it": {Title: "I"}}
		},
	}
	// Members an adaptation never gives, and its type.
	notAdaptation := []string{"type", "in_reply_to", "worked", "did_not_work", "for_whom"}
	typ := reflect.TypeFor[protocol.Experience]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if _, ok := change[name]; !ok && !slices.Contains(notAdaptation, name) {
			t.Errorf("member %s of protocol.Experience: the test does not know whether an adaptation reaches a column with it", name)
		}
	}
	k, _ := testKey(t, 9)
	row := func(e protocol.Experience) []string {
		sg := seal(t, k, 1, &protocol.Announcement{Kind: protocol.KindExperience, Experience: &e})
		var buf bytes.Buffer
		src := func(yield func(*store.Record, error) bool) { yield(&store.Record{Signed: sg}, nil) }
		if _, err := AdaptationsCSV(&buf, src, Options{}); err != nil {
			t.Fatal(err)
		}
		_, rows := readCSV(t, buf.Bytes(), true)
		return rows[0]
	}
	r0 := row(base)
	for name, fn := range change {
		e := base
		fn(&e)
		if slices.Equal(row(e), r0) {
			t.Errorf("member %s reaches no column", name)
		}
	}
}

// TestAdaptationsAbortOnError: an error from the source, or from the
// practice look-up, ends the export with that error.
func TestAdaptationsAbortOnError(t *testing.T) {
	f := newExpFixture(t)
	boom := errors.New("disk on fire")
	failing := func(yield func(*store.Record, error) bool) {
		for rec, err := range StoreExperiences(f.st) {
			if !yield(rec, err) {
				return
			}
		}
		yield(nil, boom)
	}
	for name, write := range map[string]func(*bytes.Buffer, Source, Options) (int, error){
		"csv":     func(b *bytes.Buffer, s Source, o Options) (int, error) { return AdaptationsCSV(b, s, o) },
		"graphml": func(b *bytes.Buffer, s Source, o Options) (int, error) { return GraphML(b, s, o) },
	} {
		var buf bytes.Buffer
		if n, err := write(&buf, failing, Options{}); !errors.Is(err, boom) || n != len(f.adaptations()) {
			t.Errorf("%s: a failing source: %d, %v", name, n, err)
		}
		lookup := func(peer.ID, string) (*store.Record, error) { return nil, boom }
		if n, err := write(&buf, StoreExperiences(f.st), Options{Practices: lookup}); !errors.Is(err, boom) || n != 0 {
			t.Errorf("%s: a failing look-up: %d, %v", name, n, err)
		}
	}
}
