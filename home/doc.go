// Package home is the one place that knows the layout of a node's data
// directory (HOME): the identity key, the config file, the store and the
// search index, the running daemon's API address and the API token. It
// also holds the two ways files in HOME are written: created once
// (WriteNew: exclusive create, fsync) and replaced whole (WriteAtomic:
// temporary file, fsync, rename).
//
// The package imports nothing of Khantara's; it holds no state and starts
// nothing. Everything in it is safe for concurrent use.
package home
