package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/protocol"
)

// The experience part of show's human output: counts by type, where the
// practice was adapted, and the records, answers threaded under what
// they reply to (PROTOCOL.md 13.4).

// printPracticeExperiences writes the section after the provenance.
func printPracticeExperiences(w io.Writer, pe api.PracticeExperiences, now time.Time, width int) {
	fmt.Fprintf(w, "\nExperiences\n-----------\n")
	f := fields{w: w, width: width}
	if len(pe.Experiences) == 0 {
		f.add("Records", "none known here")
		return
	}
	f.add("Records", countsText(pe.Counts))
	for _, ad := range pe.AdaptedIn {
		f.add("Adapted in", adaptationText(ad))
	}
	for _, n := range threadExperiences(pe.Experiences) {
		printExperience(w, pe.Experiences[n.i], n.depth, now, width)
	}
}

// countsText is "1 adaptation, 2 lessons, ...", the types with records.
func countsText(c api.ExperienceCounts) string {
	var parts []string
	for _, p := range []struct {
		n    uint64
		unit string
	}{{c.Adaptations, "adaptation"}, {c.Lessons, "lesson"}, {c.Questions, "question"}, {c.Answers, "answer"}, {c.Endorsements, "endorsement"}} {
		if p.n > 0 {
			parts = append(parts, plural(float64(p.n), p.unit))
		}
	}
	return strings.Join(parts, ", ")
}

// adaptationText is one "Adapted in" line: where, from when, by whom, and
// the practice that resulted, written as show's argument.
func adaptationText(ad api.Adaptation) string {
	s := placeText(ad.City, ad.Region, ad.Country) + " (" + strconv.Itoa(ad.StartYear) + "), by " + authorText(ad.AuthorName, ad.Author, 300)
	if ad.Practice != nil {
		s += "; resulting practice " + ad.Practice.Publisher + "/" + ad.Practice.ID
	}
	return s
}

// threadNode is one record of a thread: its index in the records and
// its depth (0 for the top level).
type threadNode struct{ i, depth int }

// threadExperiences orders records for display: each at the top level in
// the given order, except an answer whose in_reply_to names a record
// among them, which follows that record one level deeper. An answer to a
// record not among them, or in a cycle of replies, stays at the top
// level, so that nothing is lost.
func threadExperiences(es []api.Experience) []threadNode {
	index := map[string]int{}
	for i, e := range es {
		index[e.Publisher+"/"+e.Slot] = i
	}
	parent := make([]int, len(es))
	children := map[int][]int{}
	for i, e := range es {
		parent[i] = -1
		if r := e.Experience.InReplyTo; e.Experience.Type == protocol.ExperienceAnswer && !r.IsZero() {
			if p, ok := index[r.Publisher.String()+"/"+protocol.ExperienceSlot(r.ID)]; ok && p != i {
				parent[i] = p
				children[p] = append(children[p], i)
			}
		}
	}
	var out []threadNode
	seen := make([]bool, len(es))
	var walk func(i, depth int)
	walk = func(i, depth int) {
		seen[i] = true
		out = append(out, threadNode{i, depth})
		for _, c := range children[i] {
			if !seen[c] {
				walk(c, depth+1)
			}
		}
	}
	for i := range es {
		if parent[i] < 0 {
			walk(i, 0)
		}
	}
	for i := range es { // cycles: no member reaches the top level
		if !seen[i] {
			walk(i, 0)
		}
	}
	return out
}

// printExperience writes one record, indented by its depth.
func printExperience(w io.Writer, e api.Experience, depth int, now time.Time, width int) {
	x := e.Experience
	indent := strings.Repeat("    ", depth)
	head := strings.ToUpper(string(x.Type[:1])) + string(x.Type[1:])
	if x.ID != "" {
		head += " " + x.ID
	}
	head += " by " + authorText(e.AuthorName, e.Publisher, 300)
	if !e.Time.IsZero() {
		head += ", " + ago(e.Time, now)
	}
	if e.AuthorName != "" {
		head += " (" + e.Publisher + ")"
	}
	fmt.Fprint(w, "\n"+wrapText(head, max(20, width-len(indent)), indent))
	body := indent + "  "
	para := func(label, text string) {
		if strings.TrimSpace(text) == "" {
			return
		}
		if label != "" {
			text = label + ": " + text
		}
		fmt.Fprint(w, wrapText(text, max(20, width-len(body)), body))
	}
	para("", x.Title)
	if x.Type == protocol.ExperienceAdaptation {
		para("Where", placeText(x.City, x.Region, x.Country)+", "+adaptationYears(x))
		para("Changes", x.Changes)
		var result []string
		if x.Achievement != "" {
			result = append(result, "achievement "+words([]string{x.Achievement}))
		}
		if x.Evaluation != "" {
			result = append(result, "evaluation "+words([]string{x.Evaluation}))
		}
		para("Result", strings.Join(result, ", "))
		para("Outcomes", x.Outcomes)
	}
	para("", x.Text)
	para("What worked", x.Worked)
	para("What did not", x.DidNotWork)
	para("For whom", x.ForWhom)
	if x.Type == protocol.ExperienceAnswer && depth == 0 && !x.InReplyTo.IsZero() {
		para("In reply to", x.InReplyTo.Publisher.String()+" "+x.InReplyTo.ID+" (not threaded here)")
	}
}

// adaptationYears is "2019-ongoing", "2019-2021" or "2019".
func adaptationYears(x *protocol.Experience) string {
	s := strconv.Itoa(x.StartYear)
	switch {
	case x.Ongoing:
		s += "–ongoing"
	case x.EndYear != 0:
		s += "–" + strconv.Itoa(x.EndYear)
	}
	return s
}
