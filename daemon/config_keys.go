package daemon

import (
	"fmt"
	"strings"

	"github.com/khantara/khantara/protocol"
)

// lookupSetting returns the setting of key, or whether key is a section
// such as trust.
func lookupSetting(key string) (s *setting, isSection bool) {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i], false
		}
		if strings.HasPrefix(settings[i].key, key+".") {
			isSection = true
		}
	}
	return nil, isSection
}

// sectionKeys are the keys directly inside section ("" for the top
// level), sections included, in table order.
func sectionKeys(section string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, s := range settings {
		rest, ok := s.key, section == ""
		if !ok {
			rest, ok = strings.CutPrefix(s.key, section+".")
		}
		if !ok {
			continue
		}
		k, _, _ := strings.Cut(rest, ".")
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// unknownKey says that key is not a configuration key, suggesting the
// closest one and listing the keys at its level.
func unknownKey(key string) string {
	section, leaf := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		section, leaf = key[:i], key[i+1:]
	}
	known := "known keys: " + strings.Join(sectionKeys(section), ", ")
	if section != "" {
		known = "known keys under " + section + ": " + strings.Join(sectionKeys(section), ", ")
	}
	if s := closestKey(key, leaf); s != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q? (%s)", key, s, known)
	}
	return fmt.Sprintf("unknown key %q (%s)", key, known)
}

// closestKey is the setting key nearest to key (or whose last part is
// nearest to leaf, the last part of key), or "" when none is near.
func closestKey(key, leaf string) string {
	best, bestDist := "", 3
	for _, s := range settings {
		sLeaf := s.key[strings.LastIndexByte(s.key, '.')+1:]
		d := min(protocol.EditDistance(key, s.key), protocol.EditDistance(leaf, sLeaf))
		if d < bestDist && d <= len(sLeaf)/2 {
			best, bestDist = s.key, d
		}
	}
	return best
}
