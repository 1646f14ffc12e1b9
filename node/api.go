package node

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/khantara/khantara/web"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// maxRetractBody bounds the body of a retraction request.
	maxRetractBody = 16 << 10
	// defaultListLimit and maxListLimit bound a page of GET /api/v1/practices.
	defaultListLimit = 100
	maxListLimit     = 1000
)

// APIHandler returns the node's local HTTP API, JSON under /api/v1 (API.md
// documents every route with examples):
//
//	GET  /api/v1/status                      APIStatus
//	GET  /api/v1/peers                       []APIPeer: connected peers, by peer ID
//	GET  /api/v1/practices                   APIPracticeList: one page; query publisher, mine,
//	                                         id, retracted, limit (default 100, max 1000), after
//	GET  /api/v1/practices/{publisher}/{id}  APIRecord, its signature verified again
//	POST /api/v1/practices                   publish a fact sheet (YAML or JSON body) -> APIPublished;
//	                                         ?dry_run=1 validates only
//	POST /api/v1/practices/{id}/retract      retract an own practice ({"reason": "..."} body,
//	                                         optional) -> APIPublished; 409 if already retracted
//	GET  /api/v1/profile                     APIProfile of this node, or of ?publisher=
//	PUT  /api/v1/profile                     set this node's profile (YAML or JSON body) -> APIPublished
//	GET  /api/v1/search                      search.Result: full text, filters, facets (apisearch.go)
//	GET  /api/v1/stats                       search.Stats: ?by=country|dimension|year|source
//	GET  /api/v1/export                      ?format=csv|jsonl|dcat: the catalogue or a query, streamed
//	POST /api/v1/reindex                     rebuild the search index from the store -> APIReindexed
//	POST /api/v1/purge[?publisher=ID]        erase removed and superseded content from disk -> APIPurged
//	GET  /oai, POST /oai                     OAI-PMH 2.0 data provider (package oai);
//	                                         GET /oai/factsheet-1.xsd its khantara format's schema
//	GET  /metrics                            Prometheus metrics (see metrics.go)
//	GET  /, GET /assets/...                  the read-only web page (package web)
//
// The POST and PUT routes need "Authorization: Bearer <token>"; an empty
// token refuses them all. Against DNS rebinding and cross-site requests,
// every request must name the address it reached in its Host header (or
// localhost:<port> on a loopback address), and a request with an Origin
// header must come from that same http:// origin. Every error, unknown
// routes (404) and wrong methods (405) included, is JSON APIError. Each
// call makes a new handler with its own metrics registry. The handler is
// safe for concurrent use and stops answering writes once the node is
// closed.
func (n *Node) APIHandler(token string) http.Handler {
	a := &apiHandler{n: n, token: []byte(token)}
	metrics := newAPIMetrics(n)
	mux := http.NewServeMux()
	routes := map[string]bool{}
	handle := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, h)
		routes[pattern] = true
	}
	handle("GET /api/v1/status", a.status)
	handle("GET /api/v1/peers", a.peers)
	handle("GET /api/v1/practices", a.practices)
	handle("GET /api/v1/practices/{publisher}/{id}", a.record)
	handle("POST /api/v1/practices", a.authorized(a.publish))
	handle("POST /api/v1/practices/{id}/retract", a.authorized(a.retract))
	handle("GET /api/v1/profile", a.profile)
	handle("PUT /api/v1/profile", a.authorized(a.setProfile))
	handle("GET /api/v1/search", a.search)
	handle("GET /api/v1/stats", a.stats)
	handle("GET /api/v1/export", a.export)
	handle("POST /api/v1/reindex", a.authorized(a.reindex))
	handle("POST /api/v1/purge", a.authorized(a.purge))
	oaiPMH := n.oaiHandler()
	handle("GET /oai", oaiPMH.ServeHTTP)
	handle("POST /oai", oaiPMH.ServeHTTP)
	handle("GET /oai/", oaiPMH.ServeHTTP)
	handle("GET /metrics", metrics.handler().ServeHTTP)
	page := web.Handler()
	handle("GET /{$}", page.ServeHTTP)
	handle("GET /assets/", page.ServeHTTP)
	return metrics.instrument(routes, a.sameOrigin(jsonFallback(mux)))
}

