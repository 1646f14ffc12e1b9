package oai

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// TestExperienceSetsListed: ListSets names the experience sets once the
// repository holds experience items.
func TestExperienceSetsListed(t *testing.T) {
	f := newExpFixture(t, Config{})
	var specs []string
	for _, s := range f.query("verb", "ListSets").ListSets.Sets {
		specs = append(specs, s.Spec)
		if s.Name == "" {
			t.Errorf("set %s has no name", s.Spec)
		}
	}
	for _, want := range []string{"publisher", "experiences", "experiences:adaptation", "experiences:lesson",
		"experiences:question", "experiences:answer", "experiences:endorsement"} {
		if !slices.Contains(specs, want) {
			t.Errorf("ListSets %v lacks %s", specs, want)
		}
	}
}

// TestExperienceHarvest walks the experience sets page by page (pages
// of 3) as a harvester does: each lists exactly its items, deleted ones
// included, with their datestamps and set; from selects by datestamp; a
// harvest without a set, or of the publisher sets, lists practices
// only, as before experience records existed.
func TestExperienceHarvest(t *testing.T) {
	f := newExpFixture(t, Config{PageSize: 3})
	practices := f.ids(nil)
	for _, set := range []string{"", "publisher", "publisher:" + f.pubs[1].String()} {
		args := []string{"metadataPrefix", "oai_dc"}
		want := practices
		if set != "" {
			args = append(args, "set", set)
		}
		if strings.HasPrefix(set, "publisher:") {
			want = f.ids(func(it *item) bool { return it.pub == f.pubs[1] })
		}
		recs, _ := f.walk("ListIdentifiers", args...)
		if got := sortedCopy(identifiersOf(recs)); !slices.Equal(got, want) {
			t.Errorf("set %q: %d identifiers, want the %d practice items:\n got %v\nwant %v", set, len(got), len(want), got, want)
		}
	}
	for _, tc := range []struct {
		set  string
		from time.Time
	}{
		{"experiences", time.Time{}}, {"experiences:adaptation", time.Time{}}, {"experiences:lesson", time.Time{}},
		{"experiences:question", time.Time{}}, {"experiences:answer", time.Time{}}, {"experiences:endorsement", time.Time{}},
		{"experiences", expBatch2}, {"experiences:adaptation", expBatch2},
	} {
		args := []string{"metadataPrefix", "khantara", "set", tc.set}
		if !tc.from.IsZero() {
			args = append(args, "from", stamp(tc.from))
		}
		recs, toks := f.walk("ListIdentifiers", args...)
		want := f.expIDs(tc.set, tc.from)
		if got := sortedCopy(identifiersOf(recs)); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("set %s from %v:\n got %v\nwant %v", tc.set, tc.from, got, want)
		}
		if tc.set == "experiences" && tc.from.IsZero() {
			if len(toks) < 3 || toks[0].CompleteListSize != strconv.Itoa(len(want)) {
				t.Errorf("set experiences: %d pages, first completeListSize %q, want %d items", len(toks), toks[0].CompleteListSize, len(want))
			}
		}
		for _, r := range recs {
			it := f.exps[r.Header.Identifier]
			if it == nil {
				continue // reported above
			}
			if (r.Header.Status == "deleted") != it.deleted || r.Header.Datestamp != stamp(it.stamp) || len(r.Header.SetSpecs) != 1 ||
				!slices.Contains(it.sets, r.Header.SetSpecs[0]) {
				t.Errorf("%s: header %+v, want deleted %v at %s in one of %v", r.Header.Identifier, r.Header, it.deleted, stamp(it.stamp), it.sets)
			}
		}
	}
	for _, bad := range []struct{ set, code string }{
		{"experiences:rumour", "noRecordsMatch"}, {"experiences:", "badArgument"}, {"experience", "noRecordsMatch"},
	} {
		r := f.query("verb", "ListRecords", "metadataPrefix", "oai_dc", "set", bad.set)
		if len(r.Errors) != 1 || r.Errors[0].Code != bad.code {
			t.Errorf("set %q: %+v, want %s", bad.set, r.Errors, bad.code)
		}
	}
}

