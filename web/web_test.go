package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func serve(t testing.TB, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// staticFiles lists the embedded files by their path under static/.
func staticFiles(t testing.TB) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(p, "static/"))
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk static: %v", err)
	}
	return names
}

func TestSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-cache",
	}
	for _, tc := range []struct{ method, target string }{
		{"GET", "/"},
		{"HEAD", "/"},
		{"GET", "/assets/app.js"},
		{"GET", "/assets/style.css"},
		{"GET", "/nowhere"},
		{"GET", "/assets/nothing.js"},
		{"POST", "/"},
		{"DELETE", "/assets/app.js"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			res := serve(t, tc.method, tc.target, nil)
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestStatusAndContentType(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		code           int
		contentType    string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"HEAD", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/assets/app.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/charts.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/style.css", 200, "text/css; charset=utf-8"},
		{"GET", "/assets/favicon.png", 200, "image/png"},
		{"GET", "/index.html", 404, "application/json"},
		{"GET", "/assets/", 404, "application/json"},
		{"GET", "/assets/index.html", 404, "application/json"},
		{"GET", "/assets/../web.go", 404, "application/json"},
		{"GET", "/api/v2/status", 404, "application/json"},
		{"POST", "/", 405, "application/json"},
		{"PUT", "/assets/app.js", 405, "application/json"},
		{"POST", "/nowhere", 404, "application/json"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			res := serve(t, tc.method, tc.target, nil)
			body := readBody(t, res)
			if res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d; body %q", res.StatusCode, tc.code, body)
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			switch {
			case tc.code == 405:
				if got := res.Header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("Allow %q, want \"GET, HEAD\"", got)
				}
				fallthrough
			case tc.code >= 400:
				if !strings.HasPrefix(body, `{"error":"`) {
					t.Errorf("error body %q is not {\"error\": ...}", body)
				}
			case tc.method == "HEAD":
				if body != "" {
					t.Errorf("HEAD answered a body of %d bytes", len(body))
				}
			case body == "":
				t.Error("empty body")
			}
		})
	}
}

func TestEveryStaticFileServed(t *testing.T) {
	for _, name := range staticFiles(t) {
		target := "/assets/" + name
		if name == "index.html" {
			target = "/"
		}
		t.Run(name, func(t *testing.T) {
			res := serve(t, "GET", target, nil)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: status %d", target, res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); ct == "application/octet-stream" {
				t.Errorf("GET %s: no content type for extension %q", target, path.Ext(name))
			}
		})
	}
}

func TestRevalidation(t *testing.T) {
	res := serve(t, "GET", "/assets/app.js", nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res = serve(t, "GET", "/assets/app.js", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: status %d, want 304", res.StatusCode)
	}
}

var (
	// urlAttr finds src and href attribute values.
	urlAttr = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	// jsImport finds the module specifiers of static imports and
	// re-exports ("export ... from").
	jsImport = regexp.MustCompile(`(?m)^\s*(?:import\s[^'"]*|import|(?:import|export)\s[^'";]*?\bfrom\s*)['"]([^'"]+)['"]`)
)

// TestIndexReferencesOnlyAssets checks that the page loads nothing but
// its own files: every src and href of index.html is an existing /assets/
// file or an in-page link, and every module import is relative and
// resolves to an embedded file.
func TestIndexReferencesOnlyAssets(t *testing.T) {
	present := map[string]bool{}
	for _, name := range staticFiles(t) {
		present[name] = true
	}
	index, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := urlAttr.FindAllStringSubmatch(string(index), -1)
	if len(refs) < 3 {
		t.Fatalf("found only %d src/href attributes in index.html", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "#") {
			continue
		}
		name, ok := strings.CutPrefix(ref, "/assets/")
		if !ok {
			t.Errorf("index.html references %q, outside /assets/", ref)
			continue
		}
		if !present[name] {
			t.Errorf("index.html references %q, which is not embedded", ref)
		}
	}
	for name := range present {
		if ext := path.Ext(name); ext != ".js" && ext != ".mjs" {
			continue
		}
		src, _ := staticFS.ReadFile("static/" + name)
		for _, m := range jsImport.FindAllStringSubmatch(string(src), -1) {
			spec := m[1]
			target := path.Join(path.Dir(name), spec)
			relative := strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../")
			if !relative || strings.HasPrefix(target, "../") || !present[target] {
				t.Errorf("%s imports %q: want ./ or ../ and an embedded file", name, spec)
			}
		}
	}
}

// TestNoInlineCodeOrForeignURLs checks what the CSP and the brief forbid:
// inline scripts and styles, markup built from strings, any http(s) URL.
func TestNoInlineCodeOrForeignURLs(t *testing.T) {
	forbidden := []struct {
		re   *regexp.Regexp
		exts string
		why  string
	}{
		{regexp.MustCompile(`(?i)https?://`), ".html .js .css", "an http(s) URL"},
		{regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`), ".html", "an inline script"},
		{regexp.MustCompile(`(?i)<style\b`), ".html", "a <style> element"},
		{regexp.MustCompile(`(?i)\sstyle\s*=`), ".html", "a style attribute"},
		{regexp.MustCompile(`(?i)\son[a-z]+\s*=`), ".html", "an inline event handler"},
		{regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write`), ".js", "markup from strings"},
		{regexp.MustCompile(`setAttribute\(\s*['"]style['"]|\beval\(|new Function\(`), ".js", "a style attribute or eval"},
		{regexp.MustCompile(`@import|url\(`), ".css", "a stylesheet or resource fetched from CSS"},
	}
	scriptTag := regexp.MustCompile(`(?i)<script\b[^>]*>`)
	for _, name := range staticFiles(t) {
		ext := path.Ext(name)
		src, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if ext == ".html" {
			for _, tag := range scriptTag.FindAll(src, -1) {
				if !strings.Contains(string(tag), " src=") {
					t.Errorf("%s has a script without src: %q", name, tag)
				}
			}
		}
		for _, f := range forbidden {
			if !strings.Contains(f.exts, ext) {
				continue
			}
			if loc := f.re.FindIndex(src); loc != nil {
				line := 1 + strings.Count(string(src[:loc[0]]), "\n")
				t.Errorf("%s:%d has %s: %q", name, line, f.why, src[loc[0]:loc[1]])
			}
		}
	}
}