type apiHandler struct {
	n     *Node
	token []byte

	// retractMu makes the already-retracted check and the retraction one
	// step, so two concurrent requests cannot both retract.
	retractMu sync.Mutex
}

func (a *apiHandler) status(w http.ResponseWriter, r *http.Request) {
	c, d, err := a.n.store.Counts()
	if err != nil {
		a.internal(w, "count the catalogue", err)
		return
	}
	fp := d.Fingerprint()
	stats := a.n.Stats()
	st := APIStatus{
		PeerID:        a.n.self.String(),
		Network:       a.n.cfg.Network,
		Addrs:         []string{},
		Organisation:  a.organisation(a.n.self),
		Peers:         len(a.n.host.Network().Peers()),
		Practices:     c.Practices,
		Retracted:     c.Retracted,
		Profiles:      c.Profiles,
		Publishers:    c.Publishers,
		Equivocations: c.Equivocations,
		Digest:        hex.EncodeToString(fp[:]),
		StartedAt:     a.n.started,
		Gossip:        APIGossip{Accepted: stats.Accepted, Rejected: stats.Rejected, Ignored: stats.Ignored},
		Syncs:         []APISync{},
		Disk:          a.n.apiDisk(),
	}
	if a.n.index != nil {
		is := a.n.index.Status()
		st.Index = &is
	}
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: a.n.self, Addrs: a.n.host.Addrs()})
	for _, m := range addrs {
		st.Addrs = append(st.Addrs, m.String())
	}
	syncs := a.n.SyncStatus()
	slices.SortStableFunc(syncs, func(x, y PeerSync) int { return y.At.Compare(x.At) })
	for _, ps := range syncs {
		st.Syncs = append(st.Syncs, apiSync(ps))
	}
	apiWrite(w, http.StatusOK, st)
}

func (a *apiHandler) peers(w http.ResponseWriter, r *http.Request) {
	last := map[peer.ID]PeerSync{}
	for _, ps := range a.n.SyncStatus() {
		last[ps.Peer] = ps
	}
	scores := a.n.PeerScores()
	out := []APIPeer{}
	for _, p := range a.n.host.Network().Peers() {
		conns := a.n.host.Network().ConnsToPeer(p)
		if len(conns) == 0 {
			continue // disconnected since Peers was read
		}
		oldest := slices.MinFunc(conns, func(x, y network.Conn) int { return x.Stat().Opened.Compare(y.Stat().Opened) })
		ap := APIPeer{
			ID:           p.String(),
			Addrs:        []string{},
			Direction:    strings.ToLower(oldest.Stat().Direction.String()),
			Since:        oldest.Stat().Opened.UTC(),
			Score:        scores[p],
			Organisation: a.organisation(p),
		}
		for _, c := range conns {
			if m := c.RemoteMultiaddr().String(); !slices.Contains(ap.Addrs, m) {
				ap.Addrs = append(ap.Addrs, m)
			}
		}
		if ps, ok := last[p]; ok {
			s := apiSync(ps)
			ap.LastSync = &s
		}
		out = append(out, ap)
	}
	slices.SortFunc(out, func(x, y APIPeer) int { return strings.Compare(x.ID, y.ID) })
	apiWrite(w, http.StatusOK, out)
}

func apiSync(ps PeerSync) APISync {
	return APISync{
		Peer: ps.Peer.String(), At: ps.At.UTC(),
		Fetched: ps.Result.Fetched, Applied: ps.Result.Applied, Served: ps.Result.Served,
		BytesSent: ps.Result.Sent, BytesReceived: ps.Result.Received,
		Seconds: ps.Result.Duration.Seconds(), Error: ps.Err,
	}
}

