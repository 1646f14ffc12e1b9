package api

import (
	"encoding/hex"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/protocol"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Two nodes publish, one retracts, both set profiles, then they sync: the
// listing, record, profile, peers, status and metrics routes of one of
// them must show all of it.
func TestAPIFederatedCatalogue(t *testing.T) {
	tn := newTestNet(t, 3)
	a, b := tn.add(), tn.add()
	ca, cb := newTestClient(t, a), newTestClient(t, b)
	sheets := demoSheets(t)
	for _, s := range sheets[:3] {
		publish(t, a, s)
	}
	shared := sheets[0].ID // published by both
	publish(t, b, sheets[0])
	publish(t, b, sheets[3])
	var pub Published
	ca.ok("POST", "/api/v1/practices/"+sheets[1].ID+"/retract", `{"reason": "ended in 2020"}`, true, &pub)
	if pub.ID != sheets[1].ID || pub.Seq != 4 || pub.Publisher != a.ID().String() || len(pub.Hash) != 64 || pub.DryRun {
		t.Fatalf("retract answered %+v", pub)
	}
	ca.ok("PUT", "/api/v1/profile", testProfile, true, &pub)
	if pub.ID != protocol.ProfileSlot || pub.Seq != 5 {
		t.Fatalf("profile answered %+v", pub)
	}
	cb.ok("PUT", "/api/v1/profile", `{"name": "Comune di Milano", "country": "IT", "level": "municipality"}`, true, &pub)

	tn.connect(a, b)
	tn.eventually(20*time.Second, "a and b converge", func() bool { return converged(t, tn.nodes) })
	tn.eventually(10*time.Second, "a records its sync with b", func() bool {
		ss := a.SyncStatus()
		return len(ss) == 1 && ss[0].Peer == b.ID() && ss[0].Err == ""
	})

	t.Run("list", func(t *testing.T) {
		var all PracticeList
		ca.ok("GET", "/api/v1/practices?limit=1000", "", false, &all)
		if len(all.Practices) != 4 || all.Next != "" {
			t.Fatalf("full listing %v, next %q; want 4 practices and no next", ids(all.Practices), all.Next)
		}
		for _, p := range all.Practices {
			if p.Kind != protocol.KindPractice || p.Title == "" || p.Country == "" || p.Organiser == "" || p.Time.IsZero() || p.ReceivedAt.IsZero() {
				t.Errorf("listed %+v", p)
			}
			if (p.From == "") != (p.Publisher == a.ID().String()) {
				t.Errorf("from %q for a practice of %s", p.From, p.Publisher)
			}
		}
		if walked := ca.walk("/api/v1/practices?"); !slices.Equal(ids(walked), ids(all.Practices)) {
			t.Errorf("walking pages of 1 gave %v, want %v", ids(walked), ids(all.Practices))
		}
		withRetracted := ca.walk("/api/v1/practices?retracted=1")
		if len(withRetracted) != 5 {
			t.Errorf("with retracted: %v, want 5", ids(withRetracted))
		}
		var page PracticeList
		ca.ok("GET", "/api/v1/practices?limit=4", "", false, &page)
		if len(page.Practices) != 4 || page.Next != "" {
			t.Errorf("a page holding exactly the rest has next %q", page.Next)
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string // publisher (a or b) and ID of each result, in order
		}{
			{"mine=1", []string{"a/" + sheets[0].ID, "a/" + sheets[2].ID}},
			{"mine=1&retracted=1", []string{"a/" + sheets[0].ID, "a/" + sheets[1].ID, "a/" + sheets[2].ID}},
			{"publisher=" + b.ID().String(), []string{"b/" + sheets[0].ID, "b/" + sheets[3].ID}},
			{"mine=1&publisher=" + a.ID().String(), []string{"a/" + sheets[0].ID, "a/" + sheets[2].ID}},
			{"id=" + shared, sortedByPublisher(a, b, "a/"+shared, "b/"+shared)},
			{"id=" + shared + "&publisher=" + b.ID().String(), []string{"b/" + shared}},
			{"id=" + sheets[1].ID, nil},
			{"id=" + sheets[1].ID + "&retracted=1", []string{"a/" + sheets[1].ID}},
			{"id=" + protocol.ProfileSlot + "&retracted=1", nil},
			{"id=nothing-here", nil},
		}
		name := map[string]string{a.ID().String(): "a", b.ID().String(): "b"}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				var page PracticeList
				ca.ok("GET", "/api/v1/practices?"+tc.query, "", false, &page)
				var got []string
				for _, p := range page.Practices {
					got = append(got, name[p.Publisher]+"/"+p.ID)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				if len(tc.want) > 1 {
					if walked := ca.walk("/api/v1/practices?" + tc.query); len(walked) != len(tc.want) {
						t.Errorf("walking pages of 1 gave %v", ids(walked))
					}
				}
			})
		}
		// A cursor only resumes the listing it came from.
		var page PracticeList
		ca.ok("GET", "/api/v1/practices?mine=1&limit=1", "", false, &page)
		ca.fail("GET", "/api/v1/practices?publisher="+b.ID().String()+"&after="+page.Next, "", false, 400)
		ca.fail("GET", "/api/v1/practices?id="+shared+"&after="+cursorOf(a.ID().String(), sheets[2].ID), "", false, 400)
	})

	t.Run("record", func(t *testing.T) {
		var rec Record
		ca.ok("GET", "/api/v1/practices/"+b.ID().String()+"/"+sheets[3].ID, "", false, &rec)
		if !rec.SignatureVerified || rec.Practice == nil || rec.Practice.ID != sheets[3].ID || rec.Retraction != nil ||
			rec.From != b.ID().String() || rec.Kind != protocol.KindPractice || rec.Seq != 2 {
			t.Errorf("record %+v", rec)
		}
		if rec.Profile == nil || rec.Profile.Name != "Comune di Milano" {
			t.Errorf("record's profile %+v, want b's", rec.Profile)
		}
		// The envelope is the signed original: it verifies on its own.
		s, err := protocol.Open(rec.Envelope)
		if err != nil || s.Hash().String() != rec.Hash || s.Announcement().Publisher != b.ID() {
			t.Errorf("envelope does not verify as %s: %v", rec.Hash, err)
		}

		var gone Record
		ca.ok("GET", "/api/v1/practices/"+a.ID().String()+"/"+sheets[1].ID, "", false, &gone)
		if !gone.SignatureVerified || gone.Kind != protocol.KindRetract || gone.Practice != nil || gone.Title != "" ||
			gone.Retraction == nil || gone.Retraction.Reason != "ended in 2020" || gone.Profile == nil || gone.Profile.Name != "Ville de Roubaix" {
			t.Errorf("retracted record %+v", gone)
		}
		ca.fail("GET", "/api/v1/practices/"+b.ID().String()+"/"+sheets[1].ID, "", false, 404)
	})

	t.Run("profile", func(t *testing.T) {
		var own, other Profile
		ca.ok("GET", "/api/v1/profile", "", false, &own)
		if own.Publisher != a.ID().String() || own.Seq != 5 || own.Profile.Name != "Ville de Roubaix" || own.Profile.Level != "municipality" {
			t.Errorf("own profile %+v", own)
		}
		ca.ok("GET", "/api/v1/profile?publisher="+b.ID().String(), "", false, &other)
		if other.Publisher != b.ID().String() || other.Profile.Name != "Comune di Milano" {
			t.Errorf("b's profile %+v", other)
		}
	})

	t.Run("peers", func(t *testing.T) {
		var peers []Peer
		ca.ok("GET", "/api/v1/peers", "", false, &peers)
		if len(peers) != 1 {
			t.Fatalf("peers %+v, want b alone", peers)
		}
		p := peers[0]
		if p.ID != b.ID().String() || p.Organisation != "Comune di Milano" || p.Direction != "outbound" || len(p.Addrs) == 0 {
			t.Errorf("peer %+v", p)
		}
		if p.LastSync == nil || p.LastSync.Peer != p.ID || p.LastSync.At.IsZero() || p.LastSync.Error != "" || p.LastSync.BytesSent == 0 {
			t.Errorf("peer's last sync %+v", p.LastSync)
		}
		var fromB []Peer
		cb.ok("GET", "/api/v1/peers", "", false, &fromB)
		if len(fromB) != 1 || fromB[0].ID != a.ID().String() || fromB[0].Direction != "inbound" || fromB[0].Organisation != "Ville de Roubaix" {
			t.Errorf("b's peers %+v", fromB)
		}
	})

	t.Run("status", func(t *testing.T) {
		var st Status
		ca.ok("GET", "/api/v1/status", "", false, &st)
		want := Status{PeerID: a.ID().String(), Network: a.Config().Network, Organisation: "Ville de Roubaix", Trust: "open", Peers: 1,
			Practices: 4, Retracted: 1, Profiles: 2, Publishers: 2}
		got := st
		got.Addrs, got.Digest, got.StartedAt, got.Gossip, got.Syncs = nil, "", time.Time{}, Gossip{}, nil
		got.Disk, got.Index, got.Reach = nil, nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("status %+v, want %+v", got, want)
		}
		if r := st.Reach; r == nil || r.Reachability != "unknown" || r.Connections != (Connections{Direct: 1}) ||
			r.RelayService != "auto" || !r.HolePunching || r.Reservations == nil || r.DHT.Configured != a.Config().DHT {
			t.Errorf("status reach %+v, want unknown reachability (mocknet runs no AutoNAT), 1 direct connection, the defaults", r)
		}
		if st.Disk == nil || st.Disk.WritesPaused || st.Disk.FreeBytes == 0 {
			t.Errorf("status disk %+v, want free space and no pause", st.Disk)
		}
		if st.StartedAt.IsZero() || st.StartedAt.After(time.Now()) || time.Since(st.StartedAt) > time.Minute {
			t.Errorf("started_at %v", st.StartedAt)
		}
		fp := digest(t, b).Fingerprint()
		if st.Digest != hex.EncodeToString(fp[:]) {
			t.Errorf("digest %s differs from b's after convergence", st.Digest)
		}
		if st.Gossip.Rejected == nil || st.Gossip.Ignored == nil {
			t.Errorf("gossip %+v: the maps must be objects, never null", st.Gossip)
		}
		if len(st.Syncs) != 1 || st.Syncs[0].Peer != b.ID().String() || st.Syncs[0].Applied == 0 {
			t.Errorf("syncs %+v", st.Syncs)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := ca.srv.Client().Get(ca.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatalf("metrics do not parse: %v", err)
		}
		value := func(name string, labels ...string) (float64, bool) {
			f := fams[name]
			if f == nil {
				return 0, false
			}
		next:
			for _, m := range f.GetMetric() {
				for i := 0; i < len(labels); i += 2 {
					if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
						return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
					}) {
						continue next
					}
				}
				switch {
				case m.Gauge != nil:
					return m.GetGauge().GetValue(), true
				case m.Counter != nil:
					return m.GetCounter().GetValue(), true
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount()), true
				}
			}
			return 0, false
		}
		st := a.Stats()
		exact := []struct {
			name   string
			labels []string
			want   float64
		}{
			{"khantara_peers", nil, 1},
			{"khantara_catalogue_records", []string{"kind", "practice"}, 4},
			{"khantara_catalogue_records", []string{"kind", "retracted"}, 1},
			{"khantara_catalogue_records", []string{"kind", "profile"}, 2},
			{"khantara_publishers", nil, 2},
			{"khantara_equivocations", nil, 0},
			{"khantara_gossip_messages_total", []string{"verdict", "rejected", "reason", node.ReasonBadSignature}, 0},
			{"khantara_gossip_messages_total", []string{"verdict", "ignored", "reason", node.ReasonDuplicate}, float64(st.Ignored[node.ReasonDuplicate])},
			{"khantara_sync_failures_total", nil, float64(st.SyncFailures)},
			{"khantara_connections", []string{"kind", "direct"}, 1},
			{"khantara_connections", []string{"kind", "relayed"}, 0},
			{"khantara_relay_reservations", nil, 0},
			{"khantara_relay_service_active", nil, 0},
			{"khantara_holepunch_total", []string{"result", "success"}, 0},
			{"khantara_reachability", []string{"state", "unknown"}, 1}, // mocknet: no AutoNAT
			{"khantara_nat_type", []string{"transport", "tcp", "type", "unknown"}, 1},
		}
		for _, m := range exact {
			if got, ok := value(m.name, m.labels...); !ok || got != m.want {
				t.Errorf("%s%v = %v (present %v), want %v", m.name, m.labels, got, ok, m.want)
			}
		}
		atLeast := []struct {
			name   string
			labels []string
			min    float64
		}{
			{"khantara_gossip_messages_total", []string{"verdict", "accepted"}, 0},
			{"khantara_sync_rounds_total", nil, 1},
			{"khantara_sync_bytes_total", []string{"direction", "sent"}, 1},
			{"khantara_sync_bytes_total", []string{"direction", "received"}, 1},
			{"khantara_announcements_applied_total", nil, 3}, // b's 2 practices and profile
			{"khantara_start_time_seconds", nil, 1.7e9},
			{"khantara_api_request_duration_seconds", []string{"route", "GET /api/v1/practices", "method", "GET", "code", "200"}, 10},
			{"khantara_api_request_duration_seconds", []string{"route", "GET /api/v1/practices/{publisher}/{id}", "code", "404"}, 1},
			{"khantara_api_request_duration_seconds", []string{"route", "POST /api/v1/practices/{id}/retract", "method", "POST", "code", "200"}, 1},
			{"khantara_dht_routing_table_size", nil, 0},
			{"go_goroutines", nil, 1},
			{"process_start_time_seconds", nil, 1},
		}
		for _, m := range atLeast {
			if got, ok := value(m.name, m.labels...); !ok || got < m.min {
				t.Errorf("%s%v = %v (present %v), want at least %v", m.name, m.labels, got, ok, m.min)
			}
		}
		// Routes label patterns, never raw paths.
		for _, m := range fams["khantara_api_request_duration_seconds"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && strings.Contains(l.GetValue(), a.ID().String()) {
					t.Errorf("route label %q holds a raw path", l.GetValue())
				}
			}
		}
	})
}

// sortedByPublisher orders "a/..." and "b/..." as the API lists a's and
// b's records: by publisher.
func sortedByPublisher(a, b *node.Node, forA, forB string) []string {
	if protocol.ComparePublishers(a.ID(), b.ID()) < 0 {
		return []string{forA, forB}
	}
	return []string{forB, forA}
}
