package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
)

// webOrg is an organisation built in the test, as a coordinator and its
// staff would with their own keys, and the records it submits to a daemon.
type webOrg struct {
	name            string
	id              peer.ID
	rotation        peer.ID
	current, former peer.ID   // a delegate, and a delegate revoked after it published
	ids             [2]string // the practice of current, the practice of former
	revokedFrom     time.Time
	list            *protocol.MemberList // its membership list: member and a plain publisher
	member          peer.ID              // the organisation on the list
	memberName      string
	records         []*protocol.Signed // the member's genesis, the genesis, the two practices, the revocation, the list
}

// newWebOrg builds the organisation's records: a genesis with rotation key
// R delegating practices (and lists, to A) to keys A and B, a practice
// signed by each (an hour ago), an operation signed by R revoking B from
// half an hour ago, through B's sequence number, so B's practice stays
// valid, and a membership list signed by A naming a second organisation
// (its genesis too) and a plain publisher.
func newWebOrg(t *testing.T) *webOrg {
	t.Helper()
	key := func() (crypto.PrivKey, peer.ID) {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, id
	}
	rk, r := key()
	ak, a := key()
	bk, b := key()
	mk, _ := key()
	_, plain := key()
	now := time.Now().UTC().Truncate(time.Second)
	o := &webOrg{name: "Città Metropolitana di Prova", rotation: r, current: a, former: b, revokedFrom: now.Add(-30 * time.Minute)}
	seal := func(ann *protocol.Announcement, k crypto.PrivKey) *protocol.Signed {
		t.Helper()
		sg, err := protocol.Seal(ann, k)
		if err != nil {
			t.Fatal(err)
		}
		o.records = append(o.records, sg)
		return sg
	}
	o.memberName = "Comune Membro di Prova"
	mgen, err := protocol.NewGenesis(o.memberName, []crypto.PubKey{mk.GetPublic()}, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	o.member = seal(mgen, mk).Announcement().Publisher
	may := []protocol.Kind{protocol.KindPractice}
	gen, err := protocol.NewGenesis(o.name, []crypto.PubKey{rk.GetPublic()}, now.Add(-2*time.Hour),
		protocol.Delegation{Key: a, May: []protocol.Kind{protocol.KindPractice, protocol.KindMembers}},
		protocol.Delegation{Key: b, May: may})
	if err != nil {
		t.Fatal(err)
	}
	genesis := seal(gen, rk)
	o.id = genesis.Announcement().Publisher
	for i, k := range []crypto.PrivKey{ak, bk} {
		s := readSheet(t, []string{"../../demo/sheets/al-khantara-sicilia.yaml", "../../demo/sheets/active-parents-hamburg.yaml"}[i])
		s.ID = fmt.Sprintf("org-practice-%d", i+1)
		o.ids[i] = s.ID
		seal(&protocol.Announcement{V: protocol.Version, Publisher: o.id, Seq: uint64(2 + i), Time: now.Add(-time.Hour),
			Kind: protocol.KindPractice, Auth: genesis.Hash(), Practice: s}, k)
	}
	rev, err := protocol.Revoke(genesis, 4, now, b, o.revokedFrom, 3)
	if err != nil {
		t.Fatal(err)
	}
	seal(rev, rk)
	o.list = &protocol.MemberList{List: "network", Title: "Rete di prova", Members: []protocol.Member{
		{ID: o.member, Name: o.memberName}, {ID: plain, Name: "Comune Semplice"}}}
	seal(&protocol.Announcement{V: protocol.Version, Publisher: o.id, Seq: 5, Time: now,
		Kind: protocol.KindMembers, Auth: genesis.Hash(), Members: o.list}, ak)
	return o
}

func readSheet(t *testing.T, file string) *protocol.FactSheet {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := protocol.ParseSheet(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// submit posts each record's envelope to POST /api/v1/records.
func (o *webOrg) submit(t *testing.T, d *daemon) {
	t.Helper()
	for _, sg := range o.records {
		req, err := http.NewRequest(http.MethodPost, "http://"+d.api+"/api/v1/records", bytes.NewReader(sg.Envelope()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Authorization", "Bearer "+d.token)
		resp, err := d.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("submit %s seq %d: %s: %s", sg.Announcement().Kind, sg.Announcement().Seq, resp.Status, body)
		}
	}
}

// TestBrowserOrganisation opens, in a headless Chromium, a practice that
// an organisation published through delegates, then the organisation's
// page and the network view, on a real daemon that received the
// organisation's records through its API: the page must name the
// organisation and the signing key, say a revoked delegate's record stays
// valid, list the rotation key, the delegate and the revoked key, show
// the organisation's membership list with links to its members, and on
// the member organisation's page the list it is on.
func TestBrowserOrganisation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs a daemon and a browser")
	}
	chrome := findChromium(t)
	bin := buildKhantara(t)
	deadline := time.Now().Add(60 * time.Second)
	d := startDaemon(t, bin, "node", t.TempDir(), deadline)
	o := newWebOrg(t)
	o.submit(t, d)
	waitFor(t, deadline, "the index to hold the organisation's practices", []*daemon{d}, func() bool {
		var res search.Result
		return d.do(http.MethodGet, "/api/v1/search?limit=10&publisher="+o.id.String(), "", &res) == nil && res.Total == 2
	})

	b := startBrowser(t, chrome, "http://"+d.api)
	field := func(f string) string { return fmt.Sprintf(`section#provenance dd[data-field=%q]`, f) }

	t.Run("practice of a revoked delegate", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/practice/"+o.id.String()+"/"+o.ids[1], "practice")
		pub := b.text(t, field("publisher"))
		if !strings.Contains(pub, o.name) || !strings.Contains(pub, o.id.String()) {
			t.Errorf("the publisher field says %q, want the organisation's name %q and ID %s", pub, o.name, o.id)
		}
		if got := b.attrs(t, field("publisher")+" a.org", "href"); !slices.Equal(got, []string{"#/org/" + o.id.String()}) {
			t.Errorf("the publisher field links to %q, want the organisation's page", got)
		}
		signer := b.text(t, field("signer"))
		if got := b.attrs(t, field("signer"), "data-role"); !slices.Equal(got, []string{"revoked"}) {
			t.Errorf("the signer field has data-role %q, want revoked", got)
		}
		if !strings.Contains(signer, o.former.String()) || !strings.Contains(signer, "revoked from") ||
			!strings.Contains(signer, "this record is one of them") {
			t.Errorf("the signer field says %q, want key %s revoked, this record still valid", signer, o.former)
		}
		if got := b.text(t, ".byline"); !strings.Contains(got, o.name) {
			t.Errorf("the byline says %q, want the organisation's name", got)
		}
		b.screenshot(t, "org-practice-revoked")
	})

	t.Run("practice of a delegate", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/practice/"+o.id.String()+"/"+o.ids[0], "practice")
		if got := b.attrs(t, field("signer"), "data-role"); !slices.Equal(got, []string{"delegated"}) {
			t.Errorf("the signer field has data-role %q, want delegated", got)
		}
		if got := b.text(t, field("signer")); !strings.Contains(got, o.current.String()) || !strings.Contains(got, "current delegate") {
			t.Errorf("the signer field says %q, want %s as a current delegate", got, o.current)
		}
		b.interact(t, "click the organisation", "org", chromedp.Click(chromedp.CSS(field("publisher")+" a.org")))
		if h, want := b.hash(t), "#/org/"+o.id.String(); h != want {
			t.Errorf("the hash is %q, want %q", h, want)
		}
	})

	t.Run("organisation page", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/org/"+o.id.String(), "org")
		if got := b.text(t, "h1#org-name"); got != o.name {
			t.Errorf("h1 says %q, want %q", got, o.name)
		}
		if got := b.text(t, "#org-id"); got != o.id.String() {
			t.Errorf("#org-id says %q, want %s", got, o.id)
		}
		for _, c := range []struct {
			sel  string
			want []string
		}{
			{"ol#org-keys li", []string{o.rotation.String()}},
			{"table#org-delegates tbody tr", []string{o.current.String()}},
			{"table#org-revoked tbody tr", []string{o.former.String()}},
		} {
			if got := b.attrs(t, c.sel, "data-key"); !slices.Equal(got, c.want) {
				t.Errorf("%s: data-key %q, want %q", c.sel, got, c.want)
			}
		}
		revoked := b.text(t, "table#org-revoked tbody tr")
		if !strings.Contains(revoked, "3") || !strings.Contains(revoked, "practices") {
			t.Errorf("the revoked row says %q, want what it could publish and through seq 3", revoked)
		}
		cards := b.attrs(t, "ol#results > li.card", "data-id")
		slices.Sort(cards)
		if !slices.Equal(cards, o.ids[:]) {
			t.Errorf("the organisation's practices are %q, want %q", cards, o.ids)
		}
		if n := evalJS[int](t, b, `document.querySelectorAll("#org-equivocations, #org-forks").length`); n != 0 {
			t.Errorf("an organisation without conflicting operations shows %d warnings", n)
		}
		list := `#org-lists .member-list[data-list="network"]`
		if got := b.text(t, list+" h3"); !strings.Contains(got, o.list.Title) {
			t.Errorf("the list's heading says %q, want its title %q", got, o.list.Title)
		}
		want := []string{o.member.String(), "#/org/" + o.member.String(),
			o.list.Members[1].ID.String(), "#/search?publisher=" + o.list.Members[1].ID.String()}
		if got := b.attrs(t, list+" li a", "data-id", "href"); !slices.Equal(got, want) {
			t.Errorf("the list's members (data-id, href) are %q, want %q", got, want)
		}
		b.screenshot(t, "org")

		b.interact(t, "click the member organisation", "org", chromedp.Click(chromedp.CSS(list+" li a")))
		if got := b.text(t, "h1#org-name"); got != o.memberName {
			t.Errorf("the member's page is titled %q, want %q", got, o.memberName)
		}
		if got := b.attrs(t, "#org-member-of li", "data-org", "data-list"); !slices.Equal(got, []string{o.id.String(), "network"}) {
			t.Errorf("the member's page says it is on %q, want the list network of %s", got, o.id)
		}
		if got := b.text(t, "#org-member-of li"); !strings.Contains(got, o.list.Title) || !strings.Contains(got, o.name) {
			t.Errorf("the member's list entry says %q, want %q by %q", got, o.list.Title, o.name)
		}
	})

	t.Run("network lists organisations", func(t *testing.T) {
		b.begin(t)
		b.load(t, "#/network", "network")
		got := b.attrs(t, "table#orgs tbody tr", "data-org")
		slices.Sort(got)
		want := []string{o.id.String(), o.member.String()}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("table#orgs lists %q, want %q", got, want)
		}
		row := fmt.Sprintf("table#orgs tbody tr[data-org=%q]", o.id)
		if got := b.text(t, row); !strings.Contains(got, o.name) || !strings.Contains(got, "2") {
			t.Errorf("the organisation's row says %q, want its name and 2 practices", got)
		}
		b.interact(t, "click the organisation", "org", chromedp.Click(chromedp.CSS(row+" a")))
		if got := b.text(t, "h1#org-name"); got != o.name {
			t.Errorf("h1 says %q after the click, want %q", got, o.name)
		}
	})
}