func (a *apiHandler) practices(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.RawQuery, a.n.self)
	if err != nil {
		apiFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var recs iter.Seq2[*store.Record, error]
	if q.id != "" {
		recs = a.slotOfEach(q)
	} else {
		opts := store.ListOptions{Publisher: q.publisher, Kinds: q.kinds}
		if q.afterPub != "" {
			switch rec, err := a.n.store.Get(q.afterPub, q.afterSlot); {
			case errors.Is(err, store.ErrNotFound):
				apiFail(w, http.StatusBadRequest, "after names a record this node does not hold; start again without after")
				return
			case err != nil:
				a.internal(w, "read a record", err)
				return
			default:
				opts.After = store.Cursor(rec)
			}
		}
		recs = a.n.store.List(opts)
	}
	page := APIPracticeList{Practices: []APIPractice{}}
	var last *store.Record
	for rec, err := range recs {
		if err != nil {
			a.internal(w, "list the catalogue", err)
			return
		}
		if len(page.Practices) == q.limit {
			page.Next = encodeCursor(last)
			break
		}
		page.Practices = append(page.Practices, apiPractice(rec))
		last = rec
	}
	apiWrite(w, http.StatusOK, page)
}

// slotOfEach yields every publisher's record of slot q.id, in publisher
// order (the order of List), keeping q's publisher, kinds and after.
func (a *apiHandler) slotOfEach(q listQuery) iter.Seq2[*store.Record, error] {
	return func(yield func(*store.Record, error) bool) {
		one := func(pub peer.ID) bool {
			if q.afterPub != "" && protocol.ComparePublishers(pub, q.afterPub) <= 0 {
				return true
			}
			rec, err := a.n.store.Get(pub, q.id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return true
			case err != nil:
				return yield(nil, err)
			case !slices.Contains(q.kinds, rec.Announcement().Kind):
				return true
			}
			return yield(rec, nil)
		}
		if q.publisher != "" {
			one(q.publisher)
			return
		}
		for p, err := range a.n.store.Publishers() {
			if err != nil {
				yield(nil, err)
				return
			}
			if !one(p.ID) {
				return
			}
		}
	}
}

func apiPractice(rec *store.Record) APIPractice {
	ann := rec.Announcement()
	p := APIPractice{
		Publisher: ann.Publisher.String(), ID: ann.Slot(), Seq: ann.Seq, Kind: ann.Kind,
		Time: ann.Time.UTC(), ReceivedAt: rec.ReceivedAt.UTC(), From: rec.From,
	}
	if s := ann.Practice; s != nil {
		p.Title, p.Country, p.Organiser = s.Title, s.Country, s.Organiser
	}
	return p
}

func (a *apiHandler) record(w http.ResponseWriter, r *http.Request) {
	pub, err := peer.Decode(r.PathValue("publisher"))
	if err != nil {
		apiFail(w, http.StatusBadRequest, "publisher %s is not a peer ID", quoteShort(r.PathValue("publisher")))
		return
	}
	rec, err := a.n.store.Get(pub, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		apiFail(w, http.StatusNotFound, "no practice %s of publisher %s is known here", quoteShort(r.PathValue("id")), pub)
		return
	}
	if err != nil {
		a.internal(w, "read a record", err)
		return
	}
	out := APIRecord{APIPractice: apiPractice(rec), Hash: rec.Signed.Hash().String(), Envelope: rec.Signed.Envelope()}
	// Verify the stored bytes as if they came from the network, and show
	// the content of the verified copy.
	ann := rec.Announcement()
	if opened, err := protocol.Open(rec.Signed.Envelope()); err != nil || opened.Hash() != rec.Signed.Hash() {
		a.n.log.Warn("A stored announcement does not verify.", "publisher", pub, "slot", ann.Slot(), "err", err)
	} else {
		out.SignatureVerified, ann = true, opened.Announcement()
	}
	out.Practice, out.Retraction, out.Profile = ann.Practice, ann.Retract, ann.Profile
	if out.Profile == nil {
		if _, out.Profile, err = a.profileOf(pub); err != nil {
			a.internal(w, "read a profile", err)
			return
		}
	}
	apiWrite(w, http.StatusOK, out)
}

