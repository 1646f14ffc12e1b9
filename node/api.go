package node

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxRetractBody bounds the body of a retraction request.
const maxRetractBody = 16 << 10

// APIHandler returns the node's local HTTP API, JSON under /api/v1:
//
//	GET  /api/v1/status                          APIStatus
//	POST /api/v1/practices                       publish a fact sheet (YAML or JSON body)
//	POST /api/v1/practices/{id}/retract          retract an own practice ({"reason": "..."} body, optional)
//	GET  /api/v1/practices/{publisher}/{id}      APIRecord
//
// The POST routes need "Authorization: Bearer <token>"; an empty token
// refuses them all. Against DNS rebinding and cross-site requests, every
// request must name the address it reached in its Host header (or
// localhost:<port> on a loopback address), and a request with an Origin
// header must come from that same http:// origin. The handler is safe for
// concurrent use and stops answering writes once the node is closed.
func (n *Node) APIHandler(token string) http.Handler {
	a := &apiHandler{n: n, token: []byte(token)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/status", a.status)
	mux.HandleFunc("GET /api/v1/practices/{publisher}/{id}", a.record)
	mux.HandleFunc("POST /api/v1/practices", a.authorized(a.publish))
	mux.HandleFunc("POST /api/v1/practices/{id}/retract", a.authorized(a.retract))
	return a.sameOrigin(mux)
}

type apiHandler struct {
	n     *Node
	token []byte
}

func (a *apiHandler) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !apiHostAllowed(r.Host, local) {
			apiFail(w, http.StatusForbidden, "Host %q is not the address of this API; call it by its address", r.Host)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			apiFail(w, http.StatusForbidden, "cross-origin requests from %q are refused", o)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiHostAllowed reports whether host names the local address the request
// arrived on, or localhost on its port when that address is loopback.
func apiHostAllowed(host string, local net.Addr) bool {
	tcp, ok := local.(*net.TCPAddr)
	if !ok {
		return false
	}
	if host == tcp.String() {
		return true
	}
	h, port, err := net.SplitHostPort(host)
	return err == nil && tcp.IP.IsLoopback() && strings.EqualFold(h, "localhost") && port == fmt.Sprint(tcp.Port)
}

func (a *apiHandler) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(a.token) == 0 || subtle.ConstantTimeCompare([]byte(got), a.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="khantara"`)
			apiFail(w, http.StatusUnauthorized, "missing or wrong API token; send Authorization: Bearer <the contents of api.token>")
			return
		}
		next(w, r)
	}
}

func (a *apiHandler) status(w http.ResponseWriter, r *http.Request) {
	c, d, err := a.n.store.Counts()
	if err != nil {
		a.internal(w, "count the catalogue", err)
		return
	}
	fp := d.Fingerprint()
	st := APIStatus{
		PeerID:        a.n.self.String(),
		Network:       a.n.cfg.Network,
		Addrs:         []string{},
		Peers:         len(a.n.host.Network().Peers()),
		Practices:     c.Practices,
		Retracted:     c.Retracted,
		Publishers:    c.Publishers,
		Equivocations: c.Equivocations,
		Digest:        hex.EncodeToString(fp[:]),
	}
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: a.n.self, Addrs: a.n.host.Addrs()})
	for _, m := range addrs {
		st.Addrs = append(st.Addrs, m.String())
	}
	apiWrite(w, http.StatusOK, st)
}

func (a *apiHandler) record(w http.ResponseWriter, r *http.Request) {
	pub, err := peer.Decode(r.PathValue("publisher"))
	if err != nil {
		apiFail(w, http.StatusBadRequest, "publisher %q is not a peer ID", r.PathValue("publisher"))
		return
	}
	rec, err := a.n.store.Get(pub, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		apiFail(w, http.StatusNotFound, "no practice %q of publisher %s is known here", r.PathValue("id"), pub)
		return
	}
	if err != nil {
		a.internal(w, "read a record", err)
		return
	}
	ann := rec.Announcement()
	out := APIRecord{APIPractice: APIPractice{
		Publisher: ann.Publisher.String(), ID: ann.Slot(), Seq: ann.Seq, Kind: ann.Kind,
		ReceivedAt: rec.ReceivedAt.UTC(), From: rec.From,
	}}
	if ann.Practice != nil {
		out.Title = ann.Practice.Title
	}
	apiWrite(w, http.StatusOK, out)
}

func (a *apiHandler) publish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, protocol.MaxSheetFileSize))
	if err != nil {
		apiFail(w, http.StatusRequestEntityTooLarge, "the fact sheet is over %d bytes or could not be read", protocol.MaxSheetFileSize)
		return
	}
	sheet, err := protocol.ParseSheet(body)
	if err != nil {
		apiFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	signed, err := a.n.Publish(r.Context(), sheet)
	a.answer(w, "publish", signed, err)
}

func (a *apiHandler) retract(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req struct {
		Reason string `json:"reason"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRetractBody))
	if err != nil {
		apiFail(w, http.StatusRequestEntityTooLarge, "the request body is over %d bytes or could not be read", maxRetractBody)
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			apiFail(w, http.StatusBadRequest, `the body must be {"reason": "..."} or empty: %v`, err)
			return
		}
	}
	switch _, err := a.n.store.Get(a.n.self, id); {
	case errors.Is(err, store.ErrNotFound):
		apiFail(w, http.StatusNotFound, "this node has published no practice %q", id)
		return
	case err != nil:
		a.internal(w, "read a record", err)
		return
	}
	signed, err := a.n.Retract(r.Context(), id, req.Reason)
	a.answer(w, "retract", signed, err)
}

// answer writes the outcome of an own announcement.
func (a *apiHandler) answer(w http.ResponseWriter, what string, s *protocol.Signed, err error) {
	switch {
	case errors.Is(err, protocol.ErrInvalid), errors.Is(err, protocol.ErrTooLarge):
		apiFail(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrClosed):
		apiFail(w, http.StatusServiceUnavailable, "the node is shutting down")
	case err != nil:
		a.internal(w, what, err)
	default:
		ann := s.Announcement()
		apiWrite(w, http.StatusOK, APIPublished{Publisher: ann.Publisher.String(), ID: ann.Slot(), Seq: ann.Seq, Hash: s.Hash().String()})
	}
}

func (a *apiHandler) internal(w http.ResponseWriter, what string, err error) {
	a.n.log.Error("API request failed.", "op", what, "err", err)
	apiFail(w, http.StatusInternalServerError, "%s failed: %v", what, err)
}

func apiWrite(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func apiFail(w http.ResponseWriter, code int, format string, args ...any) {
	apiWrite(w, code, APIError{Error: fmt.Sprintf(format, args...)})
}

// LoadAPIToken reads the API token from path, creating it (32 random bytes,
// hex, mode 0600, in a directory of mode 0700) when the file does not
// exist. Like the identity key, it must not be readable by others.
func LoadAPIToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createAPIToken(path)
	}
	if err != nil {
		return "", fmt.Errorf("read API token %q: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("API token %q is readable by others (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", fmt.Errorf("API token %q is empty; delete it and a new one is made at start", path)
	}
	return tok, nil
}

func createAPIToken(path string) (string, error) {
	var b [32]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create API token directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create API token %q: %w", path, err)
	}
	_, err = f.WriteString(tok + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write API token %q: %w", path, err)
	}
	return tok, nil
}
