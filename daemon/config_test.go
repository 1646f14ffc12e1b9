package daemon

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/khantara/khantara/configs"
	"github.com/khantara/khantara/node"
)

// uncomment removes the '#' before each commented-out setting of the
// example config: every line starting with '#' except prose, which is "#"
// followed by one space and text.
func uncomment(text []byte) []byte {
	lines := strings.Split(string(text), "\n")
	for i, l := range lines {
		prose := len(l) > 2 && strings.HasPrefix(l, "# ") && l[2] != ' '
		if strings.HasPrefix(l, "#") && !prose {
			lines[i] = l[1:]
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// TestExampleConfig checks configs.Example, which khantara init writes as
// HOME/config.yaml: as written it changes no default; with every setting
// uncommented it sets every key to its default; it documents every key's
// flag and environment variable.
func TestExampleConfig(t *testing.T) {
	const home = "/home"
	want := DefaultConfig(home)
	for _, tc := range []struct {
		name     string
		text     []byte
		wantKeys int
	}{
		{"as written", configs.Example, 0},
		{"uncommented", uncomment(configs.Example), len(settings)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig(home)
			set, err := decodeConfig(tc.text, &cfg)
			if err != nil {
				t.Fatalf("%v\n%s", err, tc.text)
			}
			if !reflect.DeepEqual(cfg, want) {
				t.Errorf("the example changes a default:\ngot  %+v\nwant %+v", cfg, want)
			}
			if len(set) != tc.wantKeys {
				t.Errorf("the example sets %d keys, want %d", len(set), tc.wantKeys)
			}
			for i := range settings {
				if _, ok := set[settings[i].key]; !ok && tc.wantKeys > 0 {
					t.Errorf("the example has no setting for %s", settings[i].key)
				}
			}
		})
	}
	for _, s := range Settings() {
		for _, word := range append([]string{"--" + s.Flag}, s.Env...) {
			if !bytes.Contains(configs.Example, []byte(word)) {
				t.Errorf("the example does not mention %s of %s", word, s.Key)
			}
		}
	}
}

// TestSettingsCoverNodeConfig checks that every YAML key of node.Config
// is a setting, so a new field cannot be left out of the config file.
func TestSettingsCoverNodeConfig(t *testing.T) {
	var keys func(typ reflect.Type, prefix string) []string
	keys = func(typ reflect.Type, prefix string) []string {
		var out []string
		for f := range typ.Fields() {
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			if tag == "" {
				t.Errorf("node.Config field %s has no yaml tag", f.Name)
				continue
			}
			if tag == ",inline" { // node.Reach: its keys are top-level ones
				out = append(out, keys(f.Type, prefix)...)
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				out = append(out, keys(f.Type, prefix+tag+".")...)
				continue
			}
			out = append(out, prefix+tag)
		}
		return out
	}
	for _, k := range append(keys(reflect.TypeFor[node.Config](), ""), "api", "log.level", "log.format") {
		if s, _ := lookupSetting(k); s == nil {
			t.Errorf("%s is not a setting of the config file", k)
		}
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, LogConfig{Level: "warn", Format: "json"})
	log.Info("Hidden.")
	log.Warn("Shown.", "n", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, buf.String())
	}
	if rec["msg"] != "Shown." || rec["level"] != slog.LevelWarn.String() || rec["n"] != 1.0 {
		t.Errorf("logged %v", rec)
	}

	buf.Reset()
	NewLogger(&buf, LogConfig{Level: "DEBUG", Format: "text"}).Debug("Shown.", "n", 1)
	if got := buf.String(); !strings.Contains(got, `level=DEBUG msg=Shown. n=1`) {
		t.Errorf("logged %q", got)
	}
}

// TestSettings checks the plain-data description the command line builds
// its flags from: defaults and kinds match DefaultConfig, every key has a
// flag and an environment variable, and Invalid names the kind.
func TestSettings(t *testing.T) {
	def := DefaultConfig("")
	byKey := map[string]Setting{}
	for _, s := range Settings() {
		byKey[s.Key] = s
		if s.Flag == "" || len(s.Env) == 0 || s.Usage == "" {
			t.Errorf("%s lacks a flag, an environment variable or a usage: %+v", s.Key, s)
		}
		if got, ok := SettingByFlag(s.Flag); !ok || got.Key != s.Key {
			t.Errorf("SettingByFlag(%q) = %+v, %v", s.Flag, got, ok)
		}
	}
	for key, want := range map[string]any{
		"network": def.Node.Network, "listen": def.Node.Listen, "mdns": true, "api": DefaultAPIAddr,
		"sync_interval": time.Minute, "conn_low": def.Node.ConnLow, "log.level": "info",
	} {
		if got := byKey[key].Default; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: default %#v, want %#v", key, got, want)
		}
	}
	if got := byKey["trust.mode"].Env; !reflect.DeepEqual(got, []string{"KHANTARA_TRUST_MODE", "KHANTARA_TRUST"}) {
		t.Errorf("trust.mode's environment variables: %v", got)
	}
	for key, want := range map[string]string{
		"mdns": `"yes" is not true or false`, "conn_low": `"yes" is not a whole number`,
		"sync_interval": `"yes" is not a duration such as 30s`,
	} {
		if got := byKey[key].Invalid("yes"); got != want {
			t.Errorf("%s: Invalid says %q, want %q", key, got, want)
		}
	}
	if _, ok := SettingByFlag("no-such-flag"); ok {
		t.Error("SettingByFlag found a flag that does not exist")
	}
}

