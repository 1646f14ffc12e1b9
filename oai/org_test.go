package oai

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestOrganisation serves a practice an organisation published through a
// delegate: its identifier and set name the organisation's ID, dc:publisher
// and setName the name its operations give (over its profile's), and the
// khantara format names the delegate that signed.
func TestOrganisation(t *testing.T) {
	rot, dk := testKey(t, 20), testKey(t, 21)
	delegate, err := peer.IDFromPrivateKey(dk)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	gen, err := protocol.NewGenesis("Rete delle Città di Prova", []crypto.PubKey{rot.GetPublic()}, t0,
		protocol.Delegation{Key: delegate, May: []protocol.Kind{protocol.KindPractice, protocol.KindProfile}})
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := protocol.Seal(gen, rot)
	if err != nil {
		t.Fatal(err)
	}
	org := genesis.Announcement().Publisher
	chain := protocol.NewChain(org, []*protocol.Signed{genesis})
	sheet := demoSheets(t)[0]
	var signed []*protocol.Signed
	for seq, a := range []*protocol.Announcement{
		{Kind: protocol.KindProfile, Profile: &protocol.Profile{Name: "Profile name", Country: "IT", Level: "network"}},
		{Kind: protocol.KindPractice, Practice: sheet},
	} {
		a.V, a.Publisher, a.Seq, a.Time, a.Auth = protocol.Version, org, uint64(seq+2), t0.Add(time.Hour), genesis.Hash()
		sg, err := protocol.Seal(a, dk)
		if err != nil {
			t.Fatal(err)
		}
		if err := chain.Authorise(sg.Announcement(), sg.Signer()); err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		signed = append(signed, sg)
	}
	st, err := store.Open(t.TempDir(), store.WithMemTableSize(4<<20), store.WithCacheSize(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, sg := range signed {
		if _, err := st.Apply(context.Background(), store.Incoming{Signed: sg, From: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, st: st}
	mux := http.NewServeMux()
	mux.Handle("/oai", NewHandler(st, Config{Now: func() time.Time { return nowT },
		Chains: func(id peer.ID) (*protocol.Chain, error) {
			if id != org {
				t.Errorf("Chains asked about %s, not the organisation", id)
			}
			return chain, nil
		}}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.baseURL = f.srv.URL + "/oai"
	id := identifierOf(org, sheet.ID)

	r := f.query("verb", "GetRecord", "identifier", id, "metadataPrefix", "oai_dc")
	if r.GetRecord == nil {
		t.Fatalf("GetRecord %s: %+v", id, r.Errors)
	}
	if got := r.GetRecord.Record.Metadata.DC.values("publisher"); !slices.Equal(got, []string{gen.Org.Name}) {
		t.Errorf("dc:publisher %q, want the organisation's name %q", got, gen.Org.Name)
	}
	r = f.query("verb", "GetRecord", "identifier", id, "metadataPrefix", "khantara")
	if r.GetRecord == nil || r.GetRecord.Record.Metadata == nil || r.GetRecord.Record.Metadata.FactSheet == nil {
		t.Fatalf("GetRecord %s khantara: %+v", id, r.Errors)
	}
	attrs := map[string]string{}
	for _, a := range r.GetRecord.Record.Metadata.FactSheet.Attrs {
		attrs[a.Name.Local] = a.Value
	}
	if attrs["publisher"] != org.String() || attrs["signer"] != delegate.String() {
		t.Errorf("<factsheet publisher=%q signer=%q>, want the organisation %s and its delegate %s",
			attrs["publisher"], attrs["signer"], org, delegate)
	}

	r = f.query("verb", "ListSets")
	if r.ListSets == nil {
		t.Fatalf("ListSets: %+v", r.Errors)
	}
	names := map[string]string{}
	for _, s := range r.ListSets.Sets {
		names[s.Spec] = s.Name
	}
	if got := names[setOf(org)]; got != gen.Org.Name {
		t.Errorf("setName of %s is %q, want %q", setOf(org), got, gen.Org.Name)
	}
	r = f.query("verb", "ListIdentifiers", "metadataPrefix", "oai_dc", "set", setOf(org))
	if r.ListIdentifiers == nil || len(r.ListIdentifiers.Headers) != 1 || r.ListIdentifiers.Headers[0].Identifier != id {
		t.Errorf("ListIdentifiers of the organisation's set: %+v, errors %+v", r.ListIdentifiers, r.Errors)
	}
}
