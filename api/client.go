package api

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
	"strings"
	"syscall"
	"time"

	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/internal/text"
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

// Client calls the local HTTP API of the daemon running for one home
// directory (the CLI's client). It is safe for concurrent use.
type Client struct {
	home string
	base string // http://HOST:PORT
	http *http.Client
}

// NewClient finds the daemon of home through HOME/api. It fails with an
// error matching ErrDaemonNotRunning when the file does not exist; whether
// the daemon actually answers shows at the first request.
func NewClient(dir string) (*Client, error) {
	path := home.Layout{Root: dir}.API()
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notRunning(dir)
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
	return &Client{
		home: dir,
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
func (c *Client) token() (string, error) {
	path := home.Layout{Root: c.home}.APIToken()
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
// nil). An error answer becomes a *ResponseError; a refused connection an
// error matching ErrDaemonNotRunning. Writes (write true) carry the bearer token.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, contentType string, write bool, out any) error {
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
			return notRunning(c.home)
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
		_, _ = io.Copy(io.Discard, resp.Body) // drained for the connection's reuse only
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: the daemon's answer is not the expected JSON: %w", method, apiPrefix+path, err)
	}
	return nil
}

// failure turns an error response into a *ResponseError with a message a
// person can act on.
func (c *Client) failure(method, path string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body Error
	msg := ""
	if json.Unmarshal(raw, &body) == nil {
		msg = body.Error
	}
	route := method + " " + apiPrefix + path
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		msg = fmt.Sprintf("the daemon refused the API token in %s: it must be the token the running daemon read at start; restore the file or restart the daemon",
			home.Layout{Root: c.home}.APIToken())
	case msg != "":
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		msg = fmt.Sprintf("%s: %s answered with a redirect (%s); is another program listening there?", route, c.base, resp.Status)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		msg = fmt.Sprintf("the daemon at %s does not serve %s (%s); is it an older version? restart it with this binary", c.base, route, resp.Status)
	default:
		msg = fmt.Sprintf("%s: %s: %s", route, resp.Status, strings.TrimSpace(text.Truncate(string(raw), 200)))
	}
	return &ResponseError{Status: resp.StatusCode, Msg: msg}
}

// WithTimeout returns a copy of c whose requests are bounded by d instead
// of the default 30 seconds (requestTimeout); 0 means no bound but the
// context's, for long operations.
func (c *Client) WithTimeout(d time.Duration) *Client {
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
func (c *Client) stream(ctx context.Context, path string, query url.Values, w io.Writer) (int64, error) {
	u := c.base + apiPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.WithTimeout(0).http.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return 0, notRunning(c.home)
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
