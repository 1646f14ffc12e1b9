// Package suggest finds the known name closest to a mistyped one, for the
// "did you mean" hints of the fact-sheet parser, the search parameters and
// the configuration. It holds pure functions, safe for concurrent use.
package suggest
