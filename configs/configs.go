// Package configs holds the files an operator installs next to the
// binary: the documented example configuration (also what khantara init
// writes) and the systemd unit.
package configs

import _ "embed"

// Example is khantara.example.yaml: every configuration key, commented.
//
//go:embed khantara.example.yaml
var Example []byte