// TestExperienceDublinCore checks the oai_dc record of every live
// experience item against the record signed: title (or one made from
// the practice), creator, type, relations to the practice and the
// record answered or resulting, date, languages, coverage of an
// adaptation, descriptions.
func TestExperienceDublinCore(t *testing.T) {
	f := newExpFixture(t, Config{})
	recs, _ := f.walk("ListRecords", "metadataPrefix", "oai_dc", "set", "experiences")
	checked := 0
	for _, r := range recs {
		it := f.exps[r.Header.Identifier]
		if it == nil || it.deleted {
			if r.Metadata != nil {
				t.Errorf("%s: a deleted record has metadata", r.Header.Identifier)
			}
			continue
		}
		a := it.signed.Announcement()
		e := a.Experience
		dc := r.Metadata.DC
		wantTitle := []string{"[" + e.Language + "] " + e.Title}
		for _, l := range slices.Sorted(maps.Keys(e.Translations)) {
			wantTitle = append(wantTitle, "["+l+"] "+e.Translations[l].Title)
		}
		if e.Title == "" {
			title := f.items[identifierOf(e.About.Publisher, e.About.ID)].sheet.Title
			wantTitle = []string{map[protocol.ExperienceType]string{"answer": "Answer about: ", "endorsement": "Endorsement of: "}[e.Type] + title}
		}
		creator := map[string]string{f.pubs[0].String(): profileName, f.pubs[1].String(): f.pubs[1].String()}[a.Publisher.String()]
		relations := []string{"oai:khantara:" + e.About.Publisher.String() + ":" + e.About.ID}
		if e.Type == protocol.ExperienceAnswer {
			relations = append(relations, "oai:khantara:"+e.InReplyTo.Publisher.String()+":_exp/"+e.InReplyTo.ID)
		}
		if e.Practice.ID != "" {
			relations = append(relations, "oai:khantara:"+e.Practice.Publisher.String()+":"+e.Practice.ID)
		}
		var coverage []string
		for _, v := range []string{e.Country, e.Region, e.City} {
			if v != "" {
				coverage = append(coverage, v)
			}
		}
		switch {
		case e.Ongoing:
			coverage = append(coverage, strconv.Itoa(e.StartYear)+"/..")
		case e.EndYear != 0:
			coverage = append(coverage, strconv.Itoa(e.StartYear)+"/"+strconv.Itoa(e.EndYear))
		case e.StartYear != 0:
			coverage = append(coverage, strconv.Itoa(e.StartYear))
		}
		var desc []string
		for _, v := range []string{e.Text, e.Changes, e.Outcomes, e.Worked, e.DidNotWork, e.ForWhom} {
			if v != "" {
				desc = append(desc, "["+e.Language+"] "+v)
			}
		}
		for _, l := range slices.Sorted(maps.Keys(e.Translations)) {
			desc = append(desc, "["+l+"] "+e.Translations[l].Text)
		}
		for name, want := range map[string][]string{
			"title": wantTitle, "creator": {creator}, "publisher": {creator},
			"type": {"Text", "experience", string(e.Type)}, "identifier": {r.Header.Identifier},
			"relation": relations, "date": {a.Time.UTC().Format("2006-01-02")},
			"language": append([]string{e.Language}, slices.Sorted(maps.Keys(e.Translations))...),
			"coverage": coverage, "description": desc,
		} {
			if got := dc.values(name); !slices.Equal(got, want) {
				t.Errorf("%s: dc:%s %q, want %q", it.slot, name, got, want)
			}
		}
		checked++
	}
	live := 0
	for _, it := range f.exps {
		if !it.deleted {
			live++
		}
	}
	if checked != live || live < 5 {
		t.Errorf("checked %d live experience records of %d", checked, live)
	}
}

