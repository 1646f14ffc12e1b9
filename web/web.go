package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// CSP is the Content-Security-Policy of every answer: scripts, styles,
// images and requests from this origin only; no inline script or style
// attribute, no framing, no foreign form targets.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// assetsPrefix is the URL path under which the files of static/ are served.
const assetsPrefix = "/assets/"

//go:embed static
var staticFS embed.FS

// contentTypes maps the extensions of the embedded files to their types.
// A file with another extension is served as application/octet-stream.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
}

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// handler serves the embedded files; it is immutable after Handler.
type handler struct {
	assets map[string]asset // by URL path: "/" and "/assets/<file>"
}

// Handler returns the handler of the web page. It answers GET and HEAD
// only (other methods get 405 with Allow): "/" is the page (index.html),
// "/assets/<file>" the files it loads, anything else 404. Errors are JSON
// {"error": "..."} like the API's. Every answer carries the security
// headers (CSP, nosniff, no referrer, no framing) and Cache-Control:
// no-cache; files carry an ETag, so revalidation costs a 304. The handler
// is safe for concurrent use.
func Handler() http.Handler {
	h := &handler{assets: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		a := asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		rel := strings.TrimPrefix(p, "static/")
		if rel == "index.html" {
			h.assets["/"] = a
			return nil
		}
		h.assets[assetsPrefix+rel] = a
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a build bug.
		panic(fmt.Sprintf("web: read embedded files: %v", err))
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cache-Control", "no-cache")

	a, ok := h.assets[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("nothing at %q; the web page is at /", r.URL.Path))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed on %s; the web page is read-only (GET, HEAD)", r.Method, r.URL.Path))
		return
	}
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	// ServeContent answers HEAD, conditional and range requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// writeError answers with the API's error body, {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
