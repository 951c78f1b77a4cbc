package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// KeySearch asks, per system, for the smallest VM size at which it works,
// instead of measuring given sizes: footprint tries sizes of a grid, wave
// after wave, until each system's threshold is pinned to one step.
const KeySearch = "search"

// Fields of footprint:search.
const (
	SearchMinMiB        = "minMiB"
	SearchMaxMiB        = "maxMiB"
	SearchResolutionMiB = "resolutionMiB"
	SearchRepeats       = "repeats"
)

// DefaultSearchResolutionMiB is the step of a search that names none.
const DefaultSearchResolutionMiB = 64

// MaxSearchSizes bounds a search's grid: every size of it is planned, with
// its own node name, address and user-data per system, in each wave's
// program, though a search tries only about log2 of them.
const MaxSearchSizes = 128

// Search is footprint:search: the sizes MinMiB, MinMiB+ResolutionMiB, ...,
// MaxMiB, each tried Repeats times (a size works only if every repeat does).
type Search struct {
	MinMiB        int `json:"minMiB"`
	MaxMiB        int `json:"maxMiB"`
	ResolutionMiB int `json:"resolutionMiB"`
	Repeats       int `json:"repeats"`
}

// Grid is every size the search may try, smallest first.
func (s Search) Grid() []int {
	var out []int
	for v := s.MinMiB; v <= s.MaxMiB && s.ResolutionMiB > 0; v += s.ResolutionMiB {
		out = append(out, v)
	}
	return out
}

// namedError names its key in full already (footprint:search.minMiB), so
// Parse passes it on without naming the key again.
type namedError struct{ error }

func (e namedError) Unwrap() error { return e.error }

// keyError is err named after key, unless it names its own key.
func keyError(key string, err error) error {
	var named namedError
	if errors.As(err, &named) {
		return err
	}
	return fmt.Errorf("%s:%s: %w", Namespace, key, err)
}

// searchError is an error about one field of footprint:search.
func searchError(field, format string, a ...any) error {
	return namedError{fmt.Errorf("%s: %s", SectionKey(KeySearch, field), fmt.Sprintf(format, a...))}
}

// searchFields are the fields with their bounds, in the order they are
// checked.
var searchFields = []struct {
	name   string
	lo, hi int
	set    func(*Search, int)
}{
	{SearchMaxMiB, MinMemoryMiB, MaxMemoryMiB, func(s *Search, v int) { s.MaxMiB = v }},
	{SearchMinMiB, MinMemoryMiB, MaxMemoryMiB, func(s *Search, v int) { s.MinMiB = v }},
	{SearchRepeats, 1, MaxRepeats, func(s *Search, v int) { s.Repeats = v }},
	{SearchResolutionMiB, 1, MaxMemoryMiB, func(s *Search, v int) { s.ResolutionMiB = v }},
}

func parseSearch(e *Experiment, raw string, _ Source) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return fmt.Errorf("want a map such as {minMiB: 512, maxMiB: 2048, resolutionMiB: 64, repeats: 1}, not %q", raw)
	}
	s, err := searchOf(m)
	if err != nil {
		return err
	}
	if err := s.check(); err != nil {
		return err
	}
	e.Search = &s
	e.Repeats = s.Repeats
	return nil
}

// searchOf reads the fields, each a whole number within its bounds.
func searchOf(m map[string]any) (Search, error) {
	s := Search{ResolutionMiB: DefaultSearchResolutionMiB, Repeats: 1}
	known := make([]string, 0, len(searchFields))
	for _, f := range searchFields {
		known = append(known, f.name)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i := indexOfField(k)
		if i < 0 {
			return Search{}, searchError(k, "unknown field (known: %s)", strings.Join(known, ", "))
		}
		f := searchFields[i]
		v, err := wholeNumber(m[k])
		if err != nil {
			return Search{}, searchError(k, "%v", err)
		}
		if v < f.lo || v > f.hi {
			return Search{}, searchError(k, "%d is out of range (want %d to %d)", v, f.lo, f.hi)
		}
		f.set(&s, v)
	}
	for _, f := range []string{SearchMinMiB, SearchMaxMiB} {
		if _, ok := m[f]; !ok {
			return Search{}, searchError(f, "missing (the search tries sizes from minMiB to maxMiB)")
		}
	}
	return s, nil
}

