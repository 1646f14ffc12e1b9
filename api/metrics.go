package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/khantara/khantara/node"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// unmatchedRoute labels API requests that matched no route, or were
// refused before routing (Host and Origin checks), so that arbitrary paths
// cannot grow the latency histogram's label set.
const unmatchedRoute = "unmatched"

// latencyBuckets suit a local API whose answers take well under a second,
// listings of a thousand records included.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// metrics is the registry behind GET /metrics for one API handler: the
// node's collectors (node.Collectors: counters and catalogue sizes, read at
// scrape time), the Go runtime and process collectors, and the API's own
// latency histogram. Each handler has its own registry, never the global
// one, because several nodes may run in one process.
type metrics struct {
	reg     *prometheus.Registry
	latency *prometheus.HistogramVec
}

func newMetrics(n *node.Node) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "khantara_api_request_duration_seconds",
			Help:    "Time taken to answer local API requests, by route pattern, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "code"}),
	}
	m.reg.MustRegister(n.Collectors()...)
	m.reg.MustRegister(
		m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the registry in the Prometheus exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// instrument records the duration of every request next answers. The
// route label is the pattern the ServeMux matched (r.Pattern, which the mux
// sets on the request it is given) when it is one of routes, else
// unmatchedRoute.
func (m *metrics) instrument(routes map[string]bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if !routes[route] {
			route = unmatchedRoute
		}
		m.latency.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
