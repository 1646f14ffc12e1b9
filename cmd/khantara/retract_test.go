package main

import (
	"strings"
	"testing"
)

// TestRetractReasonUTF8: a --reason that is not UTF-8 is refused before
// any daemon is asked (its JSON encoder would send U+FFFD instead), with
// the usage exit code and one line naming the flag.
func TestRetractReasonUTF8(t *testing.T) {
	home := t.TempDir()
	for _, reason := range []string{"ferm\xe9", "a\xc3", "tab\tok but \x00 not"} {
		_, errOut, code := run(t, "retract", "cric-roubaix", "--home", home, "--reason", reason)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--reason: ") {
			t.Errorf("reason %q: exit %d, stderr %q; want %d and one line about --reason", reason, code, errOut, exitUsage)
		}
	}
	_, errOut, code := run(t, "retract", "cric-roubaix", "--home", home, "--reason", "ferm\xe9")
	if !strings.Contains(errOut, "--reason: must be valid UTF-8") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// A valid reason passes the check and only then finds no daemon.
	if _, errOut, code := run(t, "retract", "cric-roubaix", "--home", home, "--reason", "fermé"); code != exitNoDaemon {
		t.Errorf("valid reason: exit %d, stderr %q; want %d (no daemon)", code, errOut, exitNoDaemon)
	}
}
