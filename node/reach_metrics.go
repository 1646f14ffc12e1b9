package node

import "github.com/prometheus/client_golang/prometheus"

// reachCollector exposes ReachStatus, read at each scrape: reachability,
// NAT type, relay reservations and service, connections by kind, hole
// punches and the DHT.
type reachCollector struct {
	n                                         *Node
	reachability, nat, reservations, relaying *prometheus.Desc
	conns, punches, punchAttempts             *prometheus.Desc
	dhtMode, dhtTable, dhtLookups, dhtFound   *prometheus.Desc
	dhtProviders                              *prometheus.Desc
}

func newReachCollector(n *Node) *reachCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &reachCollector{
		n: n,
		reachability: d("khantara_reachability",
			"1 for the node's reachability (public, private or unknown: AutoNAT's verdict or the configured one), 0 for the others.", "state"),
		nat: d("khantara_nat_type",
			"1 for the NAT's mapping type per transport (endpoint-independent, endpoint-dependent, unknown), from identify's observed addresses.", "transport", "type"),
		reservations:  d("khantara_relay_reservations", "Relays this node holds a reservation with (its relay addresses are announced)."),
		relaying:      d("khantara_relay_service_active", "1 while this node offers the circuit relay v2 service."),
		conns:         d("khantara_connections", "Open connections by kind: direct or relayed (through a circuit relay).", "kind"),
		punches:       d("khantara_holepunch_total", "Hole punches (DCUtR) that ended, by result: success or failure.", "result"),
		punchAttempts: d("khantara_holepunch_attempts_total", "Hole punches (DCUtR) started."),
		dhtMode:       d("khantara_dht_mode", "1 for the mode the DHT runs in now (server, client, off), 0 for the others.", "mode"),
		dhtTable:      d("khantara_dht_routing_table_size", "Peers in the DHT's routing table."),
		dhtLookups:    d("khantara_dht_lookups_total", "Peer lookups by ID in the DHT, after a dial of a known peer failed."),
		dhtFound:      d("khantara_dht_lookups_found_total", "Peer lookups by ID that found addresses."),
		dhtProviders:  d("khantara_dht_rendezvous_members", "Other members the last rendezvous lookup found."),
	}
}

// Describe sends every descriptor the collector may emit.
func (c *reachCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.reachability, c.nat, c.reservations, c.relaying, c.conns, c.punches,
		c.punchAttempts, c.dhtMode, c.dhtTable, c.dhtLookups, c.dhtFound, c.dhtProviders} {
		ch <- d
	}
}

// Collect reads the node's ReachStatus.
func (c *reachCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.ReachStatus()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	one := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, s := range []string{ReachPublic, ReachPrivate, "unknown"} {
		gauge(c.reachability, one(st.Reachability == s), s)
	}
	for _, t := range []struct{ transport, typ string }{{"tcp", st.NATTCP}, {"udp", st.NATUDP}} {
		for _, s := range []string{"endpoint-independent", "endpoint-dependent", "unknown"} {
			gauge(c.nat, one(t.typ == s), t.transport, s)
		}
	}
	gauge(c.reservations, float64(len(st.Reservations)))
	gauge(c.relaying, one(st.Relaying))
	gauge(c.conns, float64(st.Direct), "direct")
	gauge(c.conns, float64(st.Relayed), "relayed")
	counter(c.punches, st.HolePunches.Successes, "success")
	counter(c.punches, st.HolePunches.Failures, "failure")
	counter(c.punchAttempts, st.HolePunches.Attempts)
	for _, m := range []string{DHTServer, DHTClient, ModeOff} {
		gauge(c.dhtMode, one(st.DHT.Mode == m), m)
	}
	gauge(c.dhtTable, float64(st.DHT.RoutingTable))
	counter(c.dhtLookups, st.DHT.Lookups)
	counter(c.dhtFound, st.DHT.Found)
	gauge(c.dhtProviders, float64(st.DHT.Providers))
}