// TestExperienceKhantaraFormat reads each record's <experience> back and
// compares it member by member with the signed record.
func TestExperienceKhantaraFormat(t *testing.T) {
	f := newExpFixture(t, Config{})
	for id, it := range f.exps {
		r := f.query("verb", "GetRecord", "metadataPrefix", "khantara", "identifier", id)
		if len(r.Errors) > 0 {
			t.Fatalf("GetRecord %s: %+v", id, r.Errors)
		}
		rec := r.GetRecord.Record
		if it.deleted {
			if rec.Header.Status != "deleted" || rec.Metadata != nil {
				t.Errorf("%s: %+v, want a deleted header alone", id, rec)
			}
			continue
		}
		x := rec.Metadata.FactSheet
		if x != nil {
			t.Fatalf("%s: a fact sheet for an experience record", id)
		}
		got := experienceMembers(t, r)
		a := it.signed.Announcement()
		e := a.Experience
		want := map[string]string{
			"@publisher": a.Publisher.String(), "@signer": a.Publisher.String(), "@seq": strconv.FormatUint(a.Seq, 10),
			"@announced": a.Time.UTC().Format(time.RFC3339Nano), "@slot": it.slot,
			"type": string(e.Type), "id": e.ID, "about/publisher": e.About.Publisher.String(), "about/id": e.About.ID,
			"language": e.Language, "title": e.Title, "text": e.Text, "country": e.Country, "region": e.Region, "city": e.City,
			"changes": e.Changes, "achievement": e.Achievement, "evaluation": e.Evaluation, "outcomes": e.Outcomes,
			"worked": e.Worked, "did_not_work": e.DidNotWork, "for_whom": e.ForWhom,
		}
		if e.About.Seq != 0 {
			want["about/seq"] = strconv.FormatUint(e.About.Seq, 10)
		}
		if e.StartYear != 0 {
			want["start_year"] = strconv.Itoa(e.StartYear)
		}
		if e.EndYear != 0 {
			want["end_year"] = strconv.Itoa(e.EndYear)
		}
		if e.Ongoing {
			want["ongoing"] = "true"
		}
		if e.InReplyTo.ID != "" {
			want["in_reply_to/publisher"], want["in_reply_to/id"] = e.InReplyTo.Publisher.String(), e.InReplyTo.ID
		}
		if e.Practice.ID != "" {
			want["practice/publisher"], want["practice/id"] = e.Practice.Publisher.String(), e.Practice.ID
		}
		for l, tr := range e.Translations {
			want["translations/translation["+l+"]/title"], want["translations/translation["+l+"]/text"] = tr.Title, tr.Text
		}
		for k, v := range want {
			if v == "" {
				delete(want, k)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", id, got, want)
		}
	}
}

// experienceMembers flattens the <experience> of a GetRecord answer into
// paths ("about/id", "@slot", "translations/translation[en]/title").
func experienceMembers(t *testing.T, r *tResponse) map[string]string {
	t.Helper()
	node := r.GetRecord.Record.Metadata.Experience
	if node == nil {
		t.Fatal("no <experience> in the metadata")
	}
	out := map[string]string{}
	for _, a := range node.Attrs {
		if a.Name.Space == "" && a.Name.Local != "xmlns" {
			out["@"+a.Name.Local] = a.Value
		}
	}
	var walk func(n tNode, prefix string)
	walk = func(n tNode, prefix string) {
		if n.XMLName.Space != tnsKhan {
			t.Errorf("element %s in namespace %q", n.XMLName.Local, n.XMLName.Space)
		}
		p := prefix + n.XMLName.Local
		for _, a := range n.Attrs {
			if a.Name.Local == "language" {
				p += "[" + a.Value + "]"
			}
		}
		if len(n.Children) == 0 {
			out[p] = n.Text
			return
		}
		for _, c := range n.Children {
			walk(c, p+"/")
		}
	}
	for _, c := range node.Children {
		walk(c, "")
	}
	return out
}
