package protocol

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// chainFile is a file of chain vectors (PROTOCOL.md 11 and 12.4-12.6):
// scenarios, each a set of operations of one organisation with the state
// a replica must reach and the records it must judge.
type chainFile struct {
	Topic string `json:"topic"`
	// Keys are the keys that sign the scenarios, for reading.
	Keys      []chainKey      `json:"keys"`
	Scenarios []chainScenario `json:"scenarios"`
}

// chainKey is one signing key: a name the notes use, its 32-byte seed
// (hex) and its peer ID.
type chainKey struct {
	Name string `json:"name"`
	Seed string `json:"seed"`
	ID   string `json:"id"`
}

// chainScenario is one scenario: feed Ops (in this order, duplicates
// included) to a chain of Org, then check every operation's state and
// rank, the head and its name, the equivocations and each record's
// judgement.
type chainScenario struct {
	Name string         `json:"name"`
	Note string         `json:"note,omitempty"`
	Org  string         `json:"org"`
	Ops  []chainOpInput `json:"ops"`
	// States lists every distinct operation of Ops once.
	States []chainOpState `json:"states"`
	// Head is the head's hash and HeadName its name; both "" when the
	// chain is unknown (no genesis).
	Head          string              `json:"head"`
	HeadName      string              `json:"head_name"`
	Equivocations []chainEquivocation `json:"equivocations"`
	Records       []chainRecord       `json:"records"`
}

// chainOpInput is one operation as fed: a name for reading and the
// envelope (hex).
type chainOpInput struct {
	Name     string `json:"name"`
	Envelope string `json:"envelope"`
}

// chainOpState is what the chain concludes of one operation: its state
// (OpState.String) and, for a linked operation other than the genesis,
// its rank.
type chainOpState struct {
	Name  string `json:"name"`
	Hash  string `json:"hash"`
	State string `json:"state"`
	Rank  *int   `json:"rank,omitempty"`
}

// chainEquivocation is an identity equivocation: the linked children
// of Prev signed by Signer (hashes in increasing order).
type chainEquivocation struct {
	Prev   string   `json:"prev"`
	Signer string   `json:"signer"`
	Ops    []string `json:"ops"`
}

// chainRecord is a record of the organisation and its judgement (12.6):
// valid, pending, unauthorised (step 2) or not_authorised_now (step 4).
type chainRecord struct {
	Name     string `json:"name"`
	Note     string `json:"note,omitempty"`
	Payload  string `json:"payload"`
	Envelope string `json:"envelope"`
	Expect   string `json:"expect"`
}

// judgement names Chain.Authorise's result as chain.json does.
func judgement(err error) string {
	switch {
	case err == nil:
		return "valid"
	case errors.Is(err, ErrChainPending):
		return "pending"
	case errors.Is(err, ErrUnauthorised):
		return "unauthorised"
	case errors.Is(err, ErrRevoked):
		return "not_authorised_now"
	}
	return "error: " + err.Error()
}

// chainFiles returns every chain vector file by name.
func chainFiles(t *testing.T) map[string]chainFile {
	return map[string]chainFile{"chain.json": chainVectors(t)}
}

// TestConformanceChains checks every chain vector file against NewChain
// and Chain.Authorise, and the files against their generator (-update
// rewrites them, as for TestConformanceVectors).
func TestConformanceChains(t *testing.T) {
	for name, want := range chainFiles(t) {
		got := vectorFileBytes(t, name, want)
		var cf chainFile
		if err := json.Unmarshal(got, &cf); err != nil {
			t.Fatal(err)
		}
		for _, sc := range cf.Scenarios {
			t.Run(strings.TrimSuffix(name, ".json")+"/"+sc.Name, func(t *testing.T) { checkScenario(t, sc) })
		}
	}
}

func openHex(t *testing.T, s string) *Signed {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := Open(b)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return sg
}

func checkScenario(t *testing.T, sc chainScenario) {
	org, err := DecodeID(sc.Org)
	if err != nil {
		t.Fatal(err)
	}
	var ops []*Signed
	for _, o := range sc.Ops {
		ops = append(ops, openHex(t, o.Envelope))
	}
	c := NewChain(org, ops)
	if n := len(c.Ops()); n != len(sc.States) {
		t.Errorf("the chain holds %d operations, the scenario lists %d", n, len(sc.States))
	}
	for _, st := range sc.States {
		h, err := ParseHash(st.Hash)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := c.Op(h)
		wantRank := -1
		if st.Rank != nil {
			wantRank = *st.Rank
		}
		if !ok || got.State.String() != st.State || got.Rank != wantRank {
			t.Errorf("op %s: got %v rank %d (held %v, %s), want %s rank %d", st.Name, got.State, got.Rank, ok, got.Reason, st.State, wantRank)
		}
	}
	checkHead(t, sc, c)
	// The same set in the reverse order reaches the same head (12.4).
	slices.Reverse(ops)
	checkHead(t, sc, NewChain(org, ops))
	var eq []chainEquivocation
	for _, e := range c.Equivocations() {
		ce := chainEquivocation{Prev: e.Prev.String(), Signer: e.Signer.String()}
		for _, h := range e.Ops {
			ce.Ops = append(ce.Ops, h.String())
		}
		eq = append(eq, ce)
	}
	if !slices.EqualFunc(eq, sc.Equivocations, func(a, b chainEquivocation) bool {
		return a.Prev == b.Prev && a.Signer == b.Signer && slices.Equal(a.Ops, b.Ops)
	}) {
		t.Errorf("equivocations %+v, want %+v", eq, sc.Equivocations)
	}
	for _, r := range sc.Records {
		s := openHex(t, r.Envelope)
		if got := judgement(c.Authorise(s.Announcement(), s.Signer())); got != r.Expect {
			t.Errorf("record %s: %s, want %s (%v)", r.Name, got, r.Expect, c.Authorise(s.Announcement(), s.Signer()))
		}
	}
}

func checkHead(t *testing.T, sc chainScenario, c *Chain) {
	t.Helper()
	head := ""
	if h := c.Head(); h != nil {
		head = h.Hash().String()
	}
	if head != sc.Head || c.Name() != sc.HeadName {
		t.Errorf("head %q %q, want %q %q", head, c.Name(), sc.Head, sc.HeadName)
	}
}