func (a *apiHandler) publish(w http.ResponseWriter, r *http.Request) {
	q, err := strictQuery(r.URL.RawQuery, "dry_run")
	if err == nil {
		err = onlyParams(q, "dry_run")
	}
	if err != nil {
		apiFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	dry, err := boolParam(q, "dry_run")
	if err != nil {
		apiFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	body, ok := readBody(w, r, protocol.MaxSheetFileSize, "fact sheet")
	if !ok {
		return
	}
	sheet, err := protocol.ParseSheet(body)
	if err != nil {
		apiInvalid(w, "fact sheet", err)
		return
	}
	if dry {
		// Seal without storing: this checks what Publish would, the
		// size limits of the signed form included. The largest sequence
		// number makes the check hold for any real one.
		ann := &protocol.Announcement{
			V: protocol.Version, Publisher: a.n.self, Seq: protocol.MaxSeq, Time: a.n.now().UTC(),
			Kind: protocol.KindPractice, Practice: sheet,
		}
		if _, err := protocol.Seal(ann, a.n.key); err != nil {
			a.answer(w, "check the fact sheet", nil, err)
			return
		}
		apiWrite(w, http.StatusOK, APIPublished{Publisher: a.n.self.String(), ID: sheet.ID, DryRun: true})
		return
	}
	signed, err := a.n.Publish(r.Context(), sheet)
	a.answer(w, "publish", signed, err)
}

func (a *apiHandler) retract(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readBody(w, r, maxRetractBody, "request body")
	if !ok {
		return
	}
	// Decoded from the raw bytes: encoding/json would turn invalid UTF-8
	// into U+FFFD, which would then be signed.
	reason, err := protocol.ParseRetractReason(body)
	if errors.Is(err, protocol.ErrInvalid) {
		apiInvalid(w, "retraction", err)
		return
	} else if err != nil {
		apiFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	a.retractMu.Lock()
	defer a.retractMu.Unlock()
	rec, err := a.n.store.Get(a.n.self, id)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && rec.Announcement().Kind == protocol.KindProfile:
		apiFail(w, http.StatusNotFound, "this node has published no practice %s", quoteShort(id))
		return
	case err != nil:
		a.internal(w, "read a record", err)
		return
	case rec.Announcement().Kind == protocol.KindRetract:
		apiFail(w, http.StatusConflict, "practice %q is already retracted (sequence %d); publish it again to bring it back", id, rec.Announcement().Seq)
		return
	}
	signed, err := a.n.Retract(r.Context(), id, reason)
	a.answer(w, "retract", signed, err)
}

func (a *apiHandler) profile(w http.ResponseWriter, r *http.Request) {
	q, err := strictQuery(r.URL.RawQuery, "publisher")
	if err == nil {
		err = onlyParams(q, "publisher")
	}
	if err != nil {
		apiFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	pub := a.n.self
	if s := q.Get("publisher"); s != "" {
		p, err := peer.Decode(s)
		if err != nil {
			apiFail(w, http.StatusBadRequest, "publisher %s is not a peer ID; give one as printed by khantara status or peers", quoteShort(s))
			return
		}
		pub = p
	}
	rec, prof, err := a.profileOf(pub)
	switch {
	case err != nil:
		a.internal(w, "read a profile", err)
	case prof == nil && pub == a.n.self:
		apiFail(w, http.StatusNotFound, "this node has no profile yet; set one with PUT /api/v1/profile")
	case prof == nil:
		apiFail(w, http.StatusNotFound, "no profile of publisher %s is known here", pub)
	default:
		apiWrite(w, http.StatusOK, APIProfile{Publisher: pub.String(), Seq: rec.Announcement().Seq, Profile: *prof})
	}
}

func (a *apiHandler) setProfile(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, protocol.MaxSheetFileSize, "profile")
	if !ok {
		return
	}
	p, err := protocol.ParseProfile(body)
	if err != nil {
		apiInvalid(w, "profile", err)
		return
	}
	signed, err := a.n.SetProfile(r.Context(), p)
	a.answer(w, "set the profile", signed, err)
}

// profileOf returns pub's profile record and profile, or nils when the
// store holds none.
func (a *apiHandler) profileOf(pub peer.ID) (*store.Record, *protocol.Profile, error) {
	rec, err := a.n.store.Get(pub, protocol.ProfileSlot)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if ann := rec.Announcement(); ann.Kind == protocol.KindProfile && ann.Profile != nil {
		return rec, ann.Profile, nil
	}
	return nil, nil, nil
}

// organisation returns the name in pub's profile, or "" (a store error is
// logged: the name only decorates an answer).
func (a *apiHandler) organisation(pub peer.ID) string {
	_, p, err := a.profileOf(pub)
	if err != nil {
		a.n.log.Warn("Cannot read a publisher's profile.", "publisher", pub, "err", err)
	}
	if p == nil {
		return ""
	}
	return p.Name
}

// answer writes the outcome of an own announcement.
func (a *apiHandler) answer(w http.ResponseWriter, what string, s *protocol.Signed, err error) {
	switch {
	case errors.Is(err, protocol.ErrInvalid), errors.Is(err, protocol.ErrTooLarge):
		apiInvalid(w, "announcement", err)
	case errors.Is(err, ErrClosed):
		apiFail(w, http.StatusServiceUnavailable, "the node is shutting down")
	case err != nil:
		a.internal(w, what, err)
	default:
		ann := s.Announcement()
		apiWrite(w, http.StatusOK, APIPublished{Publisher: ann.Publisher.String(), ID: ann.Slot(), Seq: ann.Seq, Hash: s.Hash().String()})
	}
}

// internal answers a failure of the node: 507 when the disk is short of
// space (the message names the directory, the free space and what to
// do), else 500.
func (a *apiHandler) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrNoSpace) {
		apiFail(w, http.StatusInsufficientStorage, "%s refused, writes are paused: %s", what, noSpaceDetail(err))
		return
	}
	a.n.log.Error("API request failed.", "op", what, "err", err)
	apiFail(w, http.StatusInternalServerError, "%s failed: %v; the daemon's log has details", what, err)
}

