// Package federation runs the demo federation in one process: real nodes
// on loopback, each built by daemon.New with a new identity in a home of
// its own, linked in a line, each publishing its share of the demo
// catalogue (package demo). khantara demo and its tests use it.
//
// Lifecycle: Start builds and starts every node and returns once each is
// connected to its predecessor; the nodes then run under one daemon.Group
// until Shutdown, or until one fails (Done, Err). Publish and Converge are
// called by the one goroutine that owns the Federation.
//
// It lives apart from package demo, which holds data only, because the
// tests of node, search and oai read that data and this package imports
// them through the daemon.
package federation
