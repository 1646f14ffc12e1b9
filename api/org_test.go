package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// postEnvelope submits an envelope to POST /api/v1/records.
func (c *testClient) postEnvelope(env []byte, auth bool) (int, []byte) {
	c.t.Helper()
	return c.do(http.MethodPost, "/api/v1/records", string(env), auth)
}

// seal seals ann with k, failing t on error.
func seal(t testing.TB, ann *protocol.Announcement, k crypto.PrivKey) *protocol.Signed {
	t.Helper()
	sg, err := protocol.Seal(ann, k)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// TestAPIOrganisations drives the organisation routes against a real
// node: a genesis submitted, the node set to publish for it, its plain
// practice adopted, a delegation, a forged operation refused, membership
// lists, and the answers of GET /orgs and /orgs/{org}.
func TestAPIOrganisations(t *testing.T) {
	n := newTestNet(t, 7).add()
	c := newTestClient(t, n)
	sheets := demoSheets(t)
	plain := publish(t, n, sheets[0])
	k0, k1, staff := testKey(t, 101), testKey(t, 102), testKey(t, 103)
	staffID, _ := peer.IDFromPrivateKey(staff)
	now := time.Now().UTC().Truncate(time.Second)
	gen, err := protocol.NewGenesis("City of Tests", []crypto.PubKey{k0.GetPublic(), k1.GetPublic()}, now,
		protocol.Delegation{Key: n.ID(), May: protocol.DelegableKinds})
	if err != nil {
		t.Fatal(err)
	}
	gen.Org.Adopts = n.ID()
	gsg := seal(t, gen, k0)
	org := gsg.Announcement().Publisher.String()

	c.fail("GET", "/api/v1/orgs/"+org, "", false, 404)
	c.fail("GET", "/api/v1/orgs/"+n.ID().String(), "", false, 400)
	c.fail("GET", "/api/v1/orgs/nonsense", "", false, 400)
	if code, _ := c.postEnvelope(gsg.Envelope(), false); code != 401 {
		t.Fatalf("POST /records without the token: %d", code)
	}
	if code, raw := c.postEnvelope([]byte("not an envelope"), true); code != 400 || !strings.Contains(string(raw), "does not open") {
		t.Fatalf("POST /records with garbage: %d %s", code, raw)
	}
	var pub Published
	code, raw := c.postEnvelope(gsg.Envelope(), true)
	if json.Unmarshal(raw, &pub); code != 200 || pub.Publisher != org || pub.Seq != 1 {
		t.Fatalf("POST /records with the genesis: %d %s", code, raw)
	}
	var orgs []OrgSummary
	c.ok("GET", "/api/v1/orgs", "", false, &orgs)
	if len(orgs) != 1 || orgs[0].ID != org || orgs[0].Name != "City of Tests" || orgs[0].Ops != 1 {
		t.Fatalf("GET /orgs: %+v", orgs)
	}

	// Publish for it, and move the plain practice into it.
	c.fail("PUT", "/api/v1/org", `{"org":"`+n.ID().String()+`"}`, true, 400)
	var set OrgSetting
	c.ok("PUT", "/api/v1/org", `{"org":"`+org+`"}`, true, &set)
	var st Status
	c.ok("GET", "/api/v1/status", "", false, &st)
	if st.Org != org || st.Organisation != "City of Tests" || st.OrgName != "City of Tests" || st.OrgKey != "delegated" || len(st.OrgMay) == 0 || st.Trust != "open" {
		t.Fatalf("status after PUT /org: %+v", st)
	}
	var ad Adopted
	c.ok("POST", "/api/v1/org/adopt", "", true, &ad)
	if ad.Moved != 1 || ad.Org != org {
		t.Fatalf("adopt: %+v", ad)
	}
	var rec Record
	c.ok("GET", "/api/v1/practices/"+org+"/"+plain.Slot(), "", false, &rec)
	if rec.Signer != n.ID().String() || rec.Organisation != "City of Tests" || rec.Seq <= plain.Announcement().Seq || !rec.SignatureVerified {
		t.Fatalf("the adopted practice: %+v", rec.Listing)
	}
	c.ok("GET", "/api/v1/practices/"+n.ID().String()+"/"+plain.Slot(), "", false, &rec)
	if rec.Kind != protocol.KindRetract || rec.Retraction.Reason != "moved to "+org {
		t.Fatalf("the plain copy: %+v %+v", rec.Listing, rec.Retraction)
	}
	var page PracticeList
	c.ok("GET", "/api/v1/practices?mine=1", "", false, &page)
	if len(page.Practices) != 1 || page.Practices[0].Publisher != org || page.Practices[0].Organisation != "City of Tests" {
		t.Fatalf("mine=1 after adopt: %+v", page.Practices)
	}

	// A delegation signed by rotation key 1; a forged one refused.
	var o Organisation
	c.ok("GET", "/api/v1/orgs/"+org, "", false, &o)
	if o.Adopts != n.ID().String() || len(o.Keys) != 2 || o.HeadSeq != 1 || len(o.Delegations) != 1 || o.Delegations[0].MaxSeq != plain.Announcement().Seq+1 {
		t.Fatalf("GET /orgs/{org}: %+v", o)
	}
	head, err := protocol.Open(o.HeadEnvelope)
	if err != nil {
		t.Fatal(err)
	}
	delegate := func() *protocol.Announcement {
		del, err := protocol.Delegate(head, o.MaxSeq+1, now, protocol.Delegation{Key: staffID, May: []protocol.Kind{protocol.KindMembers}})
		if err != nil {
			t.Fatal(err)
		}
		return del
	}
	if code, raw := c.postEnvelope(seal(t, delegate(), staff).Envelope(), true); code != 403 {
		t.Fatalf("an operation signed by a delegate key: %d %s", code, raw)
	}
	del := delegate()
	if code, raw := c.postEnvelope(seal(t, del, k1).Envelope(), true); code != 200 {
		t.Fatalf("a delegation signed by rotation key 1: %d %s", code, raw)
	}
	c.ok("GET", "/api/v1/orgs/"+org, "", false, &o)
	if len(o.Delegations) != 2 || o.HeadSeq != del.Seq || !slices.ContainsFunc(o.Delegations, func(d Delegation) bool { return d.Key == staffID.String() }) {
		t.Fatalf("after the delegation: %+v", o)
	}

	// Membership lists: by the node, and by the staff key.
	other := testKeyID(t, 55)
	var lp Published
	c.ok("POST", "/api/v1/members", `{"list":"members","title":"Network","members":[{"id":"`+other+`","name":"Town"},{"id":"`+org+`"}]}`, true, &lp)
	c.fail("POST", "/api/v1/members", `{"list":"Bad Name","title":"x","members":[]}`, true, 400)
	ml := &protocol.Announcement{V: protocol.Version, Publisher: gsg.Announcement().Publisher, Seq: lp.Seq + 1, Time: now,
		Kind: protocol.KindMembers, Auth: protocol.Hash{}, Members: &protocol.MemberList{List: "staff", Title: "Staff list"}}
	c.ok("GET", "/api/v1/orgs/"+org, "", false, &o)
	if ml.Auth, err = protocol.ParseHash(o.Head); err != nil {
		t.Fatal(err)
	}
	if code, raw := c.postEnvelope(seal(t, ml, staff).Envelope(), true); code != 200 {
		t.Fatalf("a list signed by the staff key: %d %s", code, raw)
	}
	c.ok("GET", "/api/v1/orgs/"+org, "", false, &o)
	if len(o.Lists) != 2 || len(o.MemberOf) != 1 || o.MemberOf[0].List != "members" {
		t.Fatalf("lists %+v, member of %+v", o.Lists, o.MemberOf)
	}
}

// TestAPITrust reads and sets the trust policy at run time.
func TestAPITrust(t *testing.T) {
	n := newTestNet(t, 8).add()
	c := newTestClient(t, n)
	other := testKeyID(t, 56)
	publish(t, n, demoSheets(t)[0])
	var tr Trust
	c.ok("GET", "/api/v1/trust", "", false, &tr)
	if tr.Mode != "open" || tr.Follow == nil {
		t.Fatalf("GET /trust: %+v", tr)
	}
	c.fail("PUT", "/api/v1/trust", `{"mode":"lists"}`, true, 400)
	c.fail("PUT", "/api/v1/trust", `{"mode":"sometimes"}`, true, 400)
	c.fail("PUT", "/api/v1/trust", `{"mode":"open","allow":[]}`, false, 401)
	c.ok("PUT", "/api/v1/trust", `{"mode":"allowlist","allow":["`+other+`"]}`, true, &tr)
	if tr.Mode != "allowlist" || !slices.Equal(tr.Allow, []string{other}) || n.Config().Trust.Mode != "allowlist" {
		t.Fatalf("PUT /trust: %+v, node %+v", tr, n.Config().Trust)
	}
	if err := n.SetTrust(n.Config().Trust); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(context.Background(), variant(demoSheets(t), 1)); err != nil {
		t.Fatalf("the node's own publication under allowlist: %v", err)
	}
}
