package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/khantara/khantara/api"
	"github.com/khantara/khantara/node"
)

// apiLimits bound what one client can hold of the API server. An answer is
// not bounded as a whole (an export streams the catalogue for as long as
// the client reads it), but each write must make progress.
type apiLimits struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included, so a client
	// trickling a body cannot hold a connection.
	Read time.Duration
	// Idle bounds how long a keep-alive connection waits for its next
	// request.
	Idle time.Duration
	// WriteStall bounds each write of an answer, so a client that stops
	// reading is cut off instead of holding the connection for ever.
	WriteStall time.Duration
	// MaxConns caps the connections open at once; further clients wait in
	// the listen backlog until one closes.
	MaxConns int
}

// defaultAPILimits are the limits of the daemon's API server: a 256 KB
// sheet arrives in 30 s over a link of 9 KB/s; a browser reopens a
// connection after 30 s idle at no visible cost; a reader that takes no
// byte for 30 s has gone; 256 connections are far more than a local API's
// clients need and far fewer than the daemon's file descriptors.
func defaultAPILimits() apiLimits {
	return apiLimits{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 30 * time.Second, WriteStall: 30 * time.Second, MaxConns: 256}
}

// apiServer is a node's local HTTP API, listening, with its address
// published in HOME/api for the other commands to find.
type apiServer struct {
	srv      *http.Server
	ln       net.Listener
	served   chan error
	addrFile string
}

// startAPI loads (or creates) HOME/api.token, listens on addr, serves n's
// API with defaultAPILimits and writes the actual address to HOME/api.
func startAPI(n *node.Node, home, addr string, log *slog.Logger) (*apiServer, error) {
	return startAPIWith(n, home, addr, log, defaultAPILimits())
}

// startAPIWith is startAPI with other limits.
func startAPIWith(n *node.Node, home, addr string, log *slog.Logger, lim apiLimits) (*apiServer, error) {
	token, err := api.LoadToken(filepath.Join(home, apiTokenFile))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: cannot listen on %s (is another daemon running?): %w", addr, err)
	}
	s := &apiServer{
		srv: &http.Server{
			Handler:           writeProgress(api.NewHandler(n, token), lim.WriteStall),
			ReadHeaderTimeout: lim.ReadHeader,
			ReadTimeout:       lim.Read,
			IdleTimeout:       lim.Idle,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:       ln,
		served:   make(chan error, 1),
		addrFile: filepath.Join(home, apiFile),
	}
	served := ln
	if lim.MaxConns > 0 {
		served = newLimitListener(ln, lim.MaxConns)
	}
	go func() { s.served <- s.srv.Serve(served) }()
	if err := writeFileAtomic(s.addrFile, []byte(s.Addr())); err != nil {
		s.srv.Close()
		return nil, fmt.Errorf("write the API address to %s: %w", s.addrFile, err)
	}
	return s, nil
}

// Addr is the HOST:PORT the API listens on.
func (s *apiServer) Addr() string { return s.ln.Addr().String() }

// Done delivers the error that stopped the server unexpectedly.
func (s *apiServer) Done() <-chan error { return s.served }

// Shutdown removes HOME/api, then stops the server, letting requests in
// flight finish until ctx ends.
func (s *apiServer) Shutdown(ctx context.Context) error {
	os.Remove(s.addrFile)
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// writeFileAtomic writes data to a temporary file next to path, then
// renames it over path, so readers see the old content or the new one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// limitListener accepts at most cap(slots) connections open at once: Accept
// waits for a slot, and closing a connection frees its slot.
type limitListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, free: func() { <-l.slots }}, nil
}

// Close stops the listener and wakes an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn frees its listener slot once, on the first Close.
type limitConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.free)
	return c.Conn.Close()
}

// writeProgress gives each write of next's answers stall to complete (and
// as long again for the server's final flush once next returns), instead
// of one deadline for the whole answer, which would cut long exports.
// Zero leaves writes unbounded.
func writeProgress(next http.Handler, stall time.Duration) http.Handler {
	if stall <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: stall}
		pw.extend() // replaces the deadline an earlier request left on the connection
		next.ServeHTTP(pw, r)
		pw.extend()
	})
}

// progressWriter moves the connection's write deadline before each write.
type progressWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (w *progressWriter) extend() { w.rc.SetWriteDeadline(time.Now().Add(w.stall)) }

func (w *progressWriter) Write(b []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(b)
}

// Flush sends what is buffered, within its own stall.
func (w *progressWriter) Flush() {
	w.extend()
	w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
