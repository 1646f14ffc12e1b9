package configs

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// unit is a systemd unit file: the values of each "Section.Key", in order.
type unit map[string][]string

func readUnit(t *testing.T, name string) (unit, []byte) {
	t.Helper()
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	u, section := unit{}, ""
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: want Key=value inside a [Section], found %q", name, n, line)
			}
			u[section+"."+k] = append(u[section+"."+k], v)
		}
	}
	return u, text
}

// TestServiceHardening checks that the systemd unit runs the daemon as a
// dedicated user with its state in /var/lib/khantara and keeps every
// hardening directive operators rely on.
func TestServiceHardening(t *testing.T) {
	u, _ := readUnit(t, "khantara.service")
	want := map[string]string{
		"Service.User":                     "khantara",
		"Service.StateDirectory":           "khantara",
		"Service.Environment":              "KHANTARA_HOME=/var/lib/khantara",
		"Service.ExecStart":                "/usr/local/bin/khantara daemon",
		"Service.Restart":                  "on-failure",
		"Service.RestartPreventExitStatus": "2",
		"Service.NoNewPrivileges":          "yes",
		"Service.CapabilityBoundingSet":    "",
		"Service.ProtectSystem":            "strict",
		"Service.ProtectHome":              "yes",
		"Service.PrivateTmp":               "yes",
		"Service.PrivateDevices":           "yes",
		"Service.ProtectKernelTunables":    "yes",
		"Service.ProtectKernelModules":     "yes",
		"Service.ProtectKernelLogs":        "yes",
		"Service.ProtectControlGroups":     "yes",
		"Service.RestrictAddressFamilies":  "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"Service.RestrictNamespaces":       "yes",
		"Service.LockPersonality":          "yes",
		"Service.MemoryDenyWriteExecute":   "yes",
		"Service.SystemCallArchitectures":  "native",
		"Service.SystemCallFilter":         "@system-service",
		"Install.WantedBy":                 "multi-user.target",
	}
	for key, v := range want {
		if !slices.Contains(u[key], v) {
			t.Errorf("%s=%s missing (has %q)", key, v, u[key])
		}
	}
	if got := u["Service.DynamicUser"]; slices.Contains(got, "yes") {
		t.Errorf("DynamicUser=yes: the khantara commands could not read api.token as a fixed user")
	}
	if l := u["Service.LimitNOFILE"]; len(l) != 1 {
		t.Errorf("LimitNOFILE set %d times, want once", len(l))
	} else if n, err := strconv.Atoi(l[0]); err != nil || n < 8192 {
		t.Errorf("LimitNOFILE=%s; libp2p needs at least 8192", l[0])
	}
}

// TestServiceVerify runs systemd-analyze verify on the unit, when it is
// installed, with ExecStart pointing at an existing program: any complaint
// (an unknown or misspelt directive, a bad value) fails the test.
func TestServiceVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, text := readUnit(t, "khantara.service")
	text = bytes.ReplaceAll(text, []byte("ExecStart=/usr/local/bin/khantara"), []byte("ExecStart="+self))
	unitFile := filepath.Join(t.TempDir(), "khantara.service")
	if err := os.WriteFile(unitFile, text, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unitFile).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
