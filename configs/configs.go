// Package configs holds the files an operator installs next to the
// binary: the documented example configuration (also what khantara init
// writes) and the hardened systemd unit, khantara.service, whose comments
// say how to install it.
package configs

import _ "embed"

// Example is khantara.example.yaml: every configuration key of the daemon,
// documented, with its default value commented out, so that the file as
// written changes no default. khantara init writes it as HOME/config.yaml.
//
//go:embed khantara.example.yaml
var Example []byte