func indexOfField(name string) int {
	for i, f := range searchFields {
		if f.name == name {
			return i
		}
	}
	return -1
}

// wholeNumber is a field's value: a JSON number (a YAML map's) or a string
// of digits (--set search.minMiB=512).
func wholeNumber(v any) (int, error) {
	switch t := v.(type) {
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > math.MaxInt32 {
			return 0, fmt.Errorf("%v is not a whole number of MiB", t)
		}
		return int(t), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number of MiB", t)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not a whole number of MiB", v)
}

// check: the range holds at least two sizes, maxMiB is one of them, and
// the grid is small enough to plan.
func (s Search) check() error {
	if s.MaxMiB <= s.MinMiB {
		return searchError(SearchMaxMiB, "%d is not above minMiB %d (a search needs a range of sizes)", s.MaxMiB, s.MinMiB)
	}
	span := s.MaxMiB - s.MinMiB
	if span%s.ResolutionMiB != 0 {
		return searchError(SearchResolutionMiB, "%d does not divide %d..%d MiB (%d MiB) into whole steps, so maxMiB would never be tried; %s would",
			s.ResolutionMiB, s.MinMiB, s.MaxMiB, span, divisorsNear(span, s.ResolutionMiB))
	}
	if n := span/s.ResolutionMiB + 1; n > MaxSearchSizes {
		return searchError(SearchResolutionMiB, "%d makes %d sizes from %d to %d MiB, more than %d; a coarser step costs few waves (a search tries about log2 of the sizes)",
			s.ResolutionMiB, n, s.MinMiB, s.MaxMiB, MaxSearchSizes)
	}
	return nil
}

// divisorsNear names the divisors of span nearest below and above want.
func divisorsNear(span, want int) string {
	below, above := 0, 0
	for d := 1; d <= span; d++ {
		if span%d != 0 {
			continue
		}
		if d < want {
			below = d
		} else if above == 0 {
			above = d
		}
	}
	switch {
	case below > 0 && above > 0:
		return fmt.Sprintf("%d or %d", below, above)
	case above > 0:
		return strconv.Itoa(above)
	}
	return strconv.Itoa(below)
}

// checkSearch: a search chooses the sizes and repeats itself, so the keys
// that set them are refused beside it rather than one silently winning.
func (e Experiment) checkSearch(values map[string]string) error {
	if e.Search == nil {
		return nil
	}
	for _, k := range []string{KeyMemoryMiB, KeyMemorySizesMiB} {
		if _, set := values[k]; set {
			return fmt.Errorf("%s:%s: set either it or %s, not both (the search chooses the sizes it tries)", Namespace, KeySearch, k)
		}
	}
	if _, set := values[KeyRepeats]; set {
		return fmt.Errorf("%s:%s: a search's repeats are %s; remove %s:%s", Namespace, KeySearch, SectionKey(KeySearch, SearchRepeats), Namespace, KeyRepeats)
	}
	return nil
}

// searchNote says why a search needs an address for sizes it may never try.
func (e Experiment) searchNote() string {
	if e.Search == nil {
		return ""
	}
	return fmt.Sprintf(" (a search gives every size of its grid an address: %d system(s) × %d sizes × %d repeat(s))", len(e.Profiles), len(e.Sizes()), e.Repeats)
}

// CheckSearchNodes refuses to create a search's whole grid at once: only
// `footprint run` searches, creating the sizes it tries wave by wave; the
// program alone (plain `pulumi up`) would create every size of it.
func (e Experiment) CheckSearchNodes() error {
	if e.Search == nil {
		return nil
	}
	return fmt.Errorf("%s:%s: a search runs under `footprint run`, which creates the sizes it tries wave by wave; `pulumi up` would create every size of the grid at once (%d machines)",
		Namespace, KeySearch, e.NodeCount())
}
