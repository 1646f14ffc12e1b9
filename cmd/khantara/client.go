package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/khantara/khantara/node"
)

const (
	// requestTimeout bounds each API request, so a long import is bounded
	// per sheet, not as a whole.
	requestTimeout = 30 * time.Second
	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 64 << 10
	// maxPages bounds a listing, against a server whose cursor never ends.
	maxPages = 100_000
	// apiPrefix starts every API path.
	apiPrefix = "/api/v1"
)

// Exit codes of the client commands. main maps an error to its code
// through the exitCoder interface.
const (
	exitFailed   = 1 // the operation failed
	exitUsage    = 2 // bad input: an invalid sheet, a bad flag or argument
	exitNoDaemon = 3 // no daemon is running for the home directory
)

// daemonNotRunningError says that no daemon answers for a home directory:
// HOME/api is missing, or the address in it refuses connections (a stale
// file left by a crash). Its exit code is exitNoDaemon.
type daemonNotRunningError struct{ home string }

func (e *daemonNotRunningError) Error() string {
	return fmt.Sprintf("no daemon is running for %s (start it with: khantara daemon --home %s)", e.home, shellQuote(e.home))
}

// ExitCode is exitNoDaemon.
func (e *daemonNotRunningError) ExitCode() int { return exitNoDaemon }

// apiError is an error answer of the API: its HTTP status and message.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// ExitCode is exitFailed: the daemon refused or failed the operation.
func (e *apiError) ExitCode() int { return exitFailed }

// apiClient calls the local HTTP API of the daemon running for one home
// directory. It is safe for concurrent use.
type apiClient struct {
	home string
	base string // http://HOST:PORT
	http *http.Client
}

