package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// orgFixture is an organisation with one rotation key and two delegates,
// each of which signed one practice, and a plain publisher's practice.
type orgFixture struct {
	org, plain       peer.ID
	delegates        [2]peer.ID
	name, plainName  string
	recs             []*store.Record
	chain            *protocol.Chain
	chainCalls, errs int
}

func newOrgFixture(t *testing.T) *orgFixture {
	t.Helper()
	rot, _ := testKey(t, 10)
	d1k, d1 := testKey(t, 11)
	d2k, d2 := testKey(t, 12)
	plainKey, plain := testKey(t, 13)
	all := []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile}
	gen, err := protocol.NewGenesis("Città Metropolitana di Prova", []crypto.PubKey{rot.GetPublic()}, t0,
		protocol.Delegation{Key: d1, May: all}, protocol.Delegation{Key: d2, May: all})
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := protocol.Seal(gen, rot)
	if err != nil {
		t.Fatal(err)
	}
	f := &orgFixture{org: genesis.Announcement().Publisher, plain: plain, delegates: [2]peer.ID{d1, d2},
		name: gen.Org.Name, plainName: "Plain Town"}
	f.chain = protocol.NewChain(f.org, []*protocol.Signed{genesis})
	docs := demoDocs(t)
	for i, k := range []crypto.PrivKey{d1k, d2k} {
		a := &protocol.Announcement{V: protocol.Version, Publisher: f.org, Seq: uint64(2 + i), Time: t0.Add(time.Hour),
			Kind: protocol.KindPractice, Auth: genesis.Hash(), Practice: docs[i].sheet}
		sg, err := protocol.Seal(a, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.chain.Authorise(sg.Announcement(), sg.Signer()); err != nil {
			t.Fatalf("the fixture's practice %d is not authorised: %v", i, err)
		}
		f.recs = append(f.recs, &store.Record{Signed: sg, ReceivedAt: t0.Add(2 * time.Hour)})
	}
	f.recs = append(f.recs, &store.Record{Signed: seal(t, plainKey, 1,
		&protocol.Announcement{Kind: protocol.KindPractice, Practice: docs[2].sheet})})
	return f
}

