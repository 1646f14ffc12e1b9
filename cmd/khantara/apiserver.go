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
	"time"

	"github.com/khantara/khantara/node"
)

// apiServer is a node's local HTTP API, listening, with its address
// published in HOME/api for the other commands to find.
type apiServer struct {
	srv      *http.Server
	ln       net.Listener
	served   chan error
	addrFile string
}

// startAPI loads (or creates) HOME/api.token, listens on addr, serves n's
// API and writes the actual address to HOME/api.
func startAPI(n *node.Node, home, addr string, log *slog.Logger) (*apiServer, error) {
	token, err := node.LoadAPIToken(filepath.Join(home, apiTokenFile))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: cannot listen on %s (is another daemon running?): %w", addr, err)
	}
	s := &apiServer{
		srv: &http.Server{
			Handler:           n.APIHandler(token),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:       ln,
		served:   make(chan error, 1),
		addrFile: filepath.Join(home, apiFile),
	}
	go func() { s.served <- s.srv.Serve(ln) }()
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
