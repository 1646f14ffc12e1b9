package api

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khantara/khantara/export"
	"github.com/khantara/khantara/node"
	"github.com/khantara/khantara/oai"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
)

// exportPage is how many hits an export reads from the index at a time.
const exportPage = 1000

// exportFormats maps export's format= values to their content types and
// file names' endings; exportFormatList lists them for messages.
var (
	exportFormats = map[string][2]string{
		"csv":             {"text/csv; charset=utf-8", ".csv"},
		"jsonl":           {"application/x-ndjson", ".jsonl"},
		"dcat":            {"application/ld+json", ".jsonld"},
		"adaptations-csv": {"text/csv; charset=utf-8", "-adaptations.csv"},
		"graphml":         {"application/graphml+xml", "-adaptations.graphml"},
	}
	exportFormatList = "csv, jsonl, dcat, adaptations-csv, graphml"
)

// exportKinds are the values of export's kind=, which only format=jsonl
// takes: practices (the default), experience records, or both.
var exportKinds = []string{"practice", "experience", "all"}

// index returns the search index, answering 503 itself when it is off.
func (a *apiHandler) index(w http.ResponseWriter) *search.Index {
	ix := a.n.Search()
	if ix == nil {
		fail(w, http.StatusServiceUnavailable, "search is turned off on this node")
	}
	return ix
}

// query parses the search parameters of r, answering 400 itself when they
// are wrong.
func (a *apiHandler) query(w http.ResponseWriter, r *http.Request, extra ...string) (search.Query, bool) {
	v, err := strictQuery(r.URL.RawQuery, extra...)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return search.Query{}, false
	}
	q, err := search.ParseQuery(v, extra...)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return q, false
	}
	return q, true
}

// indexRetryAfter is the Retry-After, in seconds, of a 503 while the
// index is not ready: short, since catching up usually takes seconds and
// a rebuild reports progress on every answer.
const indexRetryAfter = 2

// searchFailed answers an error of the index.
func (a *apiHandler) searchFailed(w http.ResponseWriter, what string, err error) {
	var nr *search.NotReadyError
	switch {
	case errors.As(err, &nr):
		w.Header().Set("Retry-After", strconv.Itoa(indexRetryAfter))
		writeJSON(w, http.StatusServiceUnavailable, Error{
			Error: fmt.Sprintf("%s; try again in a few seconds", nr.Error()),
			Index: &nr.Status,
		})
	case errors.Is(err, search.ErrBadQuery):
		fail(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, context.Canceled):
		fail(w, http.StatusServiceUnavailable, "%s was cancelled", what)
	default:
		a.internal(w, what, err)
	}
}

