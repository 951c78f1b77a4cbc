package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// SectionKey is the full name of a key of a backend's section, as errors
// name it: footprint:libvirt.uri, or footprint:libvirt for k "".
func SectionKey(section, k string) string {
	if k == "" {
		return Namespace + ":" + section
	}
	return Namespace + ":" + section + "." + k
}

// ApplySection gives a backend's section, parsed from JSON, to set one key
// at a time in sorted order, each value as a trimmed string (a number as
// written); a value that is neither fails with name(key), as every error
// of set is wrapped with it.
func ApplySection(m map[string]any, name func(key string) string, set func(key, value string) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := m[k].(string)
		if f, num := m[k].(float64); num {
			v, ok = strconv.FormatFloat(f, 'f', -1, 64), true
		}
		if !ok {
			return fmt.Errorf("%s: want a string, not %v", name(k), m[k])
		}
		if err := set(k, strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("%s: %w", name(k), err)
		}
	}
	return nil
}
