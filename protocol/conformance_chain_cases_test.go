package protocol

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The scenarios behind testdata/conformance/chain.json (PROTOCOL.md
// 12.4-12.6). Every expectation is written here by hand from the rules
// of the document; the generator only signs and encodes.

// chainVectorKeys are the keys of the scenarios: rotation keys r0, r1, r2
// (the genesis's keys, in priority order), delegates d (in the genesis)
// and d2, and x, a key the organisation never names.
var chainVectorKeys = []struct {
	name string
	seed byte
}{{"r0", seedR0}, {"r1", seedR1}, {"d", seedDelegate}, {"r2", 0x24}, {"d2", 0x25}, {"x", 0x26}}

// chainGen builds named operations and records of one organisation.
type chainGen struct {
	t    *testing.T
	keys map[string]crypto.PrivKey
	ops  map[string]*Signed
	org  peer.ID
}

// ct is a time on the scenarios' first day (2026-12-01, UTC).
func ct(hour, minute, second int) time.Time {
	return time.Date(2026, 12, 1, hour, minute, second, 0, time.UTC)
}

func newChainGen(t *testing.T) *chainGen {
	g := &chainGen{t: t, keys: map[string]crypto.PrivKey{}, ops: map[string]*Signed{}}
	for _, s := range chainVectorKeys {
		g.keys[s.name] = testKey(t, s.seed)
	}
	gen := &Announcement{V: Version, Seq: 1, Time: ct(9, 0, 0), Kind: KindOrg, Org: &OrgOp{
		Name: "Ville de Roubaix", Keys: []peer.ID{g.id("r0"), g.id("r1"), g.id("r2")},
		Delegates: []Delegation{{Key: g.id("d"), May: []Kind{KindPractice, KindRetract, KindProfile}}},
	}}
	g.ops["G"] = mustSeal(t, gen, g.keys["r0"])
	g.org = g.ops["G"].Announcement().Publisher
	return g
}

func (g *chainGen) id(name string) peer.ID { return idOf(g.t, g.keys[name]) }

// op names the operation after parent, an hour later with seq + 1 and
// the same key state changed by mutate, signed by signer.
func (g *chainGen) op(name, parent, signer string, mutate func(a *Announcement)) {
	g.t.Helper()
	p := g.ops[parent]
	a, err := NextOp(p, 0, p.Announcement().Time.Add(time.Hour))
	if err != nil {
		g.t.Fatal(err)
	}
	if mutate != nil {
		mutate(a)
	}
	g.ops[name] = mustSeal(g.t, a, g.keys[signer])
}

// delegate returns a mutation adding a delegation of key.
func (g *chainGen) delegate(key string, until time.Time, may ...Kind) func(a *Announcement) {
	return func(a *Announcement) {
		a.Org.Delegates = append(a.Org.Delegates, Delegation{Key: g.id(key), May: may, Until: until})
	}
}

func rename(name string) func(a *Announcement) { return func(a *Announcement) { a.Org.Name = name } }

// rec is a record of kind signed by signer under the operation auth.
func (g *chainGen) rec(kind Kind, signer, auth string, seq uint64, tm time.Time) *Signed {
	a := &Announcement{V: Version, Publisher: g.org, Seq: seq, Time: tm, Kind: kind, Auth: g.ops[auth].Hash()}
	switch kind {
	case KindPractice:
		s, err := DecodePayload([]byte(sheet()))
		if err != nil {
			g.t.Fatal(err)
		}
		a.Practice = s.Practice
	case KindRetract:
		a.Retract = &Retraction{ID: "conformance"}
	case KindProfile:
		a.Profile = &Profile{Name: "Ville de Roubaix", Country: "FR", Level: "municipality"}
	case KindMembers:
		a.Members = &MemberList{List: "eurocities", Title: "Eurocities members", Members: []Member{{ID: g.org, Name: "Ville de Roubaix"}}}
	}
	return mustSeal(g.t, a, g.keys[signer])
}

// chainSpec is a scenario as written here: the operations to feed (by
// name), the state of each ("canonical 0": state and rank), the head,
// the equivocations ({prev, signer key, ops...}) and the records.
type chainSpec struct {
	name, note string
	feed       []string
	want       map[string]string
	head       string
	equiv      [][]string
	records    []recSpec
}

type recSpec struct {
	name, note string
	rec        *Signed
	expect     string
}

// lower returns a and b ordered by hash: the winner of a tie first.
func (g *chainGen) lower(a, b string) (string, string) {
	ha, hb := g.ops[a].Hash(), g.ops[b].Hash()
	if bytes.Compare(ha[:], hb[:]) < 0 {
		return a, b
	}
	return b, a
}

// chainVectors writes chain.json.
func chainVectors(t *testing.T) chainFile {
	g := newChainGen(t)
	g.buildOps()
	cf := chainFile{Topic: "organisation chains: 12.4-12.6"}
	for _, s := range chainVectorKeys {
		cf.Keys = append(cf.Keys, chainKey{Name: s.name, Seed: seedHex(s.seed), ID: g.id(s.name).String()})
	}
	for _, sp := range g.specs() {
		cf.Scenarios = append(cf.Scenarios, g.scenario(sp))
	}
	return cf
}

// buildOps makes every operation the scenarios use.
func (g *chainGen) buildOps() {
	g.op("Dlg", "G", "r0", g.delegate("d2", time.Time{}, KindPractice, KindMembers))
	// Operations that can never link.
	g.op("ByD", "G", "d", nil)
	g.op("ByX", "G", "x", nil)
	g.op("Back", "G", "r0", func(a *Announcement) { a.Time = ct(8, 59, 59) })
	g.op("Drop", "G", "r0", func(a *Announcement) { a.Org.Delegates = nil })
	g.op("AfterByD", "ByD", "r0", nil)
	g.op("S5", "G", "r0", func(a *Announcement) { a.Seq = 5 })
	g.op("S5again", "S5", "r0", func(a *Announcement) { a.Seq = 5 })
	g.op("S4", "S5", "r0", func(a *Announcement) { a.Seq = 4 })
	g.op("S6", "S5", "r0", func(a *Announcement) { a.Seq, a.Time = 6, g.ops["S5"].Announcement().Time })
	// Revocation: d from 12:00 through seq 3, and children that keep it
	// or not.
	rv, err := Revoke(g.ops["G"], 10, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), g.id("d"), ct(12, 0, 0), 3)
	if err != nil {
		g.t.Fatal(err)
	}
	g.ops["Rev"] = mustSeal(g.t, rv, g.keys["r0"])
	g.op("RevKept", "Rev", "r0", g.delegate("d2", time.Time{}, KindPractice))
	g.op("RevThrough", "Rev", "r0", func(a *Announcement) { a.Org.Revoked[0].Through = 4 })
	g.op("RevFrom", "Rev", "r0", func(a *Announcement) { a.Org.Revoked[0].From = ct(13, 0, 0) })
	g.op("RevMay", "Rev", "r0", func(a *Announcement) { slices.Reverse(a.Org.Revoked[0].May) })
	g.op("RevDropped", "Rev", "r0", func(a *Announcement) { a.Org.Revoked = nil })
	g.op("RevRedelegated", "Rev", "r0", func(a *Announcement) {
		a.Org.Delegates = []Delegation{{Key: g.id("d"), May: a.Org.Revoked[0].May}}
		a.Org.Revoked = nil
	})
	g.op("Until", "G", "r0", g.delegate("d2", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), KindPractice))
	// The recovery window: r1 promotes itself and delegates d2 (A); r0
	// signs a sibling (B) or ratifies A (C).
	g.op("A", "G", "r1", func(a *Announcement) {
		a.Org.Keys = []peer.ID{g.id("r1"), g.id("r0")}
		g.delegate("d2", time.Time{}, KindPractice)(a)
	})
	g.op("B", "G", "r0", rename("Ville de Roubaix (B)"))
	g.op("C", "A", "r0", rename("Ville de Roubaix (C)"))
	g.op("A2", "G", "r2", g.delegate("d2", time.Time{}, KindPractice))
	g.op("B1", "G", "r1", rename("Ville de Roubaix (B1)"))
	g.op("C2", "A2", "r0", nil)
	g.op("E1", "G", "r0", rename("Ville de Roubaix (E1)"))
	g.op("E2", "G", "r0", rename("Ville de Roubaix (E2)"))
	g.op("E3", "G", "r1", nil)
	g.op("P1", "Dlg", "r0", nil)
	g.op("P2", "P1", "r0", nil)
}

