package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/khantara/khantara/home"
)

// The API's guards: same-origin and Host checks, the bearer token, and
// JSON answers for what the mux has no route for.

func (a *apiHandler) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !hostAllowed(r.Host, local) {
			fail(w, http.StatusForbidden, "Host %s is not the address of this API; call it by its address", quoteShort(r.Host))
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			fail(w, http.StatusForbidden, "cross-origin requests from %s are refused", quoteShort(o))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiHostAllowed reports whether host names the local address the request
// arrived on, or localhost on its port when that address is loopback.
func hostAllowed(host string, local net.Addr) bool {
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

// jsonFallback serves mux, answering what it has no route for (404, or
// 405 with its Allow header) in JSON instead of ServeMux's plain text.
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); probe.code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", allow)
			fail(w, http.StatusMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, r.URL.Path, allow)
			return
		}
		fail(w, http.StatusNotFound, "there is no %s; the routes are listed in API.md", r.URL.Path)
	})
}

// headerProbe records the status and headers of ServeMux's own 404 and
// 405 answers, discarding their text.
type headerProbe struct {
	header http.Header
	code   int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.code = code }

func (a *apiHandler) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(a.token) == 0 || subtle.ConstantTimeCompare([]byte(got), a.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="khantara"`)
			fail(w, http.StatusUnauthorized, "missing or wrong API token; send Authorization: Bearer <the contents of api.token>")
			return
		}
		next(w, r)
	}
}

// LoadToken reads the API token from path, creating it (32 random bytes,
// hex, mode 0600, in a directory of mode 0700) when the file does not
// exist. Like the identity key, it must not be readable by others.
func LoadToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createToken(path)
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

func createToken(path string) (string, error) {
	var b [32]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create API token directory: %w", err)
	}
	if err := home.WriteNew(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("create API token %q: %w", path, err)
	}
	return tok, nil
}
