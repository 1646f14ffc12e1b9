package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/khantara/khantara/home"
	"github.com/khantara/khantara/node"
)

// Limits bound what one client can hold of the API server. An answer is
// not bounded as a whole (an export streams the catalogue for as long as
// the client reads it), but each write must make progress. A zero field
// leaves its bound off.
type Limits struct {
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
	// Shutdown bounds the graceful shutdown: requests still running after
	// it are cut. Zero means DefaultShutdown.
	Shutdown time.Duration
}

// DefaultShutdown is how long the server lets requests in flight finish
// once asked to stop, unless Limits.Shutdown says otherwise: half of the
// daemon's 10 s, leaving the rest to close the node.
const DefaultShutdown = 5 * time.Second

// DefaultLimits are the limits of the daemon's API server: a 256 KB sheet
// arrives in 30 s over a link of 9 KB/s; a browser reopens a connection
// after 30 s idle at no visible cost; a reader that takes no byte for 30 s
// has gone; 256 connections are far more than a local API's clients need
// and far fewer than the daemon's file descriptors.
func DefaultLimits() Limits {
	return Limits{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 30 * time.Second,
		WriteStall: 30 * time.Second, MaxConns: 256, Shutdown: DefaultShutdown}
}

// Server is a node's local HTTP API as a service: NewServer listens and
// publishes the address in HOME/api; Serve answers requests until its
// context ends, then stops and removes HOME/api. Serve is called at most
// once; Close releases a server that is never served. Addr and Close are
// safe to call from any goroutine.
type Server struct {
	srv      *http.Server
	ln       net.Listener // the socket
	served   net.Listener // ln, capped at Limits.MaxConns
	addrFile string
	grace    time.Duration
}

// NewServer loads (or creates) dir's API token, listens on addr (HOST:PORT;
// port 0 picks a free one), and writes the address it got to dir's API
// file, atomically. Requests wait in the listen backlog until Serve. On
// error nothing is left open.
func NewServer(n *node.Node, dir home.Layout, addr string, log *slog.Logger, lim Limits) (*Server, error) {
	token, err := LoadToken(dir.APIToken())
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: cannot listen on %s (is another daemon running?): %w", addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           writeProgress(NewHandler(n, token), lim.WriteStall),
			ReadHeaderTimeout: lim.ReadHeader,
			ReadTimeout:       lim.Read,
			IdleTimeout:       lim.Idle,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:       ln,
		served:   ln,
		addrFile: dir.API(),
		grace:    lim.Shutdown,
	}
	if s.grace <= 0 {
		s.grace = DefaultShutdown
	}
	if lim.MaxConns > 0 {
		s.served = newLimitListener(ln, lim.MaxConns)
	}
	if err := home.WriteAtomic(s.addrFile, []byte(s.Addr())); err != nil {
		ln.Close()
		return nil, fmt.Errorf("write the API address to %s: %w", s.addrFile, err)
	}
	return s, nil
}

// Addr is the HOST:PORT the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until ctx ends, then removes HOME/api and shuts
// the server down: requests in flight get Limits.Shutdown to finish, and
// are cut after it. It returns nil after a graceful stop, an error when
// serving failed or requests had to be cut.
func (s *Server) Serve(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.served) }()
	select {
	case err := <-served:
		os.Remove(s.addrFile)
		s.srv.Close()
		s.served.Close()
		if errors.Is(err, http.ErrServerClosed) {
			return nil // Close was called
		}
		return fmt.Errorf("the API server stopped: %w", err)
	case <-ctx.Done():
	}
	os.Remove(s.addrFile)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		_ = s.srv.Close() // its error would only repeat that requests were cut
		err = fmt.Errorf("the API's requests did not finish within %v; they were cut: %w", s.grace, err)
	}
	if serr := <-served; err == nil && serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = fmt.Errorf("the API server stopped: %w", serr)
	}
	return err
}

// Close stops the server at once, cutting requests in flight, and removes
// HOME/api. It is safe to call more than once, and before or during Serve.
func (s *Server) Close() error {
	os.Remove(s.addrFile)
	err := s.srv.Close()
	s.served.Close() // when Serve never ran; an error means it is closed
	return err
}