// scenario encodes a spec.
func (g *chainGen) scenario(sp chainSpec) chainScenario {
	sc := chainScenario{Name: sp.name, Note: sp.note, Org: g.org.String(), Equivocations: []chainEquivocation{}, Records: []chainRecord{}}
	seen := map[string]bool{}
	for _, n := range sp.feed {
		op := g.ops[n]
		sc.Ops = append(sc.Ops, chainOpInput{Name: n, Envelope: hex.EncodeToString(op.Envelope())})
		if seen[n] {
			continue
		}
		seen[n] = true
		want, ok := sp.want[n]
		if !ok {
			g.t.Fatalf("%s: no state for %s", sp.name, n)
		}
		st := chainOpState{Name: n, Hash: op.Hash().String(), State: want}
		if state, rank, ok := strings.Cut(want, " "); ok {
			r, err := strconv.Atoi(rank)
			if err != nil {
				g.t.Fatal(err)
			}
			st.State, st.Rank = state, &r
		}
		sc.States = append(sc.States, st)
	}
	if len(seen) != len(sp.want) {
		g.t.Fatalf("%s: states for operations not fed", sp.name)
	}
	if sp.head != "" {
		sc.Head, sc.HeadName = g.ops[sp.head].Hash().String(), g.ops[sp.head].Announcement().Org.Name
	}
	for _, e := range sp.equiv {
		ce := chainEquivocation{Prev: g.ops[e[0]].Hash().String(), Signer: g.id(e[1]).String()}
		for _, n := range e[2:] {
			ce.Ops = append(ce.Ops, g.ops[n].Hash().String())
		}
		slices.Sort(ce.Ops)
		sc.Equivocations = append(sc.Equivocations, ce)
	}
	for _, r := range sp.records {
		payload, err := EncodePayload(r.rec.Announcement())
		if err != nil {
			g.t.Fatal(err)
		}
		sc.Records = append(sc.Records, chainRecord{Name: r.name, Note: r.note, Payload: string(payload),
			Envelope: hex.EncodeToString(r.rec.Envelope()), Expect: r.expect})
	}
	return sc
}

