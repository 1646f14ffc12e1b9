package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/node"
)

// newLimitedAPI starts a real node and its real API server on loopback
// with limits lim, serving until the test ends.
func newLimitedAPI(t testing.TB, lim Limits) *Server {
	t.Helper()
	s := newUnservedAPI(t, lim)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(func() {
		s.srv.Close()
		cancel()
		<-served
	})
	return s
}

// closedWithin reads c until the server closes it or wait passes, and
// returns how long after start the close came (over wait when it did not).
func closedWithin(c net.Conn, start time.Time, wait time.Duration) time.Duration {
	c.SetReadDeadline(start.Add(wait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return wait + time.Nanosecond
	}
	return time.Since(start)
}

func TestAPIServerDefaultLimits(t *testing.T) {
	lim := DefaultLimits()
	if lim.ReadHeader <= 0 || lim.Read <= 0 || lim.Idle <= 0 || lim.WriteStall <= 0 || lim.MaxConns <= 0 {
		t.Fatalf("a default limit is unset: %+v", lim)
	}
	if lim.Read > time.Minute || lim.Idle > time.Minute {
		t.Errorf("defaults let a slow body or an idle connection live over a minute: %+v", lim)
	}
	s := newLimitedAPI(t, lim)
	if s.srv.ReadTimeout != lim.Read || s.srv.IdleTimeout != lim.Idle || s.srv.ReadHeaderTimeout != lim.ReadHeader {
		t.Errorf("server timeouts read %v, idle %v, header %v; want %+v", s.srv.ReadTimeout, s.srv.IdleTimeout, s.srv.ReadHeaderTimeout, lim)
	}
	if s.srv.WriteTimeout != 0 {
		t.Errorf("WriteTimeout %v would cut streamed exports", s.srv.WriteTimeout)
	}
}

// TestAPIServerTimeouts: 20 clients trickling a POST /oai body and 20 idle
// keep-alive connections are all closed by the server within their bound.
func TestAPIServerTimeouts(t *testing.T) {
	const conns = 20
	lim := Limits{ReadHeader: time.Second, Read: 600 * time.Millisecond, Idle: 600 * time.Millisecond}
	s := newLimitedAPI(t, lim)
	const wait = 5 * time.Second // without the limits, every connection outlives this

	t.Run("slow body", func(t *testing.T) {
		var wg sync.WaitGroup
		took := make([]time.Duration, conns)
		start := time.Now()
		for i := range conns {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /oai HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nverb=Identify", s.Addr())
			stop := make(chan struct{})
			wg.Add(2)
			go func() { // one byte every 50 ms until the server hangs up
				defer wg.Done()
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := c.Write([]byte("x")); err != nil {
							return
						}
					}
				}
			}()
			go func() {
				defer wg.Done()
				took[i] = closedWithin(c, start, wait)
				close(stop)
			}()
		}
		wg.Wait()
		checkClosed(t, took, lim.Read, wait)
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		var wg sync.WaitGroup
		took := make([]time.Duration, conns)
		for i := range conns {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				took[i] = wait + 1
				fmt.Fprintf(c, "GET /api/v1/status HTTP/1.1\r\nHost: %s\r\n\r\n", s.Addr())
				c.SetReadDeadline(time.Now().Add(wait))
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Errorf("status: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Close {
					t.Errorf("status answered %s, close %v; want 200 on a kept-alive connection", resp.Status, resp.Close)
				}
				idle := time.Now()
				c.SetReadDeadline(idle.Add(wait))
				var ne net.Error
				if _, err := io.Copy(io.Discard, br); !errors.As(err, &ne) || !ne.Timeout() {
					took[i] = time.Since(idle)
				}
			}()
		}
		wg.Wait()
		checkClosed(t, took, lim.Idle, wait)
	})
}

// checkClosed fails unless every connection closed after about bound and
// well before wait.
func checkClosed(t *testing.T, took []time.Duration, bound, wait time.Duration) {
	t.Helper()
	slowest, fastest := time.Duration(0), wait
	for _, d := range took {
		slowest, fastest = max(slowest, d), min(fastest, d)
	}
	t.Logf("%d connections closed after %v to %v (bound %v)", len(took), fastest.Round(time.Millisecond), slowest.Round(time.Millisecond), bound)
	if slowest > wait {
		t.Fatalf("a connection was still open after %v (bound %v)", wait, bound)
	}
	if slowest > bound+3*time.Second {
		t.Errorf("slowest close after %v, bound %v", slowest, bound)
	}
	if fastest < bound*8/10 {
		t.Errorf("a connection closed after %v, before its bound %v: not the timeout at work", fastest, bound)
	}
}

