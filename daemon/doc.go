// Package daemon is Khantara's composition root: the one place that builds
// a running node and owns its long-lived services (the node, the local HTTP
// API server), as Syncthing's lib/syncthing does. The daemon command, the
// demo and the tests all build a node through New.
//
// The configuration is plain data: Config, with DefaultConfig holding every
// default and Validate checking the whole before start-up. Load reads it
// from the config file (YAML, with line numbers in its errors and a "did
// you mean" for unknown keys) and from overrides given by key; Settings
// describes every key (flag name, environment variables, usage, kind,
// default) so the command line can offer each as a flag without this
// package knowing the command line's library.
//
// Lifecycle: New builds the node and the API server and leaves nothing
// running when it fails. Serve runs every service under one Group: the
// first service to fail stops the others, which are all waited for, and
// its error is returned. The node closes only after the API server has
// stopped, so requests in flight finish against an open node.
// Close releases a daemon that is never served.
package daemon