// at10 is the time of most records: after every operation of the first
// day but the revocation's from.
var at10 = ct(10, 30, 0)

func (g *chainGen) specs() []chainSpec {
	return append(g.authoritySpecs(), g.rankSpecs()...)
}

// authoritySpecs: linking, delegation, revocation and expiry.
func (g *chainGen) authoritySpecs() []chainSpec {
	return []chainSpec{
		{name: "genesis-only", note: "the genesis, fed twice; records judged by it",
			feed: []string{"G", "G"}, want: map[string]string{"G": "canonical"}, head: "G",
			records: []recSpec{
				{"delegated-practice", "d may publish practices", g.rec(KindPractice, "d", "G", 2, at10), "valid"},
				{"members-not-in-may", "d may not publish members", g.rec(KindMembers, "d", "G", 2, at10), "unauthorised"},
				{"signed-by-rotation-key", "r0 is a rotation key, not a delegate of G", g.rec(KindPractice, "r0", "G", 2, at10), "unauthorised"},
				{"signed-by-stranger", "G does not list x", g.rec(KindPractice, "x", "G", 2, at10), "unauthorised"},
				{"auth-not-held", "auth names Dlg, which is not held", g.rec(KindPractice, "d2", "Dlg", 3, at10), "pending"},
			}},
		{name: "missing-genesis", note: "without the genesis nothing links: the chain is unknown",
			feed: []string{"P1", "Dlg", "P1"}, want: map[string]string{"Dlg": "pending", "P1": "pending"},
			records: []recSpec{
				{"auth-genesis", "", g.rec(KindPractice, "d", "G", 2, at10), "pending"},
				{"auth-pending", "", g.rec(KindPractice, "d2", "Dlg", 3, at10), "pending"},
			}},
		{name: "delegation", note: "Dlg (r0) delegates practice and members to d2",
			feed: []string{"Dlg", "G", "Dlg"}, want: map[string]string{"G": "canonical", "Dlg": "canonical 0"}, head: "Dlg",
			records: []recSpec{
				{"delegated-practice", "", g.rec(KindPractice, "d2", "Dlg", 3, at10), "valid"},
				{"delegated-members", "d2 may publish members", g.rec(KindMembers, "d2", "Dlg", 3, at10), "valid"},
				{"profile-not-in-may", "", g.rec(KindProfile, "d2", "Dlg", 3, at10), "unauthorised"},
				{"auth-does-not-list-signer", "G does not delegate d2, though the head does", g.rec(KindPractice, "d2", "G", 3, at10), "unauthorised"},
				{"members-not-in-may", "Dlg delegates d for practice, retract and profile only", g.rec(KindMembers, "d", "Dlg", 3, at10), "unauthorised"},
				{"auth-before-head", "G is not the head, but the head still delegates d", g.rec(KindPractice, "d", "G", 3, at10), "valid"},
			}},
		{name: "cannot-link", note: "children of G signed by a delegate and by a stranger, one going back in time, one dropping a delegate without revoking it, and a child of a broken operation",
			feed: []string{"AfterByD", "Drop", "ByX", "G", "Back", "ByD"},
			want: map[string]string{"G": "canonical", "ByD": "broken", "ByX": "broken", "Back": "broken", "Drop": "broken", "AfterByD": "broken"},
			head: "G",
			records: []recSpec{
				{"auth-broken", "ByD delegates d but can never link", g.rec(KindPractice, "d", "ByD", 3, at10), "unauthorised"},
			}},
		{name: "seq", note: "S5 has seq 5; its children with seq 5 and 4 cannot link, S6 (seq 6, the same time as S5) does",
			feed: []string{"S4", "S6", "S5again", "G", "S5"},
			want: map[string]string{"G": "canonical", "S5": "canonical 0", "S6": "canonical 0", "S5again": "broken", "S4": "broken"},
			head: "S6"},
		{name: "revocation", note: "Rev revokes d from 12:00 through seq 3; its children must keep that entry unchanged",
			feed: []string{"RevThrough", "RevKept", "G", "RevDropped", "Rev", "RevRedelegated", "RevMay", "RevFrom", "Rev"},
			want: map[string]string{"G": "canonical", "Rev": "canonical 0", "RevKept": "canonical 0", "RevThrough": "broken",
				"RevFrom": "broken", "RevMay": "broken", "RevDropped": "broken", "RevRedelegated": "broken"},
			head: "RevKept",
			records: []recSpec{
				{"before-from-seq-2", "", g.rec(KindPractice, "d", "G", 2, ct(11, 0, 0)), "valid"},
				{"before-from-seq-through", "", g.rec(KindProfile, "d", "G", 3, ct(11, 59, 59)), "valid"},
				{"above-through", "", g.rec(KindPractice, "d", "G", 4, ct(11, 0, 0)), "not_authorised_now"},
				{"at-from", "", g.rec(KindPractice, "d", "G", 2, ct(12, 0, 0)), "not_authorised_now"},
				{"after-from", "", g.rec(KindRetract, "d", "G", 3, ct(13, 0, 0)), "not_authorised_now"},
				{"auth-revokes-signer", "Rev lists d as revoked, not delegated", g.rec(KindPractice, "d", "Rev", 2, ct(11, 0, 0)), "unauthorised"},
				{"new-delegate", "", g.rec(KindPractice, "d2", "RevKept", 11, ct(13, 0, 0)), "valid"},
			}},
		{name: "until", note: "Until delegates d2 for practices until 2026-12-05T00:00:00Z",
			feed: []string{"Until", "G"}, want: map[string]string{"G": "canonical", "Until": "canonical 0"}, head: "Until",
			records: []recSpec{
				{"before-until", "", g.rec(KindPractice, "d2", "Until", 3, time.Date(2026, 12, 4, 23, 59, 59, 0, time.UTC)), "valid"},
				{"at-until", "", g.rec(KindPractice, "d2", "Until", 3, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)), "not_authorised_now"},
				{"after-until", "", g.rec(KindPractice, "d2", "Until", 4, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)), "not_authorised_now"},
			}},
		{name: "pending-prev", note: "P1 follows Dlg, which is not held, and P2 follows P1",
			feed: []string{"P2", "G", "P1"}, want: map[string]string{"G": "canonical", "P1": "pending", "P2": "pending"}, head: "G",
			records: []recSpec{
				{"auth-pending", "", g.rec(KindPractice, "d2", "P2", 5, at10), "pending"},
				{"auth-genesis", "", g.rec(KindPractice, "d", "G", 5, at10), "valid"},
			}},
	}
}