// TestAPIServerMaxConns: with a cap of 2, a third client is served only
// once one of two idle connections closes.
func TestAPIServerMaxConns(t *testing.T) {
	s := newLimitedAPI(t, Limits{ReadHeader: 10 * time.Second, Read: 10 * time.Second, Idle: 10 * time.Second, MaxConns: 2})
	get := func(c net.Conn, br *bufio.Reader, wait time.Duration) error {
		fmt.Fprintf(c, "GET /api/v1/status HTTP/1.1\r\nHost: %s\r\n\r\n", s.Addr())
		c.SetReadDeadline(time.Now().Add(wait))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := get(c, bufio.NewReader(c), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	third, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	br := bufio.NewReader(third)
	if err := get(third, br, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection over the cap of 2 was answered (err %v)", err)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the third connection was not served after a slot freed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %s", resp.Status)
	}
}

// TestAPIServerWriteStall: with writeProgress on a real server, a client
// that stops reading an endless answer is cut off about one stall after
// its last byte went out, while a client that keeps reading gets the
// answer for many stalls (no deadline for the whole answer).
func TestAPIServerWriteStall(t *testing.T) {
	const stall = 400 * time.Millisecond
	type result struct {
		err  error
		last time.Time // of the last write that went through
	}
	done := make(chan result, 2)
	chunk := make([]byte, 32<<10)
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		for {
			if _, res.err = w.Write(chunk); res.err != nil {
				break
			}
			res.last = time.Now()
		}
		done <- res
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: writeProgress(stream, stall)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// A client that never reads.
	stalled, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case res := <-done:
		cut := time.Since(res.last)
		t.Logf("a stalled reader was cut %v after the last write went through (stall %v)", cut.Round(time.Millisecond), stall)
		if res.err == nil || cut > stall+3*time.Second {
			t.Errorf("cut after %v, err %v", cut, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a client that stopped reading still held its answer after 10 s")
	}

	// A client that reads on gets far more than one stall's worth.
	reader, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	fmt.Fprintf(reader, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	reader.SetReadDeadline(start.Add(4 * stall))
	n, err := io.Copy(io.Discard, reader)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("the reading client's answer ended after %v and %d bytes: %v", time.Since(start), n, err)
	}
	select {
	case res := <-done:
		t.Fatalf("the answer to a reading client ended: %v", res.err)
	default:
	}
	t.Logf("a reading client got %d MB in %v, four stalls' time", n>>20, 4*stall)
}

// TestServerLifecycle: NewServer publishes its address in HOME/api before
// Serve; the API answers while served; ending the context makes Serve
// return nil, remove HOME/api and stop listening.
func TestServerLifecycle(t *testing.T) {
	s := newUnservedAPI(t, DefaultLimits())
	if b, err := os.ReadFile(s.addrFile); err != nil || string(b) != s.Addr() {
		t.Fatalf("HOME/api holds %q (%v), want %s", b, err, s.Addr())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.addrFile), home.APITokenFile)); err != nil {
		t.Fatalf("no API token: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	resp, err := http.Get("http://" + s.Addr() + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status answered %s", resp.Status)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after a graceful stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := os.Stat(s.addrFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("HOME/api outlived the server: %v", err)
	}
	if c, err := net.Dial("tcp", s.Addr()); err == nil {
		c.Close()
		t.Error("the server still accepts connections")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after Serve: %v", err)
	}
}

// TestServerCloseUnserved: Close releases a server that was never served:
// the port and HOME/api.
func TestServerCloseUnserved(t *testing.T) {
	s := newUnservedAPI(t, Limits{MaxConns: 2})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.addrFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("HOME/api outlived Close: %v", err)
	}
	if c, err := net.Dial("tcp", s.Addr()); err == nil {
		c.Close()
		t.Error("a closed server still accepts connections")
	}
	s.Close() // twice is fine
	if err := s.Serve(context.Background()); err != nil {
		t.Errorf("Serve after Close: %v, want nil at once", err)
	}
}

// TestServerShutdownBound: a request still reading its body when the
// server is asked to stop is cut after Limits.Shutdown, and Serve says so.
func TestServerShutdownBound(t *testing.T) {
	const grace = 300 * time.Millisecond
	s := newUnservedAPI(t, Limits{Shutdown: grace})
	active := make(chan struct{}, 1)
	s.srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			active <- struct{}{}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /oai HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nverb=", s.Addr())
	<-active // the server reads the request
	start := time.Now()
	cancel()
	select {
	case err := <-served:
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "did not finish within") {
			t.Errorf("Serve returned %v, want the requests cut", err)
		}
		if took < grace*8/10 || took > grace+3*time.Second {
			t.Errorf("Serve returned after %v, want about %v", took, grace)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve waited for a request that never ends")
	}
}

// newUnservedAPI is newLimitedAPI without Serve.
func newUnservedAPI(t testing.TB, lim Limits) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := node.DefaultConfig(dir)
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.MDNS, cfg.NAT, cfg.NoSearch = false, false, true
	log := slog.New(slog.DiscardHandler)
	n, err := node.New(cfg, node.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	s, err := NewServer(n, home.Layout{Root: dir}, "127.0.0.1:0", log, lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