func (f *orgFixture) source() Source {
	return func(yield func(*store.Record, error) bool) {
		for _, r := range f.recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// chains answers for the fixture's organisation; it fails the test when
// asked about a plain publisher.
func (f *orgFixture) chains(t *testing.T) Chains {
	return func(id peer.ID) (*protocol.Chain, error) {
		f.chainCalls++
		switch {
		case id == f.org:
			return f.chain, nil
		case protocol.IsKey(id):
			t.Errorf("Chains asked about the plain publisher %s", id)
		}
		f.errs++
		return nil, errors.New("no such organisation")
	}
}

// profiles gives the plain publisher a profile, and the organisation one
// whose name differs from its operations' (which wins).
func (f *orgFixture) profiles(id peer.ID) *protocol.Profile {
	switch id {
	case f.plain:
		return &protocol.Profile{Name: f.plainName}
	case f.org:
		return &protocol.Profile{Name: "Profile name, not the organisation's", Website: "https://prova.example"}
	}
	return nil
}

// TestExportOrganisation checks that CSV, JSONL and DCAT name an
// organisation's practices by the organisation (ID and the name its
// operations give) and the delegate key that signed each.
func TestExportOrganisation(t *testing.T) {
	f := newOrgFixture(t)
	wantSigner := []string{f.delegates[0].String(), f.delegates[1].String(), f.plain.String()}
	wantPub := []string{f.org.String(), f.org.String(), f.plain.String()}
	wantName := []string{f.name, f.name, f.plainName}
	opts := Options{NoBOM: true, Profiles: f.profiles, Chains: f.chains(t)}

	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := CSV(&buf, f.source(), opts); err != nil {
			t.Fatal(err)
		}
		header, rows := readCSV(t, buf.Bytes(), false)
		col := func(name string) int { return slices.Index(header, name) }
		if len(rows) != 3 {
			t.Fatalf("%d rows, want 3", len(rows))
		}
		for i, row := range rows {
			got := []string{row[col("publisher")], row[col("publisher_name")], row[col("signer")]}
			if want := []string{wantPub[i], wantName[i], wantSigner[i]}; !slices.Equal(got, want) {
				t.Errorf("row %d: publisher, publisher_name, signer = %q, want %q", i, got, want)
			}
		}
	})

	t.Run("jsonl", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := JSONL(&buf, f.source(), opts); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		sc.Buffer(nil, 1<<20)
		i := 0
		for ; sc.Scan(); i++ {
			var line struct {
				Publisher     string `json:"publisher"`
				PublisherName string `json:"publisher_name"`
				Signer        string `json:"signer"`
				Envelope      []byte `json:"envelope"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			got := []string{line.Publisher, line.PublisherName, line.Signer}
			if want := []string{wantPub[i], wantName[i], wantSigner[i]}; !slices.Equal(got, want) {
				t.Errorf("line %d: publisher, publisher_name, signer = %q, want %q", i, got, want)
			}
			// The envelope alone says the same: a reader checks it offline.
			sg, err := protocol.Open(line.Envelope)
			if err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			if sg.Signer().String() != line.Signer || sg.Announcement().Publisher.String() != line.Publisher {
				t.Errorf("line %d: the envelope names signer %s and publisher %s", i, sg.Signer(), sg.Announcement().Publisher)
			}
		}
		if i != 3 {
			t.Fatalf("%d lines, want 3", i)
		}
	})

	t.Run("dcat", func(t *testing.T) {
		var buf bytes.Buffer
		_, err := DCAT(&buf, f.source(), Catalog{NodeID: f.delegates[0], Profiles: f.profiles, Chains: f.chains(t)})
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		checkPrefixes(t, "catalog", doc)
		datasets := doc["dcat:dataset"].([]any)
		if len(datasets) != 3 {
			t.Fatalf("%d datasets, want 3", len(datasets))
		}
		for i, e := range datasets {
			ds := e.(map[string]any)
			ag := ds["dct:publisher"].(map[string]any)
			if ag["@id"] != "urn:khantara:"+wantPub[i] || ag["foaf:name"] != wantName[i] {
				t.Errorf("dataset %d: publisher %v, want urn:khantara:%s named %q", i, ag, wantPub[i], wantName[i])
			}
			if got := ids(ds["prov:wasAttributedTo"]); !slices.Equal(got, []string{"urn:khantara:" + wantSigner[i]}) {
				t.Errorf("dataset %d: prov:wasAttributedTo %v, want the signer %s", i, got, wantSigner[i])
			}
		}
	})
	if f.chainCalls == 0 || f.errs != 0 {
		t.Errorf("Chains was called %d times, %d of them for an unknown organisation", f.chainCalls, f.errs)
	}
}

// TestExportOrganisationUnknown: without its chain an organisation's
// practices fall back to the profile's name, and without a profile to
// none; the signer is named all the same.
func TestExportOrganisationUnknown(t *testing.T) {
	f := newOrgFixture(t)
	unknown := func(peer.ID) (*protocol.Chain, error) { return protocol.NewChain(f.org, nil), nil }
	for _, tc := range []struct {
		name     string
		opts     Options
		wantName string
	}{
		{"unknown chain, profile", Options{NoBOM: true, Profiles: f.profiles, Chains: unknown}, "Profile name, not the organisation's"},
		{"no lookups", Options{NoBOM: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := CSV(&buf, f.source(), tc.opts); err != nil {
				t.Fatal(err)
			}
			header, rows := readCSV(t, buf.Bytes(), false)
			row := rows[0]
			if got := row[slices.Index(header, "publisher_name")]; got != tc.wantName {
				t.Errorf("publisher_name %q, want %q", got, tc.wantName)
			}
			if got := row[slices.Index(header, "signer")]; got != f.delegates[0].String() {
				t.Errorf("signer %q, want %s", got, f.delegates[0])
			}
		})
	}
}