// rankSpecs: the recovery window, ratification, ties and equivocation.
func (g *chainGen) rankSpecs() []chainSpec {
	winAB, loseAB := g.lower("A", "B")
	tie := map[string]string{"G": "canonical", winAB: "canonical 0", loseAB: "abandoned 0", "C": "abandoned 1"}
	tieHead := winAB
	if winAB == "A" {
		tie["C"], tieHead = "canonical 1", "C"
	}
	winE, loseE := g.lower("E1", "E2")
	return []chainSpec{
		{name: "overturned", note: "A, signed by keys[1] (r1), makes r1 keys[0] and delegates d2; B, signed by keys[0], overturns it",
			feed: []string{"A", "B", "G", "A"}, want: map[string]string{"G": "canonical", "A": "abandoned 1", "B": "canonical 0"}, head: "B",
			records: []recSpec{
				{"delegated-on-abandoned-branch", "the head does not name d2", g.rec(KindPractice, "d2", "A", 3, at10), "not_authorised_now"},
				{"auth-abandoned-head-delegates", "A is abandoned but the head still delegates d", g.rec(KindPractice, "d", "A", 3, at10), "valid"},
			}},
		{name: "ratified", note: "r0 signs C on top of A: A's rank becomes 0 (it is 1 in overturned); C's rank is r0's index in A's keys",
			feed: []string{"C", "A", "G"}, want: map[string]string{"G": "canonical", "A": "canonical 0", "C": "canonical 1"}, head: "C",
			records: []recSpec{
				{"delegated-by-ratified", "", g.rec(KindPractice, "d2", "A", 4, at10), "valid"},
			}},
		{name: "ratified-wins", note: "A2 (keys[2]) loses to B1 (keys[1]) until r0 signs C2 on top of A2",
			feed: []string{"B1", "C2", "G", "A2", "B1"},
			want: map[string]string{"G": "canonical", "A2": "canonical 0", "C2": "canonical 0", "B1": "abandoned 1"}, head: "C2",
			records: []recSpec{
				{"delegated-by-a2", "", g.rec(KindPractice, "d2", "A2", 4, at10), "valid"},
			}},
		{name: "tie", note: "A ratified by C and B both have rank 0: the lower hash wins",
			feed: []string{"B", "C", "A", "G"}, want: tie, head: tieHead},
		{name: "equivocation", note: "r0 signs two children of G (E1, E2): both rank 0, the lower hash wins; E3 (r1) is rank 1",
			feed: []string{"E2", "E1", "G", "E3", "E2"},
			want: map[string]string{"G": "canonical", winE: "canonical 0", loseE: "abandoned 0", "E3": "abandoned 1"}, head: winE,
			equiv: [][]string{{"G", "r0", "E1", "E2"}}},
	}
}
