package node

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// The node's own Prometheus metrics, read at each scrape (Collectors). The
// API's latency histogram and the process collectors belong to package api.

// ignoreReasons are the reasons the topic validator ignores a message for
// (see Node.validate).
var ignoreReasons = []string{ReasonPolicy, ReasonFuture, ReasonDuplicate, ReasonStale, ReasonNoSpace,
	ReasonQuota, ReasonPending, ReasonRevoked, ReasonChainMissing}

// orgRejects are the reasons the validator rejects a message for besides
// rejectReasons': the topic and the organisation's chain.
var orgRejects = []string{ReasonWrongTopic, ReasonUnauthorised}

// nodeCollector exposes a node's state, read at each scrape: connected
// peers, the gossip validator's verdicts, sync totals and catalogue sizes.
type nodeCollector struct {
	n *Node

	peers, gossip, applied                      *prometheus.Desc
	syncRounds, syncFailures, syncBytes         *prometheus.Desc
	syncAdmission, syncInbound                  *prometheus.Desc
	records, publishers, equivocations, started *prometheus.Desc
	pending                                     *prometheus.Desc
}

func newNodeCollector(n *Node) *nodeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &nodeCollector{
		n:     n,
		peers: d("khantara_peers", "Number of connected peers."),
		gossip: d("khantara_gossip_messages_total",
			"Gossip messages judged by the topic validator or dropped by pubsub before it (tracer.go), by verdict (accepted, rejected, ignored) and, for rejected and ignored ones, reason.",
			"verdict", "reason"),
		applied:      d("khantara_announcements_applied_total", "Announcements received from peers, by gossip or sync, that changed the catalogue."),
		syncRounds:   d("khantara_sync_rounds_total", "Sync sessions completed, as initiator or responder."),
		syncFailures: d("khantara_sync_failures_total", "Sync sessions that failed."),
		syncBytes:    d("khantara_sync_bytes_total", "Sync frame bytes, by direction (sent, received).", "direction"),
		syncAdmission: d("khantara_sync_admission_total",
			"Inbound sync sessions refused, evicted or cut for a deadline by admission, by action (refused, evicted, timed_out) and reason.",
			"action", "reason"),
		syncInbound: d("khantara_sync_inbound_sessions", "Inbound sync sessions being served, by admission class.", "class"),
		records: d("khantara_catalogue_records",
			"Catalogue slots by kind: current practices, retracted practices, publishers' profiles.", "kind"),
		publishers:    d("khantara_publishers", "Publishers with at least one announcement in the catalogue."),
		equivocations: d("khantara_equivocations", "Recorded equivocations: sequence numbers at which a publisher signed two different announcements."),
		started:       d("khantara_start_time_seconds", "When the node started, in seconds since the Unix epoch."),
		pending:       d("khantara_pending_records", "Records of organisations held in memory until their chain can judge them."),
	}
}

// Describe sends every descriptor the collector may emit.
func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.peers, c.gossip, c.applied, c.syncRounds, c.syncFailures, c.syncBytes, c.syncAdmission, c.syncInbound,
		c.records, c.publishers, c.equivocations, c.started, c.pending,
	} {
		ch <- d
	}
}

// Collect reads the node's counters and the store's totals. A store that
// cannot be read yields invalid metrics for the catalogue, so the scrape
// reports the error and still carries the rest.
func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(c.peers, float64(len(c.n.host.Network().Peers())))
	gauge(c.started, float64(c.n.started.UnixNano())/1e9)
	gauge(c.pending, float64(c.n.pending.size()))

	st := c.n.Stats()
	counter(c.gossip, st.Accepted, "accepted", "")
	// Every reason the validator can give starts at zero, so rates work
	// from the first scrape; any other reason counted appears as well.
	rejected, ignored := map[string]uint64{}, map[string]uint64{}
	for _, r := range rejectReasons {
		rejected[r.reason] = 0
	}
	for _, r := range ignoreReasons {
		ignored[r] = 0
	}
	for _, r := range orgRejects {
		rejected[r] = 0
	}
	for _, r := range tracerRejects {
		rejected[r] = 0
	}
	for _, r := range tracerIgnores {
		ignored[r] = 0
	}
	maps.Copy(rejected, st.Rejected)
	maps.Copy(ignored, st.Ignored)
	for _, reason := range slices.Sorted(maps.Keys(rejected)) {
		counter(c.gossip, rejected[reason], "rejected", reason)
	}
	for _, reason := range slices.Sorted(maps.Keys(ignored)) {
		counter(c.gossip, ignored[reason], "ignored", reason)
	}
	counter(c.applied, st.Applied)
	counter(c.syncRounds, st.SyncRounds)
	counter(c.syncFailures, st.SyncFailures)
	counter(c.syncBytes, st.SyncBytesSent, "sent")
	counter(c.syncBytes, st.SyncBytesReceived, "received")
	adm := c.n.sched.adm
	for o := range numOutcomes {
		counter(c.syncAdmission, adm.outcomes[o].Load(), outcomeLabels[o][0], outcomeLabels[o][1])
	}
	for class, k := range adm.inboundByClass() {
		gauge(c.syncInbound, float64(k), classNames[class])
	}

	counts, _, err := c.n.store.Counts()
	if err != nil {
		for _, d := range []*prometheus.Desc{c.records, c.publishers, c.equivocations} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	gauge(c.records, float64(counts.Practices), "practice")
	gauge(c.records, float64(counts.Retracted), "retracted")
	gauge(c.records, float64(counts.Profiles), "profile")
	gauge(c.publishers, float64(counts.Publishers))
	gauge(c.equivocations, float64(counts.Equivocations))
}