// TestLoad checks the order file < overrides, the file line in errors,
// and that an override clears the file's line from an error.
func TestLoad(t *testing.T) {
	home := t.TempDir()
	file := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(file, []byte("network: homenet\nconn_high: 5\nconn_low: 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Sources{Home: home})
	if want := "config " + file + ": line 2: conn_low, conn_high: need 1 <= conn_low <= conn_high, got 10 and 5"; err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
	cfg, err := Load(Sources{Home: home, Overrides: map[string]any{"conn_low": 2, "api": "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.Network != "homenet" || cfg.Node.ConnLow != 2 || cfg.Node.ConnHigh != 5 || cfg.API != "127.0.0.1:0" || cfg.File != file {
		t.Errorf("loaded %+v", cfg)
	}
	_, err = Load(Sources{Home: home, Overrides: map[string]any{"network": "Big Net", "conn_low": 2}})
	if want := `network: "Big Net" is not a network name`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("an override's error %v should not name the file", err)
	}
	if _, err := Load(Sources{Home: home, Overrides: map[string]any{"conn_low": "2"}}); err == nil {
		t.Error("an override of the wrong type was accepted")
	}
	if cfg, err := Load(Sources{Home: t.TempDir()}); err != nil || cfg.File != "" || !reflect.DeepEqual(cfg.Node, node.DefaultConfig(cfg.Node.Home)) {
		t.Errorf("without a file: %+v, %v", cfg, err)
	}
}

// TestQuotaExperiences: quota.experiences defaults to 1000, is read from
// the file, a flag (an override) beats the file, and a negative value is
// refused naming the key.
func TestQuotaExperiences(t *testing.T) {
	s, ok := SettingByFlag("quota-experiences")
	if !ok || s.Key != "quota.experiences" || s.Default != 1000 || !strings.Contains(strings.Join(s.Env, " "), "KHANTARA_QUOTA_EXPERIENCES") {
		t.Fatalf("setting %+v, %v", s, ok)
	}
	if cfg, err := Load(Sources{Home: t.TempDir()}); err != nil || cfg.Node.Quota.Experiences != 1000 {
		t.Fatalf("default: %d, %v", cfg.Node.Quota.Experiences, err)
	}
	home := t.TempDir()
	file := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(file, []byte("quota:\n  experiences: 250\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(Sources{Home: home}); err != nil || cfg.Node.Quota.Experiences != 250 || cfg.Node.Quota.Records != 5000 {
		t.Fatalf("from the file: %+v, %v", cfg.Node.Quota, err)
	}
	if cfg, err := Load(Sources{Home: home, Overrides: map[string]any{"quota.experiences": 40}}); err != nil || cfg.Node.Quota.Experiences != 40 {
		t.Fatalf("flag over the file: %+v, %v", cfg.Node.Quota, err)
	}
	_, err := Load(Sources{Home: home, Overrides: map[string]any{"quota.experiences": -1}})
	if err == nil || !strings.Contains(err.Error(), "experiences -1") {
		t.Fatalf("a negative bound: %v", err)
	}
}
