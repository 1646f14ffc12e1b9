package protocol

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteFuzzCorpus regenerates testdata/fuzz seed files when
// KHANTARA_WRITE_CORPUS=1; otherwise it only checks they exist.
func TestWriteFuzzCorpus(t *testing.T) {
	s := exampleAnnouncement(t)
	payload, _ := EncodePayload(s.Announcement())
	env := s.Envelope()
	flipped := append([]byte(nil), env...)
	flipped[len(flipped)-10] ^= 1
	sheet, _ := os.ReadFile("../demo/sheets/vivere-in-italia-lombardy.yaml")
	corpus := map[string]map[string][]byte{
		"FuzzOpen": {
			"example":     env,
			"bad-sig":     flipped,
			"truncated":   env[:len(env)/2],
			"no-envelope": []byte("khantara"),
		},
		"FuzzDecodePayload": {
			"example":   payload,
			"retract":   []byte(`{"v":1,"publisher":"12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7","seq":2,"time":"2026-11-23T09:30:00Z","kind":"retract","retract":{"id":"cric-roubaix"}}`),
			"duplicate": []byte(`{"v":1,"v":2}`),
			"deep":      []byte(`{"practice":{"translations":{"en":{"title":[[[[[[]]]]]]}}}}`),
		},
		"FuzzParseSheet": {
			"demo":    sheet,
			"json":    []byte(`{"id":"abc","title":"x","language":"en","country":"IT","organiser":"o","start_year":2011,"objective":"o","dimensions":["cultural"]}`),
			"aliases": []byte("a: &a [*a, *a]\nb: &b [*a, *a]\n"),
			"tabs":    []byte("id:\t\"x\"\n\t- y\n"),
		},
	}
	// Records of organisations (orgSeeds): envelopes and their payloads.
	for i, sg := range orgSeeds(t) {
		name := fmt.Sprintf("org-%d-%s", i, sg.Announcement().Kind)
		corpus["FuzzOpen"][name] = sg.Envelope()
		b, err := EncodePayload(sg.Announcement())
		if err != nil {
			t.Fatal(err)
		}
		corpus["FuzzDecodePayload"][name] = b
	}
	for target, entries := range corpus {
		for name, data := range entries {
			path := filepath.Join("testdata", "fuzz", target, name)
			if os.Getenv("KHANTARA_WRITE_CORPUS") == "" {
				if _, err := os.Stat(path); err != nil {
					t.Errorf("seed corpus file missing: %v (regenerate with KHANTARA_WRITE_CORPUS=1)", err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
