package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/api"
)

// orgOf fetches an organisation from d, failing t on error.
func (d *daemon) orgOf(t *testing.T, org string) api.Organisation {
	t.Helper()
	var o api.Organisation
	if err := d.do(http.MethodGet, "/api/v1/orgs/"+org, "", &o); err != nil {
		t.Fatalf("%s: GET org: %v", d.name, err)
	}
	return o
}

// TestOrgEndToEnd drives the organisation commands with two real
// daemons: org init --adopt (keys file outside the home, genesis stored,
// config edited, the node's publications now the organisation's), a
// second node delegated, joined and then revoked, a rotation, membership
// lists, trust follow/unfollow taking effect without a restart, and the
// refusals of bad input with exit code 2.
func TestOrgEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildKhantara(t)
	deadline := time.Now().Add(120 * time.Second)
	tmp := t.TempDir()
	home1, home2 := filepath.Join(tmp, "city"), filepath.Join(tmp, "city-b")
	sheets, _ := filepath.Glob("../../demo/sheets/*.yaml")
	if len(sheets) < 4 {
		t.Fatalf("need demo sheets, found %d", len(sheets))
	}
	expect(t, bin, 0, nil, "init", "--home", home1)
	expect(t, bin, 0, nil, "init", "--home", home2)
	d1 := startDaemon(t, bin, "node1", home1, deadline)
	d2 := startDaemon(t, bin, "node2", home2, deadline, d1.status.Addrs[0])
	h1 := func(args ...string) []string { return append(args, "--home", home1) }
	h2 := func(args ...string) []string { return append(args, "--home", home2) }
	plain := d1.publish(t, sheets[0])

	// Bad input: exit code 2, one line, nothing created.
	keys := filepath.Join(tmp, "rotation-keys.txt")
	_, errOut, code := runBin(t, bin, h1("org", "init", "--name", "X", "--keys-out", filepath.Join(home1, "k.txt"))...)
	if code != 2 || !strings.Contains(errOut, "inside the node's home") {
		t.Fatalf("org init with keys in the home: exit %d, %s", code, errOut)
	}
	oneLine(t, errOut)
	expect(t, bin, 2, []string{"--rotation-keys"}, h1("org", "init", "--name", "X", "--rotation-keys", "9", "--keys-out", keys)...)
	if _, err := os.Stat(keys); err == nil {
		t.Fatal("a refused org init wrote the keys")
	}

	out := expect(t, bin, 0, []string{"Created the organisation", keys}, h1("org", "init", "--name", "City of Testing", "--keys-out", keys, "--adopt")...)
	st, _ := d1.getStatus()
	org := st.Org
	if org == "" || !strings.Contains(out, org) {
		t.Fatalf("after org init the daemon publishes for %q; init printed:\n%s", org, out)
	}
	fi, err := os.Stat(keys)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, mode %v; want 0600", err, fi)
	}
	kt, _ := os.ReadFile(keys)
	if !strings.Contains(string(kt), "organisation "+org) || strings.Count(string(kt), "\nkey ") != 2 {
		t.Fatalf("keys file:\n%s", kt)
	}
	cfgText, _ := os.ReadFile(filepath.Join(home1, "config.yaml"))
	if !strings.Contains(string(cfgText), "org: "+org) || !strings.Contains(string(cfgText), "# Khantara node configuration") {
		t.Fatalf("config.yaml lacks org: %s or lost its comments:\n%s", org, cfgText)
	}
	expect(t, bin, 1, []string{"already"}, h1("org", "init", "--name", "Again", "--keys-out", filepath.Join(tmp, "again.txt"))...)

	// Adopted: the practice is the organisation's, the plain copy retracted.
	o := d1.orgOf(t, org)
	if o.Name != "City of Testing" || len(o.Keys) != 2 || len(o.Delegations) != 1 || o.Delegations[0].Key != d1.status.PeerID || o.Adopts != d1.status.PeerID {
		t.Fatalf("org after init: %+v", o)
	}
	var rec api.Record
	if err := d1.do(http.MethodGet, "/api/v1/practices/"+org+"/"+plain.ID, "", &rec); err != nil || rec.Signer != d1.status.PeerID || rec.Organisation != "City of Testing" || rec.Seq <= plain.Seq {
		t.Fatalf("the adopted practice: %v %+v", err, rec.Listing)
	}
	if err := d1.do(http.MethodGet, "/api/v1/practices/"+plain.Publisher+"/"+plain.ID, "", &rec); err != nil || rec.Kind != "retract" || rec.Retraction.Reason != "moved to "+org {
		t.Fatalf("the plain copy: %v %+v", err, rec)
	}
	expect(t, bin, 0, []string{"Organisation:", "City of Testing", "Signed by:", d1.status.PeerID}, h1("show", org+"/"+plain.ID)...)
	var pub []api.Published
	out = expect(t, bin, 0, nil, h1("publish", "--json", sheets[1])...)
	if err := json.Unmarshal([]byte(out), &pub); err != nil || len(pub) != 1 || pub[0].Publisher != org {
		t.Fatalf("publish after org init: %v\n%s", err, out)
	}
	expect(t, bin, 0, []string{"City of Testing", org, "Rotation key 1", "Delegate", "Formerly"}, h1("org", "show")...)

	// Bad input to the operations: exit code 2.
	notKeys := filepath.Join(tmp, "not-keys.txt")
	os.WriteFile(notKeys, []byte("hello\n"), 0o600)
	expect(t, bin, 2, []string{"not a Khantara key file"}, h1("org", "delegate", "--keys", notKeys, "--may", "practice", d2.status.PeerID)...)
	expect(t, bin, 2, []string{"not the peer ID of a key"}, h1("org", "delegate", "--keys", keys, "--may", "practice", "nonsense")...)
	expect(t, bin, 2, []string{"--rotation-key 7"}, h1("org", "delegate", "--keys", keys, "--rotation-key", "7", "--may", "practice", d2.status.PeerID)...)
	expect(t, bin, 2, []string{"not a kind"}, h1("org", "delegate", "--keys", keys, "--may", "everything", d2.status.PeerID)...)
	staff := filepath.Join(tmp, "staff.txt")
	expect(t, bin, 0, nil, h1("org", "keygen", "--keys-out", staff, org)...)
	expect(t, bin, 2, []string{"not a rotation key"}, h1("org", "delegate", "--keys", staff, "--may", "practice", d2.status.PeerID)...)

	// A second node: delegated, joined, publishing for the organisation.
	expect(t, bin, 0, []string{"delegated"}, h1("org", "delegate", "--keys", keys, "--rotation-key", "1", "--may", "practice,retract", d2.status.PeerID)...)
	waitFor(t, deadline, "node2 to hold the delegation", []*daemon{d1, d2}, func() bool {
		var o api.Organisation
		return d2.do(http.MethodGet, "/api/v1/orgs/"+org, "", &o) == nil && len(o.Delegations) == 2
	})
	expect(t, bin, 0, []string{"publishes for " + org}, h2("org", "join", org)...)
	out = expect(t, bin, 0, nil, h2("publish", "--json", sheets[2])...)
	var pubs2 []api.Published
	if err := json.Unmarshal([]byte(out), &pubs2); err != nil || len(pubs2) != 1 || pubs2[0].Publisher != org {
		t.Fatalf("node2's publication: %v\n%s", err, out)
	}
	pub2 := pubs2[0]
	waitFor(t, deadline, "node1 to hold node2's practice", []*daemon{d1, d2}, func() bool { return d1.has(pub2) })

	// Revoke node2: its earlier practice stays, it cannot publish more.
	out = expect(t, bin, 0, []string{"revoked"}, h1("org", "revoke", "--keys", keys, d2.status.PeerID)...)
	o = d1.orgOf(t, org)
	if len(o.Revocations) != 1 || o.Revocations[0].Key != d2.status.PeerID || o.Revocations[0].Through != pub2.Seq {
		t.Fatalf("revocations %+v, want node2's through seq %d (%s)", o.Revocations, pub2.Seq, out)
	}
	if !d1.has(pub2) {
		t.Fatal("the revoked key's earlier practice was dropped")
	}
	waitFor(t, deadline, "node2 to hold the revocation", []*daemon{d1, d2}, func() bool {
		var o api.Organisation
		return d2.do(http.MethodGet, "/api/v1/orgs/"+org, "", &o) == nil && len(o.Revocations) == 1
	})
	expect(t, bin, 1, []string{"not delegated"}, h2("publish", sheets[3])...)

	// Rotate: the new keys sign, the old ones no longer do.
	keys2 := filepath.Join(tmp, "rotation-keys-2.txt")
	expect(t, bin, 0, []string{"rotated"}, h1("org", "rotate", "--keys", keys, "--new-keys-out", keys2, "--rotation-keys", "3")...)
	o = d1.orgOf(t, org)
	kt2, _ := os.ReadFile(keys2)
	if len(o.Keys) != 3 || !strings.Contains(string(kt2), o.Keys[0]) || !strings.Contains(string(kt2), o.Keys[2]) {
		t.Fatalf("keys after the rotation %v; the new file:\n%s", o.Keys, kt2)
	}
	expect(t, bin, 2, []string{"not a rotation key"}, h1("org", "revoke", "--keys", keys, d1.status.PeerID)...)
	expect(t, bin, 0, []string{"delegated"}, h1("org", "delegate", "--keys", keys2, "--may", "practice,retract,profile,members", d1.status.PeerID)...)

	// A membership list, followed by node2 without a restart.
	listFile := filepath.Join(tmp, "list.yaml")
	os.WriteFile(listFile, []byte("list: members\ntitle: Test network\nmembers:\n  - id: "+d2.status.PeerID+"\n    name: City B\n"), 0o644)
	expect(t, bin, 0, []string{"published list members"}, h1("org", "members", "publish", "--as-node", listFile)...)
	expect(t, bin, 2, []string{"either --keys"}, h1("org", "members", "publish", listFile)...)
	expect(t, bin, 2, []string{"not an organisation ID"}, h2("trust", "follow", d1.status.PeerID)...)
	expect(t, bin, 0, []string{"trust mode is now lists (was open)", "applies it now"}, h2("trust", "follow", org)...)
	var tr api.Trust
	if err := d2.do(http.MethodGet, "/api/v1/trust", "", &tr); err != nil || tr.Mode != "lists" || !slices.Equal(tr.Follow, []string{org}) {
		t.Fatalf("node2's trust after follow: %v %+v", err, tr)
	}
	cfg2, _ := os.ReadFile(filepath.Join(home2, "config.yaml"))
	if !strings.Contains(string(cfg2), "mode: lists") || !strings.Contains(string(cfg2), "- "+org) || !strings.Contains(string(cfg2), "org: "+org) {
		t.Fatalf("node2's config after follow:\n%s", cfg2)
	}
	waitFor(t, deadline, "node2 to hold the list", []*daemon{d1, d2}, func() bool {
		var tr api.Trust
		return d2.do(http.MethodGet, "/api/v1/trust", "", &tr) == nil && len(tr.Lists) == 1
	})
	expect(t, bin, 0, []string{"Test network", d2.status.PeerID, "City B", "kept"}, h2("trust", "lists")...)
	expect(t, bin, 2, []string{"--mode open"}, h2("trust", "unfollow", org)...)
	expect(t, bin, 0, []string{"no longer follows", "trust mode is now open"}, h2("trust", "unfollow", org, "--mode", "open")...)
	if err := d2.do(http.MethodGet, "/api/v1/trust", "", &tr); err != nil || len(tr.Follow) != 0 || tr.Mode != "open" {
		t.Fatalf("node2's trust after unfollow: %v %+v", err, tr)
	}
}