// newClient finds the daemon of home through HOME/api. It fails with a
// *daemonNotRunningError when the file does not exist; whether the daemon
// actually answers shows at the first request.
func newClient(home string) (*apiClient, error) {
	path := filepath.Join(home, apiFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &daemonNotRunningError{home: home}
	}
	if err != nil {
		return nil, fmt.Errorf("read the daemon's API address: %w", err)
	}
	addr := strings.TrimSpace(string(raw))
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return nil, fmt.Errorf("%s holds %q, not HOST:PORT; if no daemon is running, delete the file", path, addr)
	}
	// A daemon listening on every interface writes 0.0.0.0 or [::]: call
	// it on loopback, which is also the address it then sees.
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return &apiClient{
		home: home,
		base: "http://" + net.JoinHostPort(host, port),
		http: &http.Client{
			Timeout: requestTimeout,
			// The API never redirects; a redirect means something else
			// answers on that port.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// token reads HOME/api.token, which every write needs.
func (c *apiClient) token() (string, error) {
	path := filepath.Join(c.home, apiTokenFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no API token at %s; restart the daemon, which creates one at start", path)
	}
	if err != nil {
		return "", fmt.Errorf("read the API token: %w", err)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", fmt.Errorf("the API token %s is empty; delete it and restart the daemon to make a new one", path)
	}
	return tok, nil
}

// do sends one request and decodes a 2xx JSON answer into out (when not
// nil). An error answer becomes an *apiError; a refused connection a
// *daemonNotRunningError. Writes (write true) carry the bearer token.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, body []byte, contentType string, write bool, out any) error {
	u := c.base + apiPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	// Without a token the request still goes out: if no daemon answers,
	// that is the error to report; if one does, the missing token is.
	var tokenErr error
	if write {
		var tok string
		if tok, tokenErr = c.token(); tokenErr == nil {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return &daemonNotRunningError{home: c.home}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return fmt.Errorf("the daemon at %s did not answer %s %s within %v", c.base, method, apiPrefix+path, requestTimeout)
		}
		return fmt.Errorf("call the daemon at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if tokenErr != nil && resp.StatusCode == http.StatusUnauthorized {
		return tokenErr
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.failure(method, path, resp)
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: the daemon's answer is not the expected JSON: %w", method, apiPrefix+path, err)
	}
	return nil
}

// failure turns an error response into an *apiError with a message a
// person can act on.
func (c *apiClient) failure(method, path string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body node.APIError
	msg := ""
	if json.Unmarshal(raw, &body) == nil {
		msg = body.Error
	}
	route := method + " " + apiPrefix + path
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		msg = fmt.Sprintf("the daemon refused the API token in %s: it must be the token the running daemon read at start; restore the file or restart the daemon",
			filepath.Join(c.home, apiTokenFile))
	case msg != "":
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		msg = fmt.Sprintf("%s: %s answered with a redirect (%s); is another program listening there?", route, c.base, resp.Status)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		msg = fmt.Sprintf("the daemon at %s does not serve %s (%s); is it an older version? restart it with this binary", c.base, route, resp.Status)
	default:
		msg = fmt.Sprintf("%s: %s: %s", route, resp.Status, strings.TrimSpace(truncateText(string(raw), 200)))
	}
	return &apiError{Status: resp.StatusCode, Msg: msg}
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// status fetches the node's status.
func (c *apiClient) status(ctx context.Context) (node.APIStatus, error) {
	var st node.APIStatus
	return st, c.do(ctx, http.MethodGet, "/status", nil, nil, "", false, &st)
}

// peers fetches the connected peers.
func (c *apiClient) peers(ctx context.Context) ([]node.APIPeer, error) {
	var ps []node.APIPeer
	return ps, c.do(ctx, http.MethodGet, "/peers", nil, nil, "", false, &ps)
}

// listQuery selects practices for practices.
type listQuery struct {
	Publisher string
	Mine      bool
	ID        string
	// Retracted includes retracted slots.
	Retracted bool
}

func (q listQuery) values() url.Values {
	v := url.Values{}
	if q.Publisher != "" {
		v.Set("publisher", q.Publisher)
	}
	if q.Mine {
		v.Set("mine", "1")
	}
	if q.ID != "" {
		v.Set("id", q.ID)
	}
	if q.Retracted {
		v.Set("retracted", "1")
	}
	return v
}

// practices fetches every page of a listing, following Next.
func (c *apiClient) practices(ctx context.Context, q listQuery) ([]node.APIPractice, error) {
	all := []node.APIPractice{}
	v := q.values()
	seen := map[string]bool{}
	for range maxPages {
		var page node.APIPracticeList
		if err := c.do(ctx, http.MethodGet, "/practices", v, nil, "", false, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Practices...)
		if page.Next == "" {
			return all, nil
		}
		if seen[page.Next] {
			return nil, fmt.Errorf("the daemon's listing repeats the cursor %q; stopped after %d practices", page.Next, len(all))
		}
		seen[page.Next] = true
		v.Set("after", page.Next)
	}
	return nil, fmt.Errorf("the daemon's listing did not end after %d pages", maxPages)
}

// record fetches one slot with its content and provenance.
func (c *apiClient) record(ctx context.Context, publisher, id string) (node.APIRecord, error) {
	var rec node.APIRecord
	return rec, c.do(ctx, http.MethodGet, "/practices/"+url.PathEscape(publisher)+"/"+url.PathEscape(id), nil, nil, "", false, &rec)
}

// publish sends a fact-sheet file (YAML or JSON) to be signed and
// published; with dryRun the daemon only checks it.
func (c *apiClient) publish(ctx context.Context, sheet []byte, dryRun bool) (node.APIPublished, error) {
	var v url.Values
	if dryRun {
		v = url.Values{"dry_run": {"1"}}
	}
	var p node.APIPublished
	return p, c.do(ctx, http.MethodPost, "/practices", v, sheet, "application/yaml", true, &p)
}

// retract withdraws an own practice.
func (c *apiClient) retract(ctx context.Context, id, reason string) (node.APIPublished, error) {
	body, err := json.Marshal(struct {
		Reason string `json:"reason,omitempty"`
	}{reason})
	if err != nil {
		return node.APIPublished{}, err
	}
	var p node.APIPublished
	return p, c.do(ctx, http.MethodPost, "/practices/"+url.PathEscape(id)+"/retract", nil, body, "application/json", true, &p)
}

// putProfile publishes the node's organisation profile (YAML or JSON).
func (c *apiClient) putProfile(ctx context.Context, profile []byte) (node.APIPublished, error) {
	var p node.APIPublished
	return p, c.do(ctx, http.MethodPut, "/profile", nil, profile, "application/yaml", true, &p)
}

// profile fetches the profile of publisher, or the node's own when empty.
func (c *apiClient) profile(ctx context.Context, publisher string) (node.APIProfile, error) {
	var v url.Values
	if publisher != "" {
		v = url.Values{"publisher": {publisher}}
	}
	var p node.APIProfile
	return p, c.do(ctx, http.MethodGet, "/profile", v, nil, "", false, &p)
}

// withTimeout returns a copy of c whose requests are bounded by d
// instead of requestTimeout; 0 means no bound but the context's, for
// long operations such as a reindex.
func (c *apiClient) withTimeout(d time.Duration) *apiClient {
	hc := *c.http
	hc.Timeout = d
	cp := *c
	cp.http = &hc
	return &cp
}

// stream sends a GET and copies a 2xx answer's body to w as it arrives.
// Only ctx bounds it, so a large body is not cut by requestTimeout. It
// returns the bytes written; errors are as for do, and a body cut short
// is an error.
func (c *apiClient) stream(ctx context.Context, path string, query url.Values, w io.Writer) (int64, error) {
	u := c.base + apiPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.withTimeout(0).http.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return 0, &daemonNotRunningError{home: c.home}
		case ctx.Err() != nil:
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("call the daemon at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, c.failure(http.MethodGet, path, resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, fmt.Errorf("GET %s stopped after %d bytes: %w", apiPrefix+path, n, err)
	}
	return n, nil
}
