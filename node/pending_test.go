package node

import (
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// The pool refuses a record judged against a chain that has changed
// since, keeps one copy of each record, gives records back with their
// deadlines and drops them when their time runs out.
func TestPendingPool(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var gen uint64
	dropped := 0
	p := newPendingPool(func() time.Time { return now }, func() uint64 { return gen }, func(k int) { dropped += k })
	staff := testKey(t, 9801)
	org := newTestOrg(t, "Pool", []uint64{9802}, delegation(keyID(t, staff), protocol.KindPractice))
	sheets := demoSheets(t)
	r1 := org.record(staff, org.gen, 2, org.base, practiceAnn(variant(sheets, 1)))
	r2 := org.record(staff, org.gen, 3, org.base, practiceAnn(variant(sheets, 2)))

	if got := p.hold(r1, "", 0); got != holdOK {
		t.Fatalf("hold: %v", got)
	}
	if got := p.hold(r1, "", 0); got != holdOK || p.size() != 1 {
		t.Fatalf("hold twice: %v, size %d", got, p.size())
	}
	gen++ // an operation was applied meanwhile
	if got := p.hold(r2, "", 0); got != holdChanged || p.size() != 1 {
		t.Fatalf("hold against an old chain: %v, size %d", got, p.size())
	}
	now = now.Add(PendingTTL / 2)
	if got := p.hold(r2, "", gen); got != holdOK {
		t.Fatalf("hold: %v", got)
	}
	rs := p.take(org.id)
	if len(rs) != 2 || p.size() != 0 || p.take(org.id) != nil {
		t.Fatalf("take: %d records, size %d", len(rs), p.size())
	}
	p.putBack(rs)
	now = now.Add(PendingTTL/2 + time.Second) // r1's time is up, not r2's
	p.expire()
	if p.size() != 1 || dropped != 1 {
		t.Fatalf("after r1's deadline: size %d, dropped %d", p.size(), dropped)
	}
	now = now.Add(PendingTTL)
	if rs := p.take(org.id); len(rs) != 0 || dropped != 2 || p.size() != 0 {
		t.Fatalf("take after every deadline: %d records, dropped %d", len(rs), dropped)
	}
}