// apiInvalid answers a document that failed validation: 400 with every
// problem, each with its field path, in the message and in Problems (413
// for one over a size limit).
func apiInvalid(w http.ResponseWriter, what string, err error) {
	var ve *protocol.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
		e := APIError{Problems: make([]APIProblem, len(ve.Problems))}
		texts := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			e.Problems[i] = APIProblem{Path: p.Path, Line: p.Line, Message: p.Msg}
			texts[i] = p.Error()
			if p.Line > 0 {
				texts[i] = fmt.Sprintf("line %d: %s", p.Line, texts[i])
			}
		}
		count := "1 problem; fix it"
		if len(texts) > 1 {
			count = fmt.Sprintf("%d problems; fix them", len(texts))
		}
		e.Error = fmt.Sprintf("the %s has %s and send it again: %s", what, count, strings.Join(texts, "; "))
		apiWrite(w, http.StatusBadRequest, e)
	case errors.Is(err, protocol.ErrTooLarge):
		apiFail(w, http.StatusRequestEntityTooLarge, "the %s is too large (%v); shorten its texts", what, err)
	default:
		apiFail(w, http.StatusBadRequest, "the %s is not valid: %v", what, err)
	}
}

// readBody reads a request body of at most limit bytes, answering the
// request itself when it cannot.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiFail(w, http.StatusRequestEntityTooLarge, "the %s is over the limit of %d bytes; shorten it", what, limit)
	case err != nil:
		apiFail(w, http.StatusBadRequest, "the %s could not be read: %v", what, err)
	default:
		return body, true
	}
	return nil, false
}

func apiWrite(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // never rendered as HTML: nosniff, application/json
	enc.Encode(v)
}

func apiFail(w http.ResponseWriter, code int, format string, args ...any) {
	apiWrite(w, code, APIError{Error: fmt.Sprintf(format, args...)})
}
