package config

import (
	"fmt"
	"strings"
	"testing"
)

// A search reads its fields from a YAML map (JSON numbers) or from --set
// (strings); its grid is the experiment's sizes, its repeats the
// experiment's.
func TestSearchIsRead(t *testing.T) {
	src := testSource(t)
	for _, raw := range []string{
		`{"minMiB": 512, "maxMiB": 2048, "resolutionMiB": 256, "repeats": 2}`,
		`{"minMiB": "512", "maxMiB": "2048", "resolutionMiB": "256", "repeats": "2"}`,
	} {
		e, err := Parse(map[string]string{"search": raw, "profiles": "bare,docker"}, src)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if e.Search == nil || *e.Search != (Search{MinMiB: 512, MaxMiB: 2048, ResolutionMiB: 256, Repeats: 2}) {
			t.Errorf("%s: search %+v", raw, e.Search)
		}
		if got := fmt.Sprint(e.Sizes()); got != "[512 768 1024 1280 1536 1792 2048]" {
			t.Errorf("grid %s", got)
		}
		if e.Repeats != 2 || e.NodeCount() != 2*7*2 {
			t.Errorf("repeats %d, nodes %d", e.Repeats, e.NodeCount())
		}
	}
	e, err := Parse(map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024}`}, src)
	if err != nil || e.Search.ResolutionMiB != DefaultSearchResolutionMiB || e.Search.Repeats != 1 || len(e.Sizes()) != 9 {
		t.Errorf("defaults: %+v %v", e.Search, err)
	}
}

// Every bad search is refused in one line naming its field, or the key it
// cannot go with.
func TestBadSearchesFailWithOneLineNamingTheField(t *testing.T) {
	for _, c := range []struct {
		name   string
		values map[string]string
		key    string
		hint   string
	}{
		{"not a map", map[string]string{"search": "512..2048"}, "search", "want a map"},
		{"min missing", map[string]string{"search": `{"maxMiB": 2048}`}, "search.minMiB", "missing"},
		{"max missing", map[string]string{"search": `{"minMiB": 512}`}, "search.maxMiB", "missing"},
		{"unknown field", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "step": 64}`}, "search.step", "known: maxMiB, minMiB"},
		{"min below the least", map[string]string{"search": `{"minMiB": 64, "maxMiB": 1024}`}, "search.minMiB", "want 128 to"},
		{"max beyond the bound", map[string]string{"search": `{"minMiB": 512, "maxMiB": 2097152}`}, "search.maxMiB", "out of range"},
		{"min a fraction", map[string]string{"search": `{"minMiB": 512.5, "maxMiB": 1024}`}, "search.minMiB", "whole number"},
		{"min a word", map[string]string{"search": `{"minMiB": "half a gig", "maxMiB": 1024}`}, "search.minMiB", "whole number"},
		{"min a list", map[string]string{"search": `{"minMiB": [512], "maxMiB": 1024}`}, "search.minMiB", "whole number"},
		{"min equals max", map[string]string{"search": `{"minMiB": 1024, "maxMiB": 1024}`}, "search.maxMiB", "not above minMiB 1024"},
		{"min above max", map[string]string{"search": `{"minMiB": 2048, "maxMiB": 1024}`}, "search.maxMiB", "not above"},
		{"resolution zero", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "resolutionMiB": 0}`}, "search.resolutionMiB", "1 to"},
		{"resolution negative", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "resolutionMiB": -64}`}, "search.resolutionMiB", "out of range"},
		{"resolution not dividing", map[string]string{"search": `{"minMiB": 512, "maxMiB": 2048, "resolutionMiB": 100}`}, "search.resolutionMiB", "96 or 128 would"},
		{"resolution beyond the range", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "resolutionMiB": 1024}`}, "search.resolutionMiB", "512 would"},
		{"default resolution not dividing", map[string]string{"search": `{"minMiB": 500, "maxMiB": 1000}`}, "search.resolutionMiB", "64 does not divide 500..1000"},
		{"grid too fine", map[string]string{"search": `{"minMiB": 256, "maxMiB": 4096, "resolutionMiB": 1}`}, "search.resolutionMiB", "more than 128"},
		{"repeats zero", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "repeats": 0}`}, "search.repeats", "1 to"},
		{"with a sweep", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024}`, "memorySizesMiB": "[512]"}, "search", "memorySizesMiB, not both"},
		{"with a size", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024}`, "memoryMiB": "1024"}, "search", "memoryMiB, not both"},
		{"with repeats", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024}`, "repeats": "2"}, "search", "footprint:search.repeats"},
		{"grid too big for the subnet", map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "resolutionMiB": 64}`, "networkCidr": "10.1.2.0/28"},
			"networkCidr", "needs 9 (a search gives every size of its grid an address: 1 system(s) × 9 sizes × 1 repeat(s))"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.values, testSource(t))
			if err == nil {
				t.Fatalf("accepted %v", c.values)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "footprint:"+c.key+": ") || !strings.Contains(msg, c.hint) {
				t.Errorf("message %q: want one line starting footprint:%s: and holding %q", msg, c.key, c.hint)
			}
		})
	}
}

// --set search.minMiB=... overrides one field of the stack file's search.
func TestSearchFieldsCanBeSetOneByOne(t *testing.T) {
	values := map[string]string{"search": `{"minMiB":512,"maxMiB":2048}`}
	if err := ParseOverrides(values, []string{"search.minMiB=1024", "search.resolutionMiB=512"}); err != nil {
		t.Fatal(err)
	}
	e, err := Parse(values, testSource(t))
	if err != nil || *e.Search != (Search{MinMiB: 1024, MaxMiB: 2048, ResolutionMiB: 512, Repeats: 1}) {
		t.Errorf("search %+v, %v", e.Search, err)
	}
}

// A search's whole grid is never created at once: outside footprint run,
// which names each wave's nodes, it is refused, naming the key.
func TestSearchNodesAreNamedEachWave(t *testing.T) {
	e, err := Parse(map[string]string{"search": `{"minMiB": 512, "maxMiB": 1024, "resolutionMiB": 128}`}, testSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CheckSearchNodes(); err == nil || !strings.HasPrefix(err.Error(), "footprint:search: a search runs under `footprint run`") ||
		!strings.Contains(err.Error(), "(5 machines)") {
		t.Errorf("under pulumi up: %v", err)
	}
	if err := (Experiment{}).CheckSearchNodes(); err != nil {
		t.Errorf("without a search: %v", err)
	}
}
