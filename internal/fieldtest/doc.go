// Package fieldtest builds fact sheets for the tests that check every
// output against protocol.Fields: a sheet with a distinct value in every
// leaf field, found by reflection, and the same sheet without one of them.
// An output shows a field when its output for the two sheets differs.
package fieldtest