func (a *apiHandler) search(w http.ResponseWriter, r *http.Request) {
	q, ok := a.query(w, r)
	if !ok {
		return
	}
	ix := a.index(w)
	if ix == nil {
		return
	}
	res, err := ix.Search(r.Context(), q)
	if err != nil {
		a.searchFailed(w, "search", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *apiHandler) stats(w http.ResponseWriter, r *http.Request) {
	q, ok := a.query(w, r, "by")
	if !ok {
		return
	}
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "country"
	}
	ix := a.index(w)
	if ix == nil {
		return
	}
	st, err := ix.Stats(r.Context(), q, by)
	if err != nil {
		a.searchFailed(w, "statistics", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *apiHandler) reindex(w http.ResponseWriter, r *http.Request) {
	ix := a.index(w)
	if ix == nil {
		return
	}
	start := time.Now()
	n, err := ix.Rebuild(r.Context())
	if err != nil {
		a.searchFailed(w, "reindex", err)
		return
	}
	writeJSON(w, http.StatusOK, Reindexed{Indexed: n, Seconds: time.Since(start).Seconds()})
}

// filtered reports whether q selects less than the whole catalogue.
func filtered(q search.Query) bool {
	q.Sort, q.Offset, q.Limit = "", 0, 0
	return !reflect.DeepEqual(q, search.Query{})
}

func (a *apiHandler) export(w http.ResponseWriter, r *http.Request) {
	q, ok := a.query(w, r, "format", "kind")
	if !ok {
		return
	}
	format, kind := r.URL.Query().Get("format"), r.URL.Query().Get("kind")
	ftype, known := exportFormats[format]
	switch {
	case !known:
		fail(w, http.StatusBadRequest, "format: %s is not one of %s", quoteShort(format), exportFormatList)
		return
	case kind != "" && format != "jsonl":
		fail(w, http.StatusBadRequest, "kind: only format=jsonl takes it (csv and dcat hold practices, adaptations-csv and graphml adaptations)")
		return
	case kind != "" && !slices.Contains(exportKinds, kind):
		fail(w, http.StatusBadRequest, "kind: %s is not one of %s", quoteShort(kind), strings.Join(exportKinds, ", "))
		return
	}
	recs, ok := a.exportSource(w, r, q, format, kind)
	if !ok {
		return
	}

	st := a.n.Store()
	opts := export.Options{Profiles: export.StoreProfiles(st), Chains: a.n.Chain, Practices: st.Get}
	w.Header().Set("Content-Type", ftype[0])
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="khantara-%s%s"`, a.n.Now().UTC().Format("20060102"), ftype[1]))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	var err error
	switch format {
	case "csv":
		_, err = export.CSV(w, recs, opts)
	case "jsonl":
		_, err = export.JSONL(w, recs, opts)
	case "dcat":
		_, err = export.DCAT(w, recs, export.Catalog{
			NodeID: a.n.ID(), APIURL: "http://" + r.Host, Issued: a.n.Now().UTC(), Profiles: opts.Profiles, Chains: opts.Chains,
		})
	case "adaptations-csv":
		_, err = export.AdaptationsCSV(w, recs, opts)
	case "graphml":
		_, err = export.GraphML(w, recs, opts)
	}
	if err != nil {
		// The status line is gone: cut the response short so the client
		// sees a broken transfer rather than a complete-looking file.
		a.n.Logger().Warn("Export failed midway.", "format", format, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// exportSource returns the records an export of format (and, for jsonl,
// kind) reads, answering itself when it cannot. The whole catalogue
// comes straight from the store; a query needs the index, and selects
// practices: the experience records exported with it are those about
// the practices it matches.
func (a *apiHandler) exportSource(w http.ResponseWriter, r *http.Request, q search.Query, format, kind string) (export.Source, bool) {
	st := a.n.Store()
	experiences := format == "adaptations-csv" || format == "graphml" || kind == "experience"
	if !filtered(q) {
		switch {
		case experiences:
			return export.StoreExperiences(st), true
		case kind == "all":
			return export.StoreRecords(st), true
		}
		return export.StorePractices(st), true
	}
	ix := a.index(w)
	if ix == nil {
		return nil, false
	}
	// Check the query before the first byte goes out.
	first := q
	first.Offset, first.Limit = 0, 1
	if _, err := ix.Search(r.Context(), first); err != nil {
		a.searchFailed(w, "export", err)
		return nil, false
	}
	practices := a.matching(r.Context(), ix, q)
	switch {
	case experiences:
		return export.ExperiencesAbout(st, practices, false), true
	case kind == "all":
		return export.ExperiencesAbout(st, practices, true), true
	}
	return practices, true
}

// matching yields the current record of every practice q matches, in the
// index's order, reading the index a page at a time.
func (a *apiHandler) matching(ctx context.Context, ix *search.Index, q search.Query) iter.Seq2[*store.Record, error] {
	return func(yield func(*store.Record, error) bool) {
		q.Offset, q.Limit = 0, exportPage
		for {
			res, err := ix.Search(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, h := range res.Hits {
				pub, err := protocol.DecodeID(h.Publisher)
				if err != nil {
					yield(nil, fmt.Errorf("index holds a bad publisher %q: %w", h.Publisher, err))
					return
				}
				rec, err := a.n.Store().Get(pub, h.ID)
				if errors.Is(err, store.ErrNotFound) {
					continue // retracted or gone since the search
				}
				if err != nil || !yield(rec, nil) {
					if err != nil {
						yield(nil, err)
					}
					return
				}
			}
			if len(res.Hits) < q.Limit || q.Offset+len(res.Hits) >= res.Total {
				return
			}
			q.Offset += len(res.Hits)
		}
	}
}

// oaiHandler is the OAI-PMH data provider over n's store, made once per
// API handler so its cached earliest datestamp lasts. Its base URL is each
// request's own (http://<Host>/oai).
func oaiHandler(n *node.Node) http.Handler {
	return oai.NewHandler(n.Store(), oai.Config{
		RepositoryName: "Khantara node " + n.ID().String(),
		NodeID:         n.ID().String(),
		Now:            n.Now,
		Logger:         n.Logger(),
		Chains:         n.Chain,
	})
}
